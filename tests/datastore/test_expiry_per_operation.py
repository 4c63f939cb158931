"""Every operation, called first after a dataset expired, sees it gone (no other call sweeps it before)."""

from __future__ import annotations

import pytest
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip
from lsst.resources import ResourcePath

from tests._helpers import make_metrics

LIMIT = 10


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def expiring(make_datastore):
    datastore = make_datastore(expire_after=LIMIT)
    datastore.clock = FakeClock()
    return datastore


@pytest.fixture
def expired(expiring, make_ref):
    """A dataset stored in the expiring datastore, now too old; nothing has looked at it since."""
    ref = make_ref()
    expiring.put(make_metrics(), ref)
    expiring.clock.now += LIMIT + 1
    return ref


def test_knows(expiring, expired):
    assert not expiring.knows(expired)


def test_get(expiring, expired):
    with pytest.raises(FileNotFoundError):
        expiring.get(expired)


def test_get_uris(expiring, expired):
    with pytest.raises(FileNotFoundError):
        expiring.getURIs(expired)


def test_trash(expiring, expired):
    with pytest.raises(FileNotFoundError):
        expiring.trash(expired, ignore_errors=False)


def test_stored_refs(expiring, expired):
    assert expiring.stored_refs() == []


def test_trashed_refs(expiring, make_ref):
    ref = make_ref()
    expiring.put(make_metrics(), ref)
    expiring.trash(ref)
    expiring.clock.now += LIMIT + 1
    assert expiring.trashed_refs() == []


def test_file_information_for_transfer(expiring, expired):
    assert expiring.get_file_info_for_transfer([expired.id]) == {}


def test_retrieve_artifacts(expiring, expired, tmp_path):
    with pytest.raises(FileNotFoundError):
        expiring.retrieveArtifacts([expired], ResourcePath(tmp_path, forceDirectory=True), transfer="copy")


def test_transfer_from_brings_an_expired_dataset_back(expiring, expired, make_datastore):
    source = make_datastore()
    source.put(make_metrics(), expired)
    accepted, _ = expiring.transfer_from(source.get_file_info_for_transfer([expired.id]), [expired])
    assert accepted == {expired}
    assert expiring.get(expired) == make_metrics()


def test_ingest_zip_brings_an_expired_dataset_back(expiring, expired, make_datastore, tmp_path):
    source = make_datastore()
    source.put(make_metrics(), expired)
    archive = retrieve_and_zip([expired], tmp_path / "zip", source.retrieveArtifacts)
    expiring.ingest_zip(archive, transfer="copy")
    assert expiring.get(expired) == make_metrics()


def test_snapshot_leaves_out_what_expired(expiring, expired, make_datastore):
    # Restored into a datastore that never expires anything, it would live again.
    other = make_datastore()
    other.restore(expiring.snapshot())
    assert not other.exists(expired)

"""Datastores opened on one repository root can share their datasets."""

from __future__ import annotations

import pytest
from lsst.daf.butler import Butler, Config, DatasetType
from lsst.daf.butler.datastore import Datastore, DatastoreConfig, DatastoreValidationError

from butler_testkit.datastore import release_shared_state, shared_state_roots
from tests._helpers import make_metrics


@pytest.fixture
def open_shared(registry, tmp_path):
    opened_roots = []

    def open_at(root, **config):
        opened_roots.append(root)
        return Datastore.fromConfig(
            DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "shared": True, **config}),
            registry.getDatastoreBridgeManager(),
            butlerRoot=str(root),
        )

    yield open_at
    for root in opened_roots:
        release_shared_state(str(root))


def test_datastores_on_one_root_see_the_same_datasets(open_shared, tmp_path, make_ref):
    first, second = open_shared(tmp_path / "repo"), open_shared(tmp_path / "repo")
    ref = make_ref()
    first.put(make_metrics(), ref)
    assert second.get(ref) == make_metrics()
    second.trash(ref)
    assert first.trashed_refs() == [ref]


def test_different_roots_are_separate(open_shared, tmp_path, make_ref):
    first, other = open_shared(tmp_path / "a"), open_shared(tmp_path / "b")
    ref = make_ref()
    first.put(make_metrics(), ref)
    assert not other.exists(ref)


def test_unshared_datastores_are_separate(make_datastore, make_ref):
    first, second = make_datastore(), make_datastore()
    ref = make_ref()
    first.put(make_metrics(), ref)
    assert not second.exists(ref)


def test_release_starts_the_root_afresh(open_shared, tmp_path, make_ref):
    root = tmp_path / "repo"
    first = open_shared(root)
    ref = make_ref()
    first.put(make_metrics(), ref)
    assert any(key.endswith("/repo/") for key in shared_state_roots())
    assert release_shared_state(str(root)) is True
    assert release_shared_state(str(root)) is False
    assert first.exists(ref)  # a datastore keeps what it holds
    assert not open_shared(root).exists(ref)


def test_root_spellings_name_the_same_repository(open_shared, tmp_path, make_ref):
    first = open_shared(tmp_path / "repo")
    second = open_shared(f"file://{tmp_path}/repo/")
    ref = make_ref()
    first.put(make_metrics(), ref)
    assert second.exists(ref)


def test_shared_needs_a_root(registry):
    config = DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "shared": True})
    with pytest.raises(DatastoreValidationError, match="repository root"):
        Datastore.fromConfig(config, registry.getDatastoreBridgeManager())


@pytest.mark.parametrize("value", ["yes", 1])
def test_shared_must_be_a_boolean(registry, tmp_path, value):
    config = DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "shared": value})
    with pytest.raises(DatastoreValidationError, match="'shared' must be true or false"):
        Datastore.fromConfig(config, registry.getDatastoreBridgeManager(), butlerRoot=str(tmp_path))


def test_two_butlers_on_one_repository_share_datasets(tmp_path):
    config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore", "shared": True}})
    Butler.makeRepo(str(tmp_path), config=config)
    try:
        with Butler.from_config(str(tmp_path), writeable=True, run="run") as writer:
            dataset_type = DatasetType("plain", writer.dimensions.empty, "BtkDict")
            writer.registry.registerDatasetType(dataset_type)
            ref = writer.put({"a": 1}, dataset_type)
        with Butler.from_config(str(tmp_path)) as reader:
            assert reader.get(ref) == {"a": 1}
    finally:
        release_shared_state(str(tmp_path))

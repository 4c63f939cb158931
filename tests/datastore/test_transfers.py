"""transfer_from and export: datasets between our datastore and FileDatastore, both ways."""

from __future__ import annotations

import os

import pytest
from lsst.daf.butler import FileDataset
from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import retrieve_and_zip
from lsst.resources import ResourcePath

from butler_testkit.factories import FORMATTERS, DataIdFactory, RefFactory
from tests._helpers import make_metrics, put_samples
from tests.factories.test_round_trips import SAMPLES, _same

ISOLATIONS = ["copy", "reference", "serialize"]


@pytest.fixture
def refs() -> RefFactory:
    """Expanded refs, which a FileDatastore's file templates need."""
    return RefFactory(DataIdFactory(instrument="LSSTCam", seed=8), seed=8)


def _transfer(source, target, refs, **kwargs):
    files = source.get_file_info_for_transfer([ref.id for ref in refs])
    return target.transfer_from(files, refs, **kwargs)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_from_our_datastore_into_file_datastore(make_datastore, file_datastore, refs, isolation):
    ours, files = make_datastore(isolation=isolation), file_datastore()
    stored = put_samples(ours, refs)
    accepted, rejected = _transfer(ours, files, list(stored.values()))
    assert accepted == set(stored.values()) and rejected == set()
    for storage_class, ref in stored.items():
        assert _same(files.get(ref), SAMPLES[storage_class]), storage_class
        (location, info) = files._get_dataset_locations_info(ref)[0]
        assert info.formatter == FORMATTERS[storage_class]
        # "auto" copied our file: neither a link nor a second name of it.
        assert not os.path.islink(location.uri.ospath)
        assert os.stat(location.uri.ospath).st_nlink == 1
    # The receiver's copies outlive ours.
    for ref in stored.values():
        ours.remove(ref)
    assert _same(files.get(stored["BtkImage"]), SAMPLES["BtkImage"])


@pytest.mark.parametrize("disassemble", [False, True], ids=["whole", "disassembled"])
@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_from_file_datastore_into_ours(make_datastore, file_datastore, refs, isolation, disassemble):
    files, ours = file_datastore(disassemble), make_datastore(isolation=isolation)
    stored = put_samples(files, refs)
    accepted, _ = _transfer(files, ours, list(stored.values()))
    assert accepted == set(stored.values())
    for storage_class, ref in stored.items():
        assert _same(ours.get(ref), SAMPLES[storage_class]), storage_class


def test_from_a_file_datastore_that_ingested_a_zip(datastore, make_datastore, file_datastore, refs, tmp_path):
    ref = refs.ref("metric", storage_class="BtkMetrics")
    datastore.put(make_metrics(), ref)
    files = file_datastore()
    files.ingest_zip(retrieve_and_zip([ref], tmp_path / "zip", datastore.retrieveArtifacts), transfer="copy")
    (record,) = files.get_file_info_for_transfer([ref.id])[ref.id]
    assert "zip-path=" in record.location.uri.fragment  # read out of the zip
    target = make_datastore()
    _transfer(files, target, [ref])
    assert target.get(ref) == make_metrics()


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_between_our_datastores(make_datastore, make_ref, isolation):
    source, target = make_datastore(), make_datastore(isolation=isolation)
    ref = make_ref()
    source.put(make_metrics(), ref)
    _transfer(source, target, [ref])
    assert target.get(ref) == make_metrics()


def test_datasets_already_stored_are_accepted_and_left_alone(datastore, make_datastore, make_ref):
    target = make_datastore()
    ref = make_ref()
    datastore.put(make_metrics(1), ref)
    target.put(make_metrics(2), ref)
    accepted, rejected = target.transfer_from({}, [ref])
    assert (accepted, rejected) == ({ref}, set())
    assert target.get(ref) == make_metrics(2)


@pytest.mark.parametrize("receiver", ["ours", "file"])
def test_a_dataset_given_twice_is_transferred_once(datastore, make_datastore, file_datastore, refs, receiver):
    ref = refs.ref("metric", storage_class="BtkMetrics")
    datastore.put(make_metrics(), ref)
    target = make_datastore() if receiver == "ours" else file_datastore()
    accepted, rejected = _transfer(datastore, target, [ref, ref])
    assert (accepted, rejected) == ({ref}, set())
    assert target.get(ref) == make_metrics()


def test_rejected_datasets_are_reported_not_stored(datastore, make_datastore, make_ref):
    picky = make_datastore(constraints={"reject": ["rejected"]})
    kept, rejected = make_ref(), make_ref("rejected")
    datastore.put(make_metrics(), kept)
    datastore.put(make_metrics(), rejected)
    accepted, refused = _transfer(datastore, picky, [kept, rejected])
    assert (accepted, refused) == ({kept}, {rejected})
    assert picky.stored_refs() == [kept]


def test_a_dry_run_stores_nothing(datastore, make_datastore, make_ref):
    target = make_datastore()
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    accepted, _ = _transfer(datastore, target, [ref], dry_run=True)
    assert accepted == {ref}
    assert not target.exists(ref)
    assert target.transfer_from({}, []) == (set(), set())


def test_a_transfer_is_rolled_back_with_its_transaction(datastore, make_datastore, make_ref):
    target = make_datastore()
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(RuntimeError), target.transaction():
        _transfer(datastore, target, [ref])
        raise RuntimeError("roll back")
    assert not target.exists(ref)


# Export, as Butler.export calls it.


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_export_writes_files_that_ingest_reads_back(make_datastore, make_ref, tmp_path, isolation):
    source = make_datastore(isolation=isolation)
    refs = [make_ref(), make_ref(storage_class="BtkDict", name="plain")]
    source.put(make_metrics(), refs[0])
    source.put({"a": [1, 2]}, refs[1])
    datasets = source.export(
        [refs[0].makeComponentRef("data"), refs[1]], directory=str(tmp_path), transfer="copy"
    )
    assert [dataset.refs for dataset in datasets] == [[refs[0]], [refs[1]]]
    assert all(not ResourcePath(dataset.path, forceAbsolute=False).isabs() for dataset in datasets)
    assert [dataset.formatter for dataset in datasets] == [FORMATTERS["BtkMetrics"], FORMATTERS["BtkDict"]]
    for dataset in datasets:
        dataset.path = str(tmp_path / dataset.path)
    target = make_datastore()
    target.ingest(*datasets, transfer="copy")
    assert target.get(refs[0]) == make_metrics()
    assert target.get(refs[1]) == {"a": [1, 2]}


@pytest.mark.parametrize("transfer", [None, "direct", "auto"])
def test_export_without_copying_names_the_datastores_own_files(datastore, make_ref, transfer):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    (dataset,) = datastore.export([ref], transfer=transfer)
    uri = ResourcePath(dataset.path)
    assert uri.isabs() and uri.exists()
    assert dataset.formatter == FORMATTERS["BtkMetrics"]
    datastore.remove(ref)
    assert not uri.exists()


def test_export_refuses_an_existing_file_and_writes_nothing(datastore, make_ref, tmp_path):
    first, second = make_ref(), make_ref()
    datastore.put(make_metrics(1), first)
    datastore.put(make_metrics(2), second)
    (exported,) = datastore.export([second], directory=str(tmp_path), transfer="copy")
    with pytest.raises(FileExistsError):
        datastore.export([first, second], directory=str(tmp_path), transfer="copy")
    written = [os.path.join(d, name) for d, _, names in os.walk(tmp_path) for name in names]
    assert written == [str(tmp_path / exported.path)]


def test_export_into_a_missing_directory_fails(datastore, make_ref, tmp_path):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datastore.export([ref], directory=str(tmp_path / "nowhere"), transfer="copy")


def test_a_file_export_ingests_into_ours_as_file_datasets(make_datastore, file_datastore, refs, tmp_path):
    files = file_datastore()
    ref = refs.ref("metric", storage_class="BtkMetrics")
    files.put(make_metrics(), ref)
    (dataset,) = files.export([ref], directory=str(tmp_path), transfer="copy")
    target = make_datastore()
    target.ingest(
        FileDataset(path=str(tmp_path / dataset.path), refs=dataset.refs, formatter=dataset.formatter),
        transfer="move",
    )
    assert target.get(ref) == make_metrics()

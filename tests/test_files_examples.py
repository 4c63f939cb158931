"""The examples of docs/files.md, which includes them from here, so that they are always tested."""

# Each section is shown on its own in the docs, with the imports it needs.
# ruff: noqa: E402

from __future__ import annotations

# --- serialize ---
import pytest

from butler_testkit import UnserializableDatasetError


@pytest.mark.butler_datastore(isolation="serialize")
def test_serialize_fails_where_production_fails(butler_datastore, butler_refs):
    ref = butler_refs.ref("config", storage_class="BtkDict")
    with pytest.raises(UnserializableDatasetError, match="CatalogueJsonFormatter"):
        butler_datastore.put({"callback": print}, ref)  # JSON cannot hold a function
    assert not butler_datastore.exists(ref)

    butler_datastore.put({1: (2, 3)}, ref)
    assert butler_datastore.get(ref) == {"1": [2, 3]}  # what a JSON file gives back


# --- end serialize ---

# --- capacity ---
import errno


@pytest.mark.butler_datastore(capacity_bytes=100)
def test_a_full_disk(butler_datastore, butler_refs):
    first, second = butler_refs.refs("plain", 2, storage_class="BtkDict")
    butler_datastore.put({"pixels": "x" * 60}, first)  # 74 bytes of JSON
    with pytest.raises(OSError) as failure:  # noqa: PT011 - the errno is checked
        butler_datastore.put({"pixels": "y" * 60}, second)
    assert failure.value.errno == errno.ENOSPC
    assert not butler_datastore.exists(second)

    butler_datastore.remove(first)  # frees its 74 bytes
    butler_datastore.put({"pixels": "y" * 60}, second)


# --- end capacity ---

# --- zip ---
from lsst.daf.butler import Butler, Config

from butler_testkit.factories import FORMATTERS


def file_repository(root) -> Butler:
    """A repository on upstream's FileDatastore that can write the catalogue."""
    Butler.makeRepo(str(root), config=Config({"datastore": {"formatters": dict(FORMATTERS)}}))
    return Butler.from_config(str(root), writeable=True)


VISIT_SUMMARY = {"instrument": "HSC", "visits": 2, "dataset_types": {"summary": ("BtkDict", ["visit"])}}


@pytest.mark.butler_repo(**VISIT_SUMMARY)
def test_a_zip_from_memory_to_files_and_back(butler, butler_repo, butler_repo_factory, tmp_path):
    data_id = butler_repo.seeded.data_ids("visit")[0]
    ref = butler.put({"median": 10.0}, "summary", data_id)
    archive = butler.retrieve_artifacts_zip([ref], destination=tmp_path / "zips")

    with file_repository(tmp_path / "files") as files:
        files.ingest_zip(archive, transfer_dimensions=True)
        assert files.get(ref) == {"median": 10.0}
        from_files = files.retrieve_artifacts_zip([ref], destination=tmp_path / "from-files")

    empty = butler_repo_factory(**VISIT_SUMMARY)
    empty.butler.ingest_zip(from_files)
    assert empty.butler.get(ref) == {"median": 10.0}


# --- end zip ---

# --- ingest ---
from lsst.daf.butler import DatasetRef, FileDataset


@pytest.mark.butler_repo(instrument="HSC", visits=1, detectors=1, dataset_types={"summary": "BtkDict"})
def test_ingest_a_file(butler, butler_repo, tmp_path):
    path = tmp_path / "summary.json"
    path.write_text('{"median": 10.0}')
    (data_id,) = butler_repo.seeded.data_ids("visit", "detector")
    ref = DatasetRef(butler.get_dataset_type("summary"), data_id, run=butler.run)

    butler.ingest(FileDataset(path=str(path), refs=[ref]), transfer="move")

    assert butler.get(ref) == {"median": 10.0}  # read through the JSON formatter
    assert not path.exists()  # moved into memory


# --- end ingest ---


# --- export ---
def test_export_and_import_between_butlers(butler_repo_factory, tmp_path):
    source, target = butler_repo_factory(**VISIT_SUMMARY), butler_repo_factory(instrument="HSC")
    refs = [
        source.butler.put({"visit": data_id["visit"]}, "summary", data_id)
        for data_id in source.seeded.data_ids("visit")
    ]

    with source.butler.export(directory=str(tmp_path), filename="export.yaml", transfer="auto") as export:
        export.saveDatasets(refs)  # writes each dataset as a file, and the data IDs' records
    target.butler.import_(directory=str(tmp_path), filename="export.yaml", transfer="auto")

    assert [target.butler.get(ref) for ref in refs] == [source.butler.get(ref) for ref in refs]


# --- end export ---

# --- transfer ---


@pytest.mark.butler_repo(**VISIT_SUMMARY)
def test_transfer_both_ways(butler, butler_repo, butler_repo_factory, tmp_path):
    data_ids = butler_repo.seeded.data_ids("visit")
    refs = [butler.put({"n": n}, "summary", data_id) for n, data_id in enumerate(data_ids)]

    with file_repository(tmp_path / "files") as files:
        files.transfer_from(butler, refs, register_dataset_types=True, transfer_dimensions=True)
        assert [files.get(ref) for ref in refs] == [{"n": 0}, {"n": 1}]

        back = butler_repo_factory(instrument="HSC")
        back.butler.transfer_from(files, refs, register_dataset_types=True, transfer_dimensions=True)
        assert [back.butler.get(ref) for ref in refs] == [{"n": 0}, {"n": 1}]


# --- end transfer ---

# --- records ---
from lsst.daf.butler.datastore import Datastore, DatastoreConfig


def test_records_carry_datasets_between_datastores(butler_refs, butler_bridge_manager):
    def datastore() -> Datastore:
        config = DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore", "name": "pipeline"})
        return Datastore.fromConfig(config, butler_bridge_manager)

    producer, consumer = datastore(), datastore()
    ref = butler_refs.ref("summary", storage_class="BtkDict")
    producer.put({"median": 10.0}, ref)

    records = producer.export_records([ref])  # {"pipeline": DatastoreRecordData}
    consumer.import_records(records)  # reads the file the record names

    assert consumer.get(ref) == {"median": 10.0}


# --- end records ---

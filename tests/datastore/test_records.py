"""Datastore records that carry datasets between in-memory datastores."""

from __future__ import annotations

import json

import pytest
from lsst.daf.butler.datastore.record_data import DatastoreRecordData, SerializedDatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.daf.butler.registry.interfaces import FakeDatasetRef
from lsst.resources import ResourcePath

from butler_testkit.datastore import StoredDatasetRefInfo
from butler_testkit.factories import FORMATTERS
from tests._helpers import make_metrics

ISOLATIONS = ["copy", "reference", "serialize"]


def _through_json(records: dict[str, DatastoreRecordData]) -> dict[str, DatastoreRecordData]:
    """What a quantum graph or a provenance file does to records: JSON and back."""
    return {
        name: DatastoreRecordData.from_simple(
            SerializedDatastoreRecordData.model_validate_json(
                json.dumps(data.to_simple().model_dump(mode="json"))
            )
        )
        for name, data in records.items()
    }


@pytest.mark.parametrize("target_isolation", ISOLATIONS)
@pytest.mark.parametrize("source_isolation", ISOLATIONS)
def test_exported_records_import_the_datasets_into_a_datastore_of_the_same_name(
    make_datastore, make_ref, source_isolation, target_isolation
):
    source = make_datastore(name="shared-name", isolation=source_isolation)
    target = make_datastore(name="shared-name", isolation=target_isolation)
    refs = [make_ref(), make_ref(storage_class="BtkDict")]
    source.put(make_metrics(3), refs[0])
    source.put({"a": 1}, refs[1])
    records = _through_json(source.export_records(refs))
    target.import_records(records)
    assert target.get(refs[0]) == make_metrics(3)
    assert target.get(refs[1]) == {"a": 1}
    assert target.get(refs[0].makeComponentRef("counter")) == 3
    assert sorted(ref.id for ref in target.stored_refs()) == sorted(ref.id for ref in refs)


def test_a_record_holds_the_reference_and_an_absolute_file(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    (name,) = records = datastore.export_records([ref])
    assert name == datastore.name
    tables = records[name].records[ref.id]
    (info,) = tables["in_memory_datastore_files"]
    (ref_info,) = tables["in_memory_datastore_refs"]
    assert isinstance(info, StoredFileInfo)
    assert info.formatter == FORMATTERS["BtkMetrics"]
    assert info.storage_class_name == "BtkMetrics"
    uri = ResourcePath(info.path)
    assert uri.isabs() and uri.exists()
    assert json.loads(uri.read())["data"] == list(range(5))
    assert info.file_size == len(uri.read())
    assert isinstance(ref_info, StoredDatasetRefInfo)
    assert ref_info.to_ref(ref.dimensions.universe) == ref


def test_records_skip_unknown_and_trashed_datasets_and_take_registry_refs(datastore, make_ref):
    stored, trashed, unknown = make_ref(), make_ref(), make_ref()
    datastore.put(make_metrics(), stored)
    datastore.put(make_metrics(), trashed)
    datastore.trash(trashed)
    records = datastore.export_records([FakeDatasetRef(stored.id), trashed, unknown])
    assert set(records[datastore.name].records) == {stored.id}


def test_records_for_other_datastores_are_ignored(make_datastore, make_ref):
    source, target = make_datastore(name="one"), make_datastore(name="two")
    ref = make_ref()
    source.put(make_metrics(), ref)
    target.import_records(source.export_records([ref]))
    assert not target.exists(ref)
    target.import_records({})
    target.import_records({"two": DatastoreRecordData()})
    assert target.stored_refs() == []


def test_a_removed_dataset_takes_its_file_and_its_records_stop_working(make_datastore, make_ref):
    source, target = make_datastore(name="n"), make_datastore(name="n")
    ref = make_ref()
    source.put(make_metrics(), ref)
    records = source.export_records([ref])
    source.remove(ref)
    with pytest.raises(FileNotFoundError):
        target.import_records(records)
    assert target.stored_refs() == []


def test_an_import_is_all_or_nothing_and_rolled_back_with_its_transaction(make_datastore, make_ref):
    source, target = make_datastore(name="n"), make_datastore(name="n")
    first, second = make_ref(), make_ref()
    source.put(make_metrics(1), first)
    source.put(make_metrics(2), second)
    records = source.export_records([first, second])
    target.put(make_metrics(9), second)
    with pytest.raises(FileExistsError):
        target.import_records(records)
    assert target.stored_refs() == [second]
    target.remove(second)
    with pytest.raises(RuntimeError), target.transaction():
        target.import_records(records)
        assert len(target.stored_refs()) == 2
        raise RuntimeError("roll back")
    assert target.stored_refs() == []


def test_predicted_records_name_the_file_that_export_writes(datastore, make_ref):
    ref, other = make_ref(), make_ref("other")
    # A component predicts its parent's record.
    predicted = datastore.export_predicted_records([ref, other.makeComponentRef("data")])
    (info,) = predicted[datastore.name].records[ref.id]["in_memory_datastore_files"]
    assert info.file_size == -1
    assert not ResourcePath(info.path).exists()
    datastore.put(make_metrics(), ref)
    (actual,) = datastore.export_records([ref])[datastore.name].records[ref.id]["in_memory_datastore_files"]
    assert actual.path == info.path
    assert ResourcePath(info.path).exists()
    assert set(predicted[datastore.name].records) == {ref.id, other.id}


def test_predicted_records_leave_out_what_the_constraints_reject(make_datastore, make_ref):
    picky = make_datastore(constraints={"reject": ["rejected"]})
    kept, rejected = make_ref(), make_ref("rejected")
    records = picky.export_predicted_records([kept, rejected])
    assert set(records[picky.name].records) == {kept.id}


def test_the_imported_dataset_lives_on_after_its_file_goes(make_datastore, make_ref):
    source, target = make_datastore(name="n"), make_datastore(name="n")
    ref = make_ref()
    source.put(make_metrics(), ref)
    target.import_records(source.export_records([ref]))
    source.remove(ref)
    assert target.get(ref) == make_metrics()

"""Upstream's FileDatastore, driven through our fakes only, with no SQL.

Every test checks what the datastore recorded through the fakes'
inspection API: the bridge's inserted and trashed IDs, the rows of the
records table, and the ordered log of bridge operations.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lsst.daf.butler import FileDataset
from lsst.daf.butler.datastore import Datastore, DatastoreConfig

from butler_testkit import ConstraintViolationError, InMemoryDatastore, InMemoryRegistry
from tests._helpers import make_metrics
from tests.bridge._file_configs import JSON_FORMATTER, file_datastore_config

TABLE = "file_datastore_records"
COMPONENTS = {"summary", "output", "data"}
NO_COMPONENT = "__NULL_STRING__"  # what FileDatastore writes for a whole dataset


class DeliberateError(Exception):
    pass


@pytest.fixture(params=[False, True], ids=["whole", "disassembled"])
def disassemble(request):
    return request.param


@pytest.fixture
def store(make_file_datastore, disassemble):
    return make_file_datastore(disassemble=disassemble)


def bridge(manager, datastore):
    return manager.bridges[datastore.name]


def rows_for(manager, ref):
    return list(manager.opaque[TABLE].fetch(dataset_id=ref.id))


def stored_components(manager, ref):
    return {row["component"] for row in rows_for(manager, ref)}


def artifact_paths(datastore, ref):
    primary, components = datastore.getURIs(ref)
    uris = [primary] if primary is not None else list(components.values())
    return [Path(uri.ospath) for uri in uris]


def operations(manager):
    return [(op.operation, op.dataset_ids, op.rollback) for op in manager.operations]


def test_put_get_exists_and_knows_record_the_dataset(store, manager, make_ref, disassemble):
    ref = make_ref()
    store.put(make_metrics(), ref)
    assert store.get(ref) == make_metrics()
    assert store.get(ref.makeComponentRef("data")) == make_metrics().data
    assert store.exists(ref)
    assert store.knows(ref)
    assert bridge(manager, store).inserted_ids == {ref.id}
    assert stored_components(manager, ref) == (COMPONENTS if disassemble else {NO_COMPONENT})
    assert all(path.is_file() for path in artifact_paths(store, ref))
    assert len(artifact_paths(store, ref)) == (3 if disassemble else 1)
    assert manager.findDatastores(ref) == [store.name]
    assert operations(manager) == [("insert", (ref.id,), False)]


def test_a_second_put_of_the_same_dataset_is_refused_by_the_bridge(store, manager, make_ref):
    ref = make_ref()
    store.put(make_metrics(), ref)
    rows = manager.opaque[TABLE].rows
    with pytest.raises(ConstraintViolationError, match=f"insert\\(\\) of dataset {ref.id}, which is already"):
        store.put(make_metrics(7), ref)
    assert manager.opaque[TABLE].rows == rows
    assert bridge(manager, store).inserted_ids == {ref.id}


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="upstream FileDatastore overwrites the artifact, then its rollback of the refused put removes it "
    "(with DummyRegistry too)",
)
def test_a_refused_second_put_keeps_the_stored_artifact(store, make_ref):
    ref = make_ref()
    store.put(make_metrics(), ref)
    paths = artifact_paths(store, ref)
    with pytest.raises(ConstraintViolationError):
        store.put(make_metrics(7), ref)
    assert all(path.exists() for path in paths)


def test_bulk_trash_then_empty_trash_removes_artifacts_rows_and_trash(store, manager, make_ref, disassemble):
    kept, *trashed = refs = [make_ref() for _ in range(3)]
    for ref in refs:
        store.put(make_metrics(), ref)
    paths = {ref: artifact_paths(store, ref) for ref in refs}
    store.trash(trashed)
    files = bridge(manager, store)
    assert files.trashed_ids == {ref.id for ref in trashed}
    assert files.inserted_ids == {kept.id}
    assert all(store.exists(ref) for ref in trashed)  # readable until emptied
    assert manager.findDatastores(trashed[0]) == []

    removed = store.emptyTrash()

    assert {Path(uri.ospath) for uri in removed} == {path for ref in trashed for path in paths[ref]}
    assert len(removed) == (6 if disassemble else 2)
    assert not any(path.exists() for ref in trashed for path in paths[ref])
    assert all(rows_for(manager, ref) == [] for ref in trashed)
    assert files.trashed_ids == set()
    assert not any(store.exists(ref) for ref in trashed)
    assert store.get(kept) == make_metrics()
    assert [op[0] for op in operations(manager)] == ["insert"] * 3 + ["moveToTrash", "emptyTrash"]
    assert set(manager.operations[-1].dataset_ids) == {ref.id for ref in trashed}


def test_single_trash_and_a_selective_empty_trash(store, manager, make_ref):
    first, second = make_ref(), make_ref()
    store.put(make_metrics(), first)
    store.put(make_metrics(), second)
    store.trash(first)
    store.trash(second)
    assert store.emptyTrash(refs=[second])
    assert bridge(manager, store).trashed_ids == {first.id}
    assert store.exists(first)
    assert not store.exists(second)
    store.emptyTrash()
    assert not store.exists(first)


def test_a_dry_run_reports_and_removes_nothing(store, manager, make_ref):
    ref = make_ref()
    store.put(make_metrics(), ref)
    store.trash(ref)
    rows = manager.opaque[TABLE].rows
    would_remove = store.emptyTrash(dry_run=True)
    assert {Path(uri.ospath) for uri in would_remove} == set(artifact_paths(store, ref))
    assert all(path.exists() for path in artifact_paths(store, ref))
    assert manager.opaque[TABLE].rows == rows
    assert bridge(manager, store).trashed_ids == {ref.id}


def test_forget_drops_the_records_and_keeps_the_artifact(store, manager, make_ref):
    ref, other = make_ref(), make_ref()
    store.put(make_metrics(), ref)
    store.put(make_metrics(), other)
    paths = artifact_paths(store, ref)
    store.forget([ref])
    assert not store.knows(ref)
    assert not store.exists(ref)
    assert all(path.exists() for path in paths)
    assert rows_for(manager, ref) == []
    assert bridge(manager, store).inserted_ids == {other.id}
    assert operations(manager)[-1] == ("forget", (ref.id,), False)


@pytest.fixture
def json_file(tmp_path):
    def write(name, data=(1, 2, 3)):
        path = tmp_path / "outside" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"summary": {"n": len(data)}, "output": None, "data": list(data)}))
        return path

    return write


@pytest.mark.parametrize("transfer", ["copy", "move"])
def test_ingest_records_the_file_and_copies_or_moves_it(
    make_file_datastore, manager, make_ref, json_file, transfer
):
    store = make_file_datastore()
    ref = make_ref()
    source = json_file("metrics.json")
    store.ingest(FileDataset(path=str(source), refs=[ref], formatter=JSON_FORMATTER), transfer=transfer)
    assert source.exists() == (transfer == "copy")
    (stored,) = artifact_paths(store, ref)
    assert stored.is_file()
    assert stored.is_relative_to(Path(store.root.ospath))
    assert store.get(ref).data == [1, 2, 3]
    (row,) = rows_for(manager, ref)
    assert row["path"] == str(stored.relative_to(store.root.ospath))
    assert row["formatter"] == JSON_FORMATTER
    assert bridge(manager, store).inserted_ids == {ref.id}


@pytest.mark.parametrize("ephemeral", [False, True], ids=["persistent", "ephemeral"])
def test_an_artifact_shared_by_two_datasets_lives_until_both_are_trashed(tmp_path, make_ref, ephemeral):
    # The persistent bridge tells FileDatastore which artifacts live datasets
    # still use; with the ephemeral one, FileDatastore looks them up by path.
    manager = InMemoryRegistry(ephemeral=ephemeral).getDatastoreBridgeManager()
    store = Datastore.fromConfig(DatastoreConfig(file_datastore_config(str(tmp_path / "repo"))), manager)
    shared = Path(store.root.ospath) / "shared.json"
    shared.write_text(json.dumps({"summary": {}, "output": None, "data": [9]}))
    first, second = make_ref(), make_ref()
    store.ingest(FileDataset(path=str(shared), refs=[first, second], formatter=JSON_FORMATTER), transfer=None)
    assert [row["dataset_id"] for row in manager.opaque[TABLE].fetch(path="shared.json")] == [
        first.id,
        second.id,
    ]
    store.trash(first)
    assert store.emptyTrash() == set()
    assert shared.exists()
    assert store.get(second).data == [9]
    assert rows_for(manager, first) == []
    store.trash(second)
    assert {Path(uri.ospath) for uri in store.emptyTrash()} == {shared}
    assert not shared.exists()
    assert len(manager.opaque[TABLE]) == 0


def test_export_records_then_import_records_into_a_second_datastore(store, manager, make_ref, tmp_path):
    refs = [make_ref() for _ in range(2)]
    for ref in refs:
        store.put(make_metrics(), ref)
    exported = store.export_records(refs)
    # A second repository: a copy of the files, a registry of its own, and a
    # datastore with the same name, as after an import.
    shutil.copytree(store.root.ospath, tmp_path / "copy")
    other_manager = InMemoryRegistry().getDatastoreBridgeManager()
    config = dict(store.config.toDict(), root=str(tmp_path / "copy"), name=store.name)
    other = Datastore.fromConfig(DatastoreConfig(config), other_manager)
    assert not other.knows(refs[0])

    other.import_records(exported)

    assert all(other.get(ref) == make_metrics() for ref in refs)
    assert other_manager.bridges[other.name].inserted_ids == {ref.id for ref in refs}
    assert [dict(row) for row in other_manager.opaque[TABLE].rows] == [
        dict(row) for row in manager.opaque[TABLE].rows
    ]
    assert [op[0] for op in operations(other_manager)] == ["insert"]


def test_export_records_leaves_out_trashed_datasets(store, make_ref):
    kept, trashed = make_ref(), make_ref()
    store.put(make_metrics(), kept)
    store.put(make_metrics(), trashed)
    store.trash(trashed)
    (record_data,) = store.export_records([kept, trashed]).values()
    assert set(record_data.records) == {kept.id}


# Transactions


def test_a_rolled_back_put_leaves_no_records_and_no_file(store, manager, make_ref):
    # As Butler.transaction(): the registry's transaction around the
    # datastore's.
    ref = make_ref()
    with pytest.raises(DeliberateError), manager.transaction(), store.transaction():
        store.put(make_metrics(), ref)
        paths = artifact_paths(store, ref)
        raise DeliberateError
    assert not store.knows(ref)
    assert not any(path.exists() for path in paths)
    assert len(manager.opaque[TABLE]) == 0
    assert bridge(manager, store).inserted_ids == set()
    assert operations(manager) == [("insert", (ref.id,), False), ("insert", (ref.id,), True)]


def test_without_a_registry_transaction_a_rolled_back_put_leaves_the_bridge_row(store, manager, make_ref):
    # FileDatastore hands its records table the datastore transaction, but
    # not its bridge: with a SQL registry too, only a registry transaction
    # removes the dataset_location row.
    ref = make_ref()
    with pytest.raises(DeliberateError), store.transaction():
        store.put(make_metrics(), ref)
        raise DeliberateError
    assert not store.knows(ref)
    assert len(manager.opaque[TABLE]) == 0
    assert bridge(manager, store).inserted_ids == {ref.id}


def test_a_rolled_back_trash_is_undone_so_the_dataset_survives_empty_trash(store, manager, make_ref):
    ref = make_ref()
    store.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), manager.transaction(), store.transaction():
        store.trash(ref)
        assert bridge(manager, store).trashed_ids == {ref.id}
        raise DeliberateError
    assert bridge(manager, store).trashed_ids == set()
    assert store.emptyTrash() == set()
    assert store.get(ref) == make_metrics()


def test_on_the_ephemeral_flavour_the_datastore_transaction_alone_undoes_a_trash(tmp_path, make_ref):
    manager = InMemoryRegistry(ephemeral=True).getDatastoreBridgeManager()
    store = Datastore.fromConfig(DatastoreConfig(file_datastore_config(str(tmp_path / "repo"))), manager)
    ref = make_ref()
    store.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), store.transaction():
        store.trash(ref)
        raise DeliberateError
    assert operations(manager)[-1] == ("moveToTrash", (ref.id,), True)
    assert store.emptyTrash() == set()
    assert store.get(ref) == make_metrics()


def test_a_rolled_back_empty_trash_in_a_registry_transaction_restores_the_records(store, manager, make_ref):
    # The artifacts are gone (files have no transactions), but the records
    # and the trash come back, as with a SQL registry.
    ref = make_ref()
    store.put(make_metrics(), ref)
    store.trash(ref)
    rows = manager.opaque[TABLE].rows
    with pytest.raises(DeliberateError), manager.transaction():
        store.emptyTrash()
        assert len(manager.opaque[TABLE]) == 0
        raise DeliberateError
    assert manager.opaque[TABLE].rows == rows
    assert bridge(manager, store).trashed_ids == {ref.id}


# Clones and other datastores on the fakes


def test_a_clone_on_a_cloned_manager_sees_the_same_datasets_and_trash(store, manager, make_ref):
    ref = make_ref()
    store.put(make_metrics(), ref)
    clone = store.clone(manager.clone())
    assert clone.get(ref) == make_metrics()
    clone.trash(ref)
    assert bridge(manager, store).trashed_ids == {ref.id}
    assert store.emptyTrash()
    assert not clone.exists(ref)


def test_our_in_memory_datastore_works_on_the_fakes_and_registers_no_bridge(manager, make_ref):
    store = Datastore.fromConfig(DatastoreConfig({"cls": "butler_testkit.InMemoryDatastore"}), manager)
    assert isinstance(store, InMemoryDatastore)
    ref = make_ref()
    store.put(make_metrics(), ref)
    assert store.get(ref) == make_metrics()
    store.trash(ref)
    store.emptyTrash()
    assert not store.exists(ref)
    assert manager.bridges == {}
    assert manager.opaque.tables == {}
    assert manager.findDatastores(ref) == []

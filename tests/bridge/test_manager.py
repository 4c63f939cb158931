"""The bridge manager: registration, look-ups, clones, the log and the registry stand-in."""

from __future__ import annotations

import uuid

import pytest
from lsst.daf.butler import DimensionUniverse
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import NULLSTR, StoredFileInfo
from lsst.daf.butler.registry.interfaces import FakeDatasetRef
from lsst.daf.butler.tests import DummyRegistry
from lsst.daf.butler.tests._dummyRegistry import DummyOpaqueTableStorageManager

from butler_testkit import (
    BridgeOperation,
    InMemoryBridgeManager,
    InMemoryEphemeralBridge,
    InMemoryOpaqueTableManager,
    InMemoryPersistentBridge,
    InMemoryRegistry,
)


class DeliberateError(Exception):
    pass


def test_the_manager_builds_in_one_line_with_sensible_defaults():
    manager = InMemoryBridgeManager()
    assert manager.universe == DimensionUniverse()
    assert isinstance(manager.opaque, InMemoryOpaqueTableManager)
    assert manager.opaque.tables == {}
    assert manager.bridges == {}
    assert manager.operations == ()
    assert InMemoryBridgeManager.currentVersions() == []


def test_each_manager_gets_fresh_opaque_tables():
    assert InMemoryBridgeManager().opaque is not InMemoryBridgeManager().opaque


def test_register_gives_the_persistent_flavour_unless_asked(manager):
    assert isinstance(manager.register("files"), InMemoryPersistentBridge)
    assert isinstance(manager.register("memory", ephemeral=True), InMemoryEphemeralBridge)
    assert isinstance(manager.register("sql", ephemeral=False), InMemoryPersistentBridge)
    assert isinstance(InMemoryBridgeManager(ephemeral=True).register("any"), InMemoryEphemeralBridge)


def test_register_returns_the_same_bridge_for_a_name(manager):
    bridge = manager.register("files")
    memory = manager.register("memory", ephemeral=True)
    assert manager.register("files") is bridge
    assert manager.register("files", ephemeral=False) is bridge
    assert manager.register("memory", ephemeral=True) is memory
    assert manager.bridges == {"files": bridge, "memory": memory}
    assert bridge.datastoreName == "files"


def test_a_name_has_one_flavour(manager):
    manager.register("files")
    with pytest.raises(ValueError, match="'files' is registered with a persistent bridge; it cannot also"):
        manager.register("files", ephemeral=True)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("",), {}, "non-empty str"),
        ((None,), {}, "non-empty str"),
        (("x",), {"ephemeral": "yes"}, "True or False"),
    ],
)
def test_bad_registrations_raise_and_register_nothing(manager, args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        manager.register(*args, **kwargs)
    assert manager.bridges == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"opaque": object()}, "OpaqueTableStorageManager"),
        ({"universe": "u"}, "DimensionUniverse"),
        ({"ephemeral": 1}, "must be a bool"),
    ],
)
def test_bad_construction_arguments_raise(kwargs, message):
    with pytest.raises(TypeError, match=message):
        InMemoryBridgeManager(**kwargs)


def test_find_datastores_searches_both_flavours_and_skips_the_trash(manager, fake_refs):
    files, memory, other = (
        manager.register("files"),
        manager.register("memory", ephemeral=True),
        manager.register("other"),
    )
    everywhere, trashed = fake_refs(2)
    for bridge in (files, memory, other):
        bridge.insert([everywhere, trashed])
    files.moveToTrash([trashed], None)
    transaction = DatastoreTransaction()
    memory.moveToTrash([trashed], transaction)
    assert manager.findDatastores(everywhere) == ["files", "memory", "other"]
    assert manager.findDatastores(trashed) == ["other"]
    assert manager.findDatastores(FakeDatasetRef(uuid.UUID(int=1))) == []
    with pytest.raises(TypeError, match="needs a DatasetRef or FakeDatasetRef"):
        manager.findDatastores(everywhere.id)


def test_refresh_changes_nothing(manager, fake_refs):
    manager.register("files").insert(fake_refs(1))
    before = (manager.bridges, manager.operations)
    manager.refresh()
    assert (manager.bridges, manager.operations) == before


def test_a_clone_shares_bridges_rows_log_and_transactions(manager, records, fake_refs):
    bridge = manager.register("files")
    clone = manager.clone(db=None, opaque=None)
    assert clone is not manager
    assert clone.opaque is not manager.opaque
    assert clone.register("files") is bridge
    refs = fake_refs(2)
    clone.register("files").insert(refs[:1])
    clone.opaque["records"].insert(
        {"dataset_id": refs[0].id, "path": "a", "formatter": "f", "storage_class": "s", "component": NULLSTR}
    )
    assert bridge.inserted_ids == {refs[0].id}
    assert len(records) == 1
    assert clone.operations == manager.operations
    with pytest.raises(DeliberateError), clone.transaction():
        bridge.insert(refs[1:])
        raise DeliberateError
    assert bridge.inserted_ids == {refs[0].id}
    manager.register("later", ephemeral=True)
    assert "later" in clone.bridges


def test_a_clone_uses_the_opaque_manager_it_is_given(manager):
    other = InMemoryOpaqueTableManager()
    assert manager.clone(opaque=other).opaque is other
    with pytest.raises(TypeError, match="OpaqueTableStorageManager"):
        manager.clone(opaque="tables")


def test_a_foreign_opaque_manager_is_shared_by_clones():
    dummy_tables = DummyOpaqueTableStorageManager()
    manager = InMemoryBridgeManager(opaque=dummy_tables)
    assert manager.clone().opaque is dummy_tables


@pytest.mark.parametrize(
    "registry",
    [
        pytest.param(InMemoryRegistry, id="ours"),
        pytest.param(
            DummyRegistry,
            id="dummy",
            marks=pytest.mark.xfail(strict=True, reason="DummyRegistry gives a clone no bridges"),
        ),
    ],
)
def test_a_cloned_manager_sees_the_datasets_of_the_original(registry, fake_refs):
    manager = registry().getDatastoreBridgeManager()
    refs = fake_refs(1)
    manager.register("files").insert(refs)
    assert list(manager.clone(db=None, opaque=manager.opaque.clone(None)).findDatastores(refs[0])) == [
        "files"
    ]


def test_initialize_builds_a_manager_on_the_given_opaque_tables():
    opaque = InMemoryOpaqueTableManager()
    universe = DimensionUniverse()
    manager = InMemoryBridgeManager.initialize(None, None, opaque=opaque, datasets=type, universe=universe)
    assert manager.opaque is opaque
    assert manager.universe is universe


def test_the_log_records_every_change_in_order(manager, records, fake_refs):
    files = manager.register("files")
    memory = manager.register("memory", ephemeral=True)
    first, second = fake_refs(2)
    files.insert([first, second])
    memory.ensure([first, first])
    files.moveToTrash([second, FakeDatasetRef(uuid.UUID(int=5))], None)
    transaction = DatastoreTransaction()
    memory.moveToTrash([first], transaction)
    transaction.rollback()
    files.forget([first])
    with files.emptyTrash(records, StoredFileInfo):  # no rows: nothing removed
        pass
    assert [
        (op.datastore, op.operation, op.dataset_ids, op.ephemeral, op.rollback) for op in manager.operations
    ] == [
        ("files", "insert", (first.id, second.id), False, False),
        ("memory", "ensure", (first.id,), True, False),
        ("files", "moveToTrash", (second.id, uuid.UUID(int=5)), False, False),
        ("memory", "moveToTrash", (first.id,), True, False),
        ("memory", "moveToTrash", (first.id,), True, True),
        ("files", "forget", (first.id,), False, False),
        ("files", "emptyTrash", (), False, False),
    ]


def test_failed_operations_are_not_logged(manager, fake_refs):
    files = manager.register("files")
    refs = fake_refs(1)
    files.insert(refs)
    with pytest.raises(RuntimeError):
        files.insert(refs)
    with pytest.raises(RuntimeError):
        manager.register("memory", ephemeral=True).moveToTrash(refs, None)
    assert len(manager.operations) == 1


def test_operations_show_briefly(fake_ids):
    ids = tuple(fake_ids(5))
    text = repr(BridgeOperation("files", "moveToTrash", ids, ephemeral=False))
    assert text.startswith("BridgeOperation(moveToTrash on 'files' (persistent): [")
    assert str(ids[2]) in text
    assert str(ids[3]) not in text
    assert text.endswith(", ... 2 more])")
    assert "rollback of insert" in repr(BridgeOperation("m", "insert", ids[:1], True, rollback=True))


def test_inspection_mappings_are_read_only_snapshots(manager):
    bridges = manager.bridges
    with pytest.raises(TypeError):
        bridges["x"] = None
    manager.register("later")
    assert "later" not in bridges


def test_the_registry_stand_in_has_what_dummy_registry_has():
    registry = InMemoryRegistry()
    manager = registry.getDatastoreBridgeManager()
    assert registry.getDatastoreBridgeManager() is manager
    assert isinstance(manager, InMemoryBridgeManager)
    assert registry.dimensions is manager.universe
    assert registry.dimensions == DummyRegistry().dimensions
    universe = DimensionUniverse()
    assert InMemoryRegistry(universe).dimensions is universe
    assert isinstance(
        InMemoryRegistry(ephemeral=True).getDatastoreBridgeManager().register("x"), InMemoryEphemeralBridge
    )

"""The two bridge flavours, behaviour by behaviour (CONTRACT.md §5).

The ephemeral tests also run against daf_butler's own ephemeral bridge: the
behaviours they share pass on both, and where upstream is defective the test
is a strict expected failure there, which proves it can fail.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import NULLSTR, StoredFileInfo
from lsst.daf.butler.registry.bridge.ephemeral import EphemeralDatastoreRegistryBridge
from lsst.daf.butler.registry.interfaces import FakeDatasetRef

from butler_testkit import (
    ConstraintViolationError,
    InMemoryEphemeralBridge,
    InMemoryPersistentBridge,
    SchemaMismatchError,
)


class DeliberateError(Exception):
    pass


def ids_of(refs):
    return {ref.id for ref in refs}


def add_records(table, refs, path=None, components=(NULLSTR,)):
    """Give each ref one row per component, as FileDatastore would (NULLSTR: no component)."""
    table.insert(
        *(
            {
                "dataset_id": ref.id,
                "path": path or f"run/{ref.id}{component.replace(NULLSTR, '')}.json",
                "formatter": "lsst.daf.butler.formatters.json.JsonFormatter",
                "storage_class": "BtkMetrics",
                "component": component,
                "checksum": None,
                "file_size": 10,
            }
            for ref in refs
            for component in components
        )
    )


def empty(bridge, **kwargs):
    """Empty the trash and return (yielded ids, artifacts to keep)."""
    with bridge.emptyTrash(**kwargs) as (matches, to_keep):
        yielded = [ref.id for ref, _ in matches]
    return yielded, to_keep


def trash(bridge, refs):
    transaction = DatastoreTransaction()
    bridge.moveToTrash(refs, transaction=transaction)
    transaction.commit()


# The ephemeral flavour, ours and upstream's


def _upstream(reason):
    return pytest.param("upstream", marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(params=["ours", "upstream"])
def ephemeral(request, manager):
    if request.param == "ours":
        bridge = manager.register("memory", ephemeral=True)
        assert isinstance(bridge, InMemoryEphemeralBridge)
        return bridge
    return EphemeralDatastoreRegistryBridge("memory")


def test_ephemeral_insert_never_raises_on_duplicates(ephemeral, fake_refs):
    refs = fake_refs(3)
    ephemeral.insert(refs)
    ephemeral.insert(refs[:1])
    ephemeral.ensure(refs)
    assert ephemeral.check(ids_of(refs)) == ids_of(refs)


def test_ephemeral_forget_drops_ids_and_ignores_unknown_ones(ephemeral, fake_refs):
    refs = fake_refs(3)
    ephemeral.insert(refs[:2])
    ephemeral.forget(refs[1:])
    assert ephemeral.check(ids_of(refs)) == {refs[0].id}


def test_ephemeral_move_to_trash_requires_a_transaction(ephemeral, fake_refs):
    refs = fake_refs(2)
    ephemeral.insert(refs)
    with pytest.raises(RuntimeError, match="transaction"):
        ephemeral.moveToTrash(refs, transaction=None)
    assert ephemeral.check(ids_of(refs)) == ids_of(refs)


def test_ephemeral_move_to_trash_refuses_a_bad_transaction_or_reference(manager, fake_refs):
    ephemeral = manager.register("memory", ephemeral=True)
    refs = fake_refs(2)
    ephemeral.insert(refs)
    with pytest.raises(TypeError, match="DatastoreTransaction or None"):
        ephemeral.moveToTrash(refs, transaction="yes")
    with pytest.raises(TypeError, match="needs DatasetRef or FakeDatasetRef objects"):
        ephemeral.moveToTrash([refs[0], "ref"], transaction=DatastoreTransaction())
    assert ephemeral.trashed_ids == set()


def test_ephemeral_trash_is_undone_by_the_transaction_rollback(ephemeral, fake_refs):
    refs = fake_refs(2)
    ephemeral.insert(refs)
    transaction = DatastoreTransaction()
    ephemeral.moveToTrash(refs, transaction=transaction)
    assert ephemeral.check(ids_of(refs)) == set()
    transaction.rollback()
    assert ephemeral.check(ids_of(refs)) == ids_of(refs)


def test_ephemeral_check_and_membership_exclude_trashed_ids(ephemeral, fake_refs):
    kept, trashed = fake_refs(2)
    ephemeral.insert([kept, trashed])
    trash(ephemeral, [trashed])
    assert ephemeral.check([kept.id, trashed.id]) == {kept.id}
    assert kept in ephemeral
    assert trashed not in ephemeral


def test_ephemeral_trashes_ids_that_were_never_inserted(ephemeral, fake_refs):
    (stranger,) = fake_refs(1)
    trash(ephemeral, [stranger])
    assert empty(ephemeral) == ([stranger.id], None)


def test_ephemeral_empty_trash_needs_a_record_class_with_a_records_table(ephemeral, records, fake_refs):
    refs = fake_refs(1)
    ephemeral.insert(refs)
    trash(ephemeral, refs)
    with pytest.raises(ValueError, match=r"[Rr]ecord.?class"), ephemeral.emptyTrash(records_table=records):
        pass
    assert empty(ephemeral) == ([refs[0].id], None)


def test_ephemeral_empty_trash_yields_records_and_deletes_them(ephemeral, records, fake_refs):
    trashed, kept = fake_refs(2)
    ephemeral.insert([trashed, kept])
    add_records(records, [trashed, kept], components=("summary", "data"))
    trash(ephemeral, [trashed])
    with ephemeral.emptyTrash(records_table=records, record_class=StoredFileInfo, record_column="path") as (
        matches,
        to_keep,
    ):
        matches = list(matches)
    assert to_keep is None  # the datastore must work out what to keep itself
    assert {ref.id for ref, _ in matches} == {trashed.id}
    assert all(type(ref) is FakeDatasetRef for ref, _ in matches)
    assert sorted(info.component for _, info in matches) == ["data", "summary"]
    assert {row["dataset_id"] for row in records.fetch()} == {kept.id}
    assert ephemeral.check([trashed.id, kept.id]) == {kept.id}


def test_ephemeral_empty_trash_selects_nothing_for_an_empty_selection(ephemeral, fake_refs):
    refs = fake_refs(2)
    ephemeral.insert(refs)
    trash(ephemeral, refs)
    assert empty(ephemeral, selected_ids=set()) == ([], None)
    assert sorted(empty(ephemeral, selected_ids=[refs[1].id])[0]) == [refs[1].id]
    assert empty(ephemeral) == ([refs[0].id], None)


@pytest.mark.parametrize("how", ["dry_run", "body raises"])
def test_ephemeral_empty_trash_deletes_nothing_unless_the_body_succeeds(ephemeral, records, fake_refs, how):
    refs = fake_refs(2)
    ephemeral.insert(refs)
    add_records(records, refs)
    trash(ephemeral, refs)
    if how == "dry_run":
        assert len(empty(ephemeral, records_table=records, record_class=StoredFileInfo, dry_run=True)[0]) == 2
    else:
        with pytest.raises(DeliberateError), ephemeral.emptyTrash(records, StoredFileInfo):
            raise DeliberateError
    assert len(records) == 2
    assert sorted(empty(ephemeral)[0]) == sorted(ids_of(refs))


@pytest.mark.parametrize(
    "ephemeral",
    ["ours", _upstream("upstream's rollback also untrashes datasets trashed before the transaction")],
    indirect=True,
)
def test_ephemeral_rollback_untrashes_only_what_that_call_trashed(ephemeral, fake_refs):
    earlier, later = fake_refs(2)
    ephemeral.insert([earlier, later])
    trash(ephemeral, [earlier])
    transaction = DatastoreTransaction()
    ephemeral.moveToTrash([earlier, later], transaction=transaction)
    transaction.rollback()
    assert ephemeral.check([earlier.id, later.id]) == {later.id}


@pytest.mark.parametrize(
    "ephemeral",
    ["ours", _upstream("upstream's rollback fails with KeyError, logged as a WARNING")],
    indirect=True,
)
def test_ephemeral_rollback_after_the_trash_was_emptied_is_quiet(ephemeral, fake_refs, caplog):
    refs = fake_refs(1)
    ephemeral.insert(refs)
    transaction = DatastoreTransaction()
    ephemeral.moveToTrash(refs, transaction=transaction)
    empty(ephemeral)
    with caplog.at_level(logging.WARNING):
        transaction.rollback()
    assert caplog.records == []
    assert ephemeral.check(ids_of(refs)) == set()


@pytest.mark.parametrize(
    "ephemeral", ["ours", _upstream("upstream ignores a records table of the wrong type")], indirect=True
)
def test_ephemeral_empty_trash_refuses_a_records_table_of_the_wrong_type(ephemeral):
    with pytest.raises(TypeError, match="OpaqueTableStorage"), ephemeral.emptyTrash({}, StoredFileInfo):
        pass


# The persistent flavour


@pytest.fixture
def persistent(manager):
    bridge = manager.register("files")
    assert isinstance(bridge, InMemoryPersistentBridge)
    return bridge


def test_persistent_insert_of_a_recorded_id_raises_and_records_nothing(persistent, fake_refs):
    old, new = fake_refs(2)
    persistent.insert([old])
    with pytest.raises(ConstraintViolationError, match=f"dataset {old.id}, which is already recorded"):
        persistent.insert([new, old])
    assert persistent.inserted_ids == {old.id}
    with pytest.raises(ConstraintViolationError, match="given twice"):
        persistent.insert([new, new])
    assert persistent.inserted_ids == {old.id}


def test_persistent_ensure_tolerates_recorded_ids(persistent, fake_refs):
    old, new = fake_refs(2)
    persistent.insert([old])
    persistent.ensure([old, new, new])
    assert persistent.inserted_ids == {old.id, new.id}


def test_persistent_move_to_trash_moves_recorded_ids_only(persistent, fake_refs):
    recorded, stranger = fake_refs(2)
    persistent.insert([recorded])
    persistent.moveToTrash([recorded, stranger], transaction=None)
    assert persistent.inserted_ids == set()
    assert persistent.trashed_ids == {recorded.id}
    assert persistent.check([recorded.id, stranger.id]) == set()
    assert recorded not in persistent


def test_persistent_move_to_trash_ignores_the_datastore_transaction(persistent, fake_refs):
    # The SQL bridge leaves undo to the database transaction (see the
    # registry-transaction tests below), not to the datastore's.
    refs = fake_refs(1)
    persistent.insert(refs)
    transaction = DatastoreTransaction()
    persistent.moveToTrash(refs, transaction=transaction)
    transaction.rollback()
    assert persistent.trashed_ids == ids_of(refs)
    with pytest.raises(TypeError, match="DatastoreTransaction or None"):
        persistent.moveToTrash(refs, transaction="no")


def test_persistent_trashing_an_id_still_in_the_trash_breaks_the_trash_key(persistent, fake_refs):
    refs = fake_refs(1)
    persistent.insert(refs)
    persistent.moveToTrash(refs, None)
    persistent.insert(refs)  # the location row is free again
    with pytest.raises(ConstraintViolationError, match="also still in the trash"):
        persistent.moveToTrash(refs, None)
    assert persistent.inserted_ids == persistent.trashed_ids == ids_of(refs)


def test_persistent_forget_leaves_the_trash_alone(persistent, fake_refs):
    kept, trashed, forgotten = fake_refs(3)
    persistent.insert([kept, trashed, forgotten])
    persistent.moveToTrash([trashed], None)
    persistent.forget([trashed, forgotten])
    assert persistent.inserted_ids == {kept.id}
    assert persistent.trashed_ids == {trashed.id}


def test_persistent_empty_trash_requires_a_records_table_and_a_record_class(persistent, records, fake_refs):
    with pytest.raises(ValueError, match="needs the datastore's records table"), persistent.emptyTrash():
        pass
    with pytest.raises(ValueError, match="no record_class"), persistent.emptyTrash(records):
        pass
    with pytest.raises(TypeError, match="OpaqueTableStorage"), persistent.emptyTrash([], StoredFileInfo):
        pass
    with (
        pytest.raises(SchemaMismatchError, match="record_column 'uri' is not a column"),
        persistent.emptyTrash(records, StoredFileInfo, "uri"),
    ):
        pass
    with (
        pytest.raises(TypeError, match="needs dataset IDs"),
        persistent.emptyTrash(records, StoredFileInfo, selected_ids=["abc"]),
    ):
        pass


def test_persistent_empty_trash_yields_records_and_deletes_rows_and_trash(persistent, records, fake_refs):
    trashed, kept = fake_refs(2)
    persistent.insert([trashed, kept])
    add_records(records, [trashed, kept], components=("summary", "data"))
    persistent.moveToTrash([trashed], None)
    with persistent.emptyTrash(records, StoredFileInfo) as (matches, to_keep):
        matches = list(matches)
    assert to_keep is None
    assert [(ref.id, info.component) for ref, info in matches] == [
        (trashed.id, "summary"),
        (trashed.id, "data"),
    ]
    assert all(isinstance(ref, FakeDatasetRef) for ref, _ in matches)
    assert {row["dataset_id"] for row in records.fetch()} == {kept.id}
    assert persistent.trashed_ids == set()
    assert persistent.inserted_ids == {kept.id}


def test_persistent_empty_trash_reports_artifacts_live_datasets_still_use(persistent, records, fake_refs):
    shared_trashed, shared_live, alone = fake_refs(3)
    persistent.insert([shared_trashed, shared_live, alone])
    add_records(records, [shared_trashed, shared_live], path="run/shared.zip")
    add_records(records, [alone])
    persistent.moveToTrash([shared_trashed, alone], None)
    with persistent.emptyTrash(records, StoredFileInfo, record_column="path") as (matches, to_keep):
        paths = sorted(info.path for _, info in matches)
    assert paths == sorted(["run/shared.zip", f"run/{alone.id}.json"])
    assert to_keep == {"run/shared.zip"}
    assert [row["dataset_id"] for row in records.fetch(path="run/shared.zip")] == [shared_live.id]


def test_persistent_empty_trash_keeps_nothing_when_every_user_is_trashed(persistent, records, fake_refs):
    refs = fake_refs(2)
    persistent.insert(refs)
    add_records(records, refs, path="run/shared.zip")
    persistent.moveToTrash(refs, None)
    assert (
        empty(persistent, records_table=records, record_class=StoredFileInfo, record_column="path")[1]
        == set()
    )
    assert len(records) == 0


def test_persistent_empty_trash_honours_a_selection_and_an_empty_one_means_all(
    persistent, records, fake_refs
):
    first, second, third = fake_refs(3)
    persistent.insert([first, second, third])
    add_records(records, [first, second, third])
    persistent.moveToTrash([first, second, third], None)
    arguments = {"records_table": records, "record_class": StoredFileInfo}
    assert empty(persistent, selected_ids={second.id, uuid.UUID(int=1)}, **arguments)[0] == [second.id]
    assert persistent.trashed_ids == {first.id, third.id}
    assert sorted(empty(persistent, selected_ids=set(), **arguments)[0]) == sorted([first.id, third.id])
    assert persistent.trashed_ids == set()
    assert len(records) == 0


@pytest.mark.parametrize("how", ["dry_run", "body raises"])
def test_persistent_empty_trash_deletes_nothing_unless_the_body_succeeds(persistent, records, fake_refs, how):
    refs = fake_refs(2)
    persistent.insert(refs)
    add_records(records, refs)
    persistent.moveToTrash(refs, None)
    if how == "dry_run":
        assert (
            len(empty(persistent, records_table=records, record_class=StoredFileInfo, dry_run=True)[0]) == 2
        )
    else:
        with pytest.raises(DeliberateError), persistent.emptyTrash(records, StoredFileInfo):
            raise DeliberateError
    assert len(records) == 2
    assert persistent.trashed_ids == ids_of(refs)


def test_persistent_empty_trash_skips_trashed_ids_without_records(persistent, records, fake_refs):
    # The SQL bridge joins the trash with the records table, so a trashed ID
    # with no records is neither reported nor removed.
    with_records, without = fake_refs(2)
    persistent.insert([with_records, without])
    add_records(records, [with_records])
    persistent.moveToTrash([with_records, without], None)
    assert empty(persistent, records_table=records, record_class=StoredFileInfo)[0] == [with_records.id]
    assert persistent.trashed_ids == {without.id}


# Registry transactions undo every persistent change


PERSISTENT_CHANGES = {
    "insert": lambda bridge, refs, records: bridge.insert(refs[2:]),
    "ensure": lambda bridge, refs, records: bridge.ensure(refs),
    "forget": lambda bridge, refs, records: bridge.forget(refs[:1]),
    "moveToTrash": lambda bridge, refs, records: bridge.moveToTrash(refs, None),
    "emptyTrash": lambda bridge, refs, records: empty(
        bridge, records_table=records, record_class=StoredFileInfo
    ),
}


@pytest.mark.parametrize("change", sorted(PERSISTENT_CHANGES))
def test_a_registry_rollback_undoes_every_persistent_change(manager, persistent, records, fake_refs, change):
    refs = fake_refs(4)
    persistent.insert(refs[:2])
    add_records(records, refs[:2])
    persistent.moveToTrash(refs[1:2], None)
    state = (persistent.inserted_ids, persistent.trashed_ids, records.rows)
    with pytest.raises(DeliberateError), manager.transaction():
        PERSISTENT_CHANGES[change](persistent, refs, records)
        assert (persistent.inserted_ids, persistent.trashed_ids, records.rows) != state
        raise DeliberateError
    assert (persistent.inserted_ids, persistent.trashed_ids, records.rows) == state
    assert manager.operations[-1].rollback
    assert manager.operations[-1].operation == change


def test_a_registry_rollback_leaves_ephemeral_bridges_alone(manager, fake_refs):
    # Upstream's ephemeral bridges live outside the database.
    bridge = manager.register("memory", ephemeral=True)
    refs = fake_refs(1)
    with pytest.raises(DeliberateError), manager.transaction():
        bridge.insert(refs)
        raise DeliberateError
    assert bridge.inserted_ids == ids_of(refs)


# Argument checks common to both flavours


@pytest.fixture(params=[True, False], ids=["ephemeral", "persistent"])
def any_bridge(request, manager):
    return manager.register("store", ephemeral=request.param)


@pytest.mark.parametrize("operation", ["insert", "ensure", "forget"])
@pytest.mark.parametrize(
    ("refs", "message"),
    [
        (FakeDatasetRef(uuid.UUID(int=1)), "needs an iterable"),
        ("abc", "needs an iterable"),
        ([uuid.UUID(int=1)], "needs DatasetRef or FakeDatasetRef objects; got UUID"),
        ([FakeDatasetRef("abc")], "whose id is not a UUID"),
    ],
    ids=["single ref", "str", "bare id", "str id"],
)
def test_bad_references_raise_and_change_nothing(manager, any_bridge, fake_refs, operation, refs, message):
    good = fake_refs(1)
    any_bridge.insert(good)
    logged = manager.operations
    with pytest.raises(TypeError, match=message):
        getattr(any_bridge, operation)([*good, *refs] if isinstance(refs, list) else refs)
    assert any_bridge.inserted_ids == ids_of(good)
    assert manager.operations == logged


def test_check_needs_dataset_ids(any_bridge):
    with pytest.raises(TypeError, match="needs dataset IDs"):
        any_bridge.check(["abc"])
    with pytest.raises(TypeError, match="needs an iterable of dataset IDs"):
        any_bridge.check(uuid.UUID(int=1))


def test_membership_needs_a_reference(any_bridge):
    with pytest.raises(TypeError, match="got str"):
        assert "abc" in any_bridge


def test_inspection_returns_snapshots(any_bridge, fake_refs):
    refs = fake_refs(2)
    any_bridge.insert(refs[:1])
    inserted = any_bridge.inserted_ids
    any_bridge.insert(refs[1:])
    assert inserted == {refs[0].id}
    assert isinstance(inserted, frozenset)
    assert "2 inserted, 0 trashed" in repr(any_bridge)

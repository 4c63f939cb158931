"""Opaque tables: constraints, schema checks, conditions, indexes and undo."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy
from lsst.daf.butler import ddl
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import NULLSTR
from lsst.daf.butler.datastores.fileDatastore import FileDatastore
from lsst.daf.butler.tests._dummyRegistry import DummyOpaqueTableStorageManager

from butler_testkit import (
    ConstraintViolationError,
    InMemoryBridgeManager,
    InMemoryOpaqueTable,
    InMemoryOpaqueTableManager,
    SchemaMismatchError,
)

OWNER = uuid.UUID(int=7)
OTHER_OWNER = uuid.UUID(int=8)


class DeliberateError(Exception):
    pass


def item(key, code=None, owner=OWNER, **extra):
    return {"key": key, "code": code, "owner": owner, **extra}


def keys(table):
    return [row["key"] for row in table.rows]


def record(dataset_id, component=NULLSTR, path=None):
    return {
        "dataset_id": dataset_id,
        "path": path or f"run/{dataset_id}{component}.json",
        "formatter": "some.Formatter",
        "storage_class": "BtkMetrics",
        "component": component,
        "checksum": None,
        "file_size": 10,
    }


# Registration


def test_register_returns_the_same_table_for_the_same_name_and_spec(opaque):
    table = opaque.register("records", FileDatastore.makeTableSpec())
    assert opaque.register("records", FileDatastore.makeTableSpec()) is table
    assert opaque.get("records") is table
    assert opaque["records"] is table
    assert dict(opaque.tables) == {"records": table}
    assert table.name == "records"
    assert table.columns == tuple(field.name for field in FileDatastore.makeTableSpec().fields)


def test_unknown_tables_are_none_or_a_lookup_error(opaque):
    assert opaque.get("nothing") is None
    with pytest.raises(LookupError, match="No opaque table 'nothing'"):
        opaque["nothing"]


def test_registering_a_name_again_with_another_spec_raises(opaque, records):
    spec = FileDatastore.makeTableSpec()
    spec.fields.add(ddl.FieldSpec("extra", dtype=sqlalchemy.String, length=8))
    with pytest.raises(SchemaMismatchError, match="'records' is already registered with a different"):
        opaque.register("records", spec)
    assert opaque["records"] is records


@pytest.mark.parametrize(
    ("name", "spec", "error", "message"),
    [
        ("", FileDatastore.makeTableSpec(), TypeError, "non-empty strings"),
        (3, FileDatastore.makeTableSpec(), TypeError, "non-empty strings"),
        ("t", {"fields": []}, TypeError, "needs a ddl.TableSpec"),
        ("t", ddl.TableSpec(fields=[]), SchemaMismatchError, "has no columns"),
        (
            "t",
            ddl.TableSpec(fields=[ddl.FieldSpec("a", dtype=sqlalchemy.Integer)], unique={("b",)}),
            SchemaMismatchError,
            "no column 'b'",
        ),
        (
            "t",
            ddl.TableSpec(
                fields=[ddl.FieldSpec("a", dtype=sqlalchemy.Integer)], indexes=[ddl.IndexSpec("c")]
            ),
            SchemaMismatchError,
            "no column 'c'",
        ),
    ],
)
def test_bad_registrations_raise_and_register_nothing(opaque, name, spec, error, message):
    with pytest.raises(error, match=message):
        opaque.register(name, spec)
    assert dict(opaque.tables) == {}


def test_tables_cannot_be_created_inside_a_registry_transaction(opaque, records):
    with opaque.transaction():
        assert opaque.register("records", FileDatastore.makeTableSpec()) is records
        with pytest.raises(RuntimeError, match="inside a registry transaction"):
            opaque.register("new", FileDatastore.makeTableSpec())
    assert opaque.get("new") is None


def test_get_needs_a_string(opaque):
    with pytest.raises(TypeError, match="names are strings"):
        opaque.get(None)


def test_a_clone_sees_the_same_rows(opaque, records):
    clone = opaque.clone()
    assert clone is not opaque
    clone["records"].insert(record(uuid.UUID(int=1)))
    assert len(records) == 1
    assert opaque.clone(db=None).get("records") is records


def test_initialize_and_versions(opaque):
    manager = InMemoryOpaqueTableManager.initialize(None, None)
    assert isinstance(manager, InMemoryOpaqueTableManager)
    assert manager.tables == {}
    assert InMemoryOpaqueTableManager.currentVersions() == []


def test_inspection_is_a_read_only_snapshot(opaque, catalogue):
    catalogue.insert(item(1))
    tables, rows = opaque.tables, catalogue.rows
    with pytest.raises(TypeError):
        tables["other"] = catalogue
    with pytest.raises(TypeError):
        rows[0]["key"] = 2
    catalogue.insert(item(2))
    assert len(rows) == 1
    assert len(catalogue.rows) == 2


# Constraints


def test_insert_stores_complete_rows_coerced_like_sql(records):
    dataset_id = uuid.UUID(int=42)
    row = record(str(dataset_id))
    del row["checksum"]
    records.insert(row)
    (stored,) = records.rows
    assert stored["dataset_id"] == dataset_id
    assert isinstance(stored["dataset_id"], uuid.UUID)
    assert stored["checksum"] is None
    assert list(stored) == list(records.columns)


@pytest.mark.parametrize(
    "dataset_id", [uuid.UUID(int=5).hex, uuid.UUID(int=5).bytes, 5, str(uuid.UUID(int=5))], ids=repr
)
def test_guid_columns_accept_what_the_sql_type_binds(records, dataset_id):
    records.insert(record(dataset_id))
    assert [row["dataset_id"] for row in records.fetch(dataset_id=uuid.UUID(int=5))] == [uuid.UUID(int=5)]


def test_insert_of_a_taken_primary_key_raises_and_changes_nothing(catalogue):
    catalogue.insert(item(1, "a"))
    with pytest.raises(
        ConstraintViolationError,
        match=r"'catalogue': insert\(\) would break the primary key on \['key'\]: a row with key=1",
    ):
        catalogue.insert(item(2, "b"), item(1, "c"))
    assert keys(catalogue) == [1]


def test_insert_of_two_rows_with_one_key_raises(catalogue):
    with pytest.raises(ConstraintViolationError, match="primary key"):
        catalogue.insert(item(1), item(1))
    assert len(catalogue) == 0


def test_unique_constraints_are_enforced(catalogue):
    catalogue.insert(item(1, "a"))
    with pytest.raises(
        ConstraintViolationError, match=r"unique constraint on \['code'\]: a row with code='a'"
    ):
        catalogue.insert(item(2, "a"))
    assert keys(catalogue) == [1]


def test_nulls_never_collide_in_a_unique_constraint(catalogue):
    catalogue.insert(item(1), item(2), item(3, "a"))
    assert keys(catalogue) == [1, 2, 3]


def test_constraint_errors_are_runtime_errors_like_dummy_registry(catalogue):
    catalogue.insert(item(1))
    with pytest.raises(RuntimeError):
        catalogue.insert(item(1))


def test_ensure_skips_rows_whose_keys_are_taken(catalogue):
    catalogue.insert(item(1, "a", label="first"))
    catalogue.ensure(item(1, "z", label="second"), item(2, "a"), item(3, "b"), item(3, "c"), item(4))
    assert [(row["key"], row["code"], row["label"]) for row in catalogue.rows] == [
        (1, "a", "first"),
        (3, "b", None),
        (4, None, None),
    ]


def test_replace_replaces_the_row_with_the_same_primary_key(catalogue):
    catalogue.insert(item(1, "a", label="old"), item(2, "b"))
    catalogue.replace(item(1, "a", label="new"), item(3, "c"))
    assert [(row["key"], row["label"]) for row in catalogue.rows] == [(1, "new"), (2, None), (3, None)]


def test_replace_that_collides_with_another_row_raises_and_changes_nothing(catalogue):
    catalogue.insert(item(1, "a", label="one"), item(2, "b", label="two"))
    before = catalogue.rows
    with pytest.raises(ConstraintViolationError, match=r"replace\(\) would break the unique constraint"):
        catalogue.replace(item(1, "a", label="changed"), item(3, "b"))
    assert catalogue.rows == before


def test_replace_of_two_rows_with_one_primary_key_keeps_the_last_as_sql_does(catalogue, transaction):
    catalogue.insert(item(1, label="old"))
    catalogue.replace(item(1, label="a"), item(1, label="b"), item(2, label="new"), transaction=transaction)
    assert [(row["key"], row["label"]) for row in catalogue.rows] == [(1, "b"), (2, "new")]
    transaction.rollback()
    assert [(row["key"], row["label"]) for row in catalogue.rows] == [(1, "old")]


def test_replace_needs_a_primary_key(opaque):
    table = opaque.register("log", ddl.TableSpec(fields=[ddl.FieldSpec("line", dtype=sqlalchemy.String)]))
    with pytest.raises(SchemaMismatchError, match="has no primary key"):
        table.replace({"line": "x"})
    assert len(table) == 0


def test_autoincrement_columns_are_filled_in(opaque):
    spec = ddl.TableSpec(
        fields=[
            ddl.FieldSpec("id", dtype=sqlalchemy.BigInteger, primaryKey=True, autoincrement=True),
            ddl.FieldSpec("name", dtype=sqlalchemy.String, length=16),
        ]
    )
    table = opaque.register("auto", spec)
    table.insert({"name": "a"}, {"name": "b"}, {"id": 10, "name": "c"}, {"name": "d"})
    assert [(row["id"], row["name"]) for row in table.rows] == [(1, "a"), (2, "b"), (10, "c"), (11, "d")]


def test_missing_columns_take_their_default(opaque):
    spec = ddl.TableSpec(
        fields=[
            ddl.FieldSpec("key", dtype=sqlalchemy.BigInteger, primaryKey=True),
            ddl.FieldSpec("status", dtype=sqlalchemy.String, length=8, nullable=False, default="new"),
        ]
    )
    table = opaque.register("defaults", spec)
    table.insert({"key": 1}, {"key": 2, "status": "old"})
    assert [row["status"] for row in table.rows] == ["new", "old"]
    with pytest.raises(SchemaMismatchError, match="'status' is NOT NULL"):
        table.insert({"key": 3, "status": None})


# Schema checks: each bad row raises a typed error naming the problem, and
# the good rows given with it are not stored either.


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (item(9, colour="red"), "has no column 'colour'"),
        ({"key": 9, "code": "x"}, "column 'owner' is NOT NULL"),
        (item(9, owner=None), "column 'owner' is NOT NULL"),
        ({"code": "x", "owner": OWNER}, "column 'key' is NOT NULL"),
        (item("9"), "column 'key': bad value '9'.*expected an integer"),
        (item(True), "column 'key': bad value True.*expected an integer"),
        (item(9, code=3), "column 'code'.*expected a str"),
        (item(9, code="x" * 9), "column 'code'.*9 characters is longer than the column's 8"),
        (item(9, owner="not-a-uuid"), "column 'owner'.*badly formed"),
        (item(9, owner=1.5), "column 'owner'.*expected a UUID"),
        (item(9, weight="heavy"), "column 'weight'.*expected a number"),
        (item(9, flag=1), "column 'flag'.*expected a bool"),
        (["key", 9], "takes rows as mappings"),
    ],
)
@pytest.mark.parametrize("write", ["insert", "ensure", "replace"])
def test_rows_that_do_not_fit_the_schema_raise_and_change_nothing(catalogue, write, bad, message):
    catalogue.insert(item(1))
    with pytest.raises(SchemaMismatchError, match=message):
        getattr(catalogue, write)(item(2), bad)
    assert keys(catalogue) == [1]


def test_long_strings_fit_a_long_string_column_as_in_a_database(catalogue):
    # daf_butler creates String columns longer than 32 as unbounded TEXT.
    catalogue.insert(item(1, label="x" * 1000))
    assert catalogue.rows[0]["label"] == "x" * 1000


@pytest.mark.parametrize("write", ["insert", "ensure", "replace"])
def test_a_bad_transaction_argument_raises_before_anything_changes(catalogue, write):
    with pytest.raises(TypeError, match="takes a DatastoreTransaction or None"):
        getattr(catalogue, write)(item(1), transaction="yes")
    assert len(catalogue) == 0


# fetch


@pytest.fixture
def filled(catalogue):
    catalogue.insert(
        item(1, "a", label="run/a.json"),
        item(2, "b", owner=OTHER_OWNER, label="run/b.json#part"),
        item(3, None, label="other/c.json", weight=2.5),
        item(4, "d", owner=OTHER_OWNER, label=None, flag=True),
    )
    return catalogue


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({}, [1, 2, 3, 4]),
        ({"key": 2}, [2]),
        ({"key": 99}, []),
        ({"owner": OWNER}, [1, 3]),
        ({"owner": str(OTHER_OWNER)}, [2, 4]),
        ({"owner": OWNER, "code": "a"}, [1]),
        ({"key": [4, 1, 99]}, [1, 4]),
        ({"key": (2,)}, [2]),
        ({"key": {3, 2}}, [2, 3]),
        ({"key": frozenset({1})}, [1]),
        ({"key": []}, []),
        ({"code": ["a", None]}, [1]),
        ({"code": None}, [3]),
        ({"label": None}, [4]),
        ({"label": "run/%"}, [1, 2]),
        ({"label": "run/b.json#%"}, [2]),
        ({"label": "run/%", "owner": OWNER}, [1]),
        ({"weight": 2.5}, [3]),
        ({"flag": True}, [4]),
    ],
    ids=repr,
)
def test_fetch_matches_values_lists_prefixes_and_nulls(filled, where, expected):
    assert [row["key"] for row in filled.fetch(**where)] == expected


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({"colour": "red"}, "has no column 'colour'"),
        ({"key": "one"}, "column 'key'.*expected an integer"),
        ({"owner": ["not-a-uuid"]}, "column 'owner'.*badly formed"),
    ],
)
def test_fetch_with_a_bad_condition_raises_at_the_call(filled, where, message):
    with pytest.raises(SchemaMismatchError, match=message):
        filled.fetch(**where)
    with pytest.raises(SchemaMismatchError, match=message):
        filled.fetch_batches(**where)


def test_fetched_rows_are_read_only_and_do_not_change_afterwards(filled):
    (row,) = filled.fetch(key=1)
    with pytest.raises(TypeError):
        row["label"] = "changed"
    filled.replace(item(1, "a", label="replaced"))
    assert row["label"] == "run/a.json"
    assert next(filled.fetch(key=1))["label"] == "replaced"


def test_fetch_batches_splits_the_result(filled):
    filled.batch_size = 3
    batches = list(filled.fetch_batches())
    assert [[row["key"] for row in batch] for batch in batches] == [[1, 2, 3], [4]]
    assert [[row["key"] for row in batch] for batch in filled.fetch_batches(owner=OWNER)] == [[1, 3]]
    assert list(filled.fetch_batches(key=99)) == []


class NoScans(dict):
    """Row storage that fails the test if anything walks over every row."""

    def __iter__(self):
        raise AssertionError("the table scanned its rows")


def _forbid_scans(table):
    table._rows = NoScans(table._rows)


@pytest.mark.parametrize(
    "where",
    [
        {"dataset_id": uuid.UUID(int=2), "component": "data"},  # primary key
        {"dataset_id": uuid.UUID(int=2)},  # leading column of the primary key
        {"dataset_id": [uuid.UUID(int=2), uuid.UUID(int=3)]},
        {"path": "run/2.json"},  # declared index
        {"path": {"run/2.json", "run/3.json"}},
    ],
    ids=["primary key", "key prefix", "key prefix IN", "index", "index IN"],
)
def test_indexed_lookups_are_dictionary_lookups_not_scans(records, where):
    records.insert(*(record(uuid.UUID(int=n), path=f"run/{n}.json") for n in range(1, 5)))
    records.insert(record(uuid.UUID(int=2), component="data", path="run/2.json"))
    expected = [dict(row) for row in records.rows if all(_matches(row, k, v) for k, v in where.items())]
    _forbid_scans(records)
    assert [dict(row) for row in records.fetch(**where)] == expected
    assert expected


def _matches(row, column, value):
    return row[column] in value if isinstance(value, list | set) else row[column] == value


def test_the_scan_detector_can_fail(records):
    records.insert(record(uuid.UUID(int=1)))
    _forbid_scans(records)
    with pytest.raises(AssertionError, match="scanned"):
        list(records.fetch(file_size=10))


def test_deletes_by_key_do_not_scan(records):
    records.insert(*(record(uuid.UUID(int=n)) for n in range(1, 5)))
    _forbid_scans(records)
    records.delete(["dataset_id"], {"dataset_id": uuid.UUID(int=2)}, {"dataset_id": uuid.UUID(int=3)})
    assert len(records) == 2


# delete


def test_delete_matches_on_the_given_columns_only(filled):
    # DummyRegistry matches every key of the row; SQL matches ``columns``.
    filled.delete(["owner"], {"owner": OTHER_OWNER, "key": 1})
    assert keys(filled) == [1, 3]


def test_delete_by_several_columns_and_rows(filled):
    filled.delete(["owner", "code"], {"owner": OWNER, "code": "a"}, {"owner": OTHER_OWNER, "code": "d"})
    assert keys(filled) == [2, 3]


def test_delete_with_no_columns_deletes_every_row_as_sql_does(filled):
    filled.delete([], {"key": 1})
    assert len(filled) == 0


def test_delete_with_columns_but_no_rows_deletes_nothing(filled):
    filled.delete(["key"])
    assert len(filled) == 4


def test_delete_by_null_matches_nothing_as_sql_does(filled):
    filled.delete(["code"], {"code": None})
    filled.delete(["code", "owner"], {"code": None, "owner": OWNER})
    assert len(filled) == 4


@pytest.mark.parametrize(
    ("columns", "rows", "error", "message"),
    [
        ("key", [{"key": 1}], TypeError, r"not the string 'key'; write \['key'\]"),
        (["colour"], [{"colour": 1}], SchemaMismatchError, "has no column 'colour'"),
        (["key", "code"], [{"key": 1}], SchemaMismatchError, "no value for column 'code'"),
        (["key"], [("key", 1)], SchemaMismatchError, "takes rows as mappings"),
        (["key"], [{"key": 1}, {"key": "two"}], SchemaMismatchError, "expected an integer"),
    ],
)
def test_bad_deletes_raise_and_delete_nothing(filled, columns, rows, error, message):
    with pytest.raises(error, match=message):
        filled.delete(columns, *rows)
    assert len(filled) == 4


# Rollback: every write path is undone by the transaction it was given


@pytest.fixture
def seeded(catalogue):
    catalogue.insert(item(1, "a", label="one"), item(2, "b", label="two"))
    return catalogue


WRITES = {
    "insert": lambda table, transaction: table.insert(item(3, "c"), item(4), transaction=transaction),
    "ensure": lambda table, transaction: table.ensure(item(1, "z"), item(3, "c"), transaction=transaction),
    "replace": lambda table, transaction: table.replace(
        item(1, "a", label="new"), item(3, "c"), transaction=transaction
    ),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_rolled_back_datastore_transaction_undoes_the_write(seeded, write):
    before = seeded.rows
    transaction = DatastoreTransaction()
    WRITES[write](seeded, transaction)
    assert seeded.rows != before
    transaction.rollback()
    assert seeded.rows == before


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_committed_datastore_transaction_keeps_the_write(seeded, write):
    transaction = DatastoreTransaction()
    WRITES[write](seeded, transaction)
    after = seeded.rows
    transaction.commit()
    assert seeded.rows == after


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_rolled_back_registry_transaction_undoes_the_write(opaque, seeded, write):
    before = seeded.rows
    with pytest.raises(DeliberateError), opaque.transaction():
        WRITES[write](seeded, None)
        assert seeded.rows != before
        raise DeliberateError
    assert seeded.rows == before


def test_a_rolled_back_registry_transaction_undoes_a_delete(opaque, seeded):
    before = seeded.rows
    with pytest.raises(DeliberateError), opaque.transaction():
        seeded.delete(["key"], {"key": 1})
        seeded.delete([])
        assert len(seeded) == 0
        raise DeliberateError
    assert seeded.rows == before


@pytest.mark.parametrize("write", sorted(WRITES))
def test_both_transactions_rolling_back_undo_the_write_once(opaque, seeded, write):
    # Butler.transaction() opens the registry's transaction around the
    # datastore's: both roll back, and each must leave the other's work be.
    before = seeded.rows
    with pytest.raises(DeliberateError), opaque.transaction():
        transaction = DatastoreTransaction()
        WRITES[write](seeded, transaction)
        seeded.insert(item(5, "e"))
        transaction.rollback()
        assert len(seeded) == len(before) + 1
        raise DeliberateError
    assert seeded.rows == before


def test_an_undo_leaves_rows_written_after_it_alone(seeded):
    transaction = DatastoreTransaction()
    seeded.insert(item(3, "c", label="first"), transaction=transaction)
    seeded.replace(item(3, "c", label="second"))
    transaction.rollback()
    assert [row["label"] for row in seeded.fetch(key=3)] == ["second"]


def test_nested_registry_transactions(opaque, seeded):
    with opaque.transaction():
        seeded.insert(item(3))
        with pytest.raises(DeliberateError), opaque.transaction():
            seeded.insert(item(4))
            raise DeliberateError
        assert keys(seeded) == [1, 2, 3]
    assert keys(seeded) == [1, 2, 3]
    with pytest.raises(DeliberateError), opaque.transaction():
        with opaque.transaction():
            seeded.insert(item(5))
        raise DeliberateError
    assert keys(seeded) == [1, 2, 3]


def test_writes_outside_a_transaction_are_not_remembered(opaque, seeded):
    seeded.insert(item(3))
    with pytest.raises(DeliberateError), opaque.transaction():
        raise DeliberateError
    assert keys(seeded) == [1, 2, 3]


def test_registry_transactions_belong_to_their_thread(opaque, seeded):
    inserted = threading.Event()
    release = threading.Event()

    def other_thread():
        seeded.insert(item(10))
        inserted.set()
        release.wait(5)

    worker = threading.Thread(target=other_thread)
    with pytest.raises(DeliberateError), opaque.transaction():
        worker.start()
        assert inserted.wait(5)
        raise DeliberateError
    release.set()
    worker.join()
    assert keys(seeded) == [1, 2, 10]


def test_one_registry_transaction_covers_the_tables_of_a_bridge_manager(catalogue, opaque):
    manager = InMemoryBridgeManager(opaque=opaque)
    with pytest.raises(DeliberateError), manager.transaction():
        catalogue.insert(item(1))
        raise DeliberateError
    assert len(catalogue) == 0


def test_concurrent_writers_lose_nothing(catalogue):
    starts = (1, 1001, 2001, 3001)

    def write(start):
        for key in range(start, start + 200):
            catalogue.insert(item(key))
            if key % 2:
                catalogue.delete(["key"], {"key": key})

    threads = [threading.Thread(target=write, args=(start,)) for start in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = [key for start in starts for key in range(start, start + 200) if key % 2 == 0]
    assert sorted(keys(catalogue)) == expected
    assert sorted(row["key"] for row in catalogue.fetch(owner=OWNER)) == expected


# Compared with daf_butler's DummyRegistry tables


def test_dummy_registry_tables_do_not_undo_a_replace_but_ours_do():
    spec = FileDatastore.makeTableSpec()
    results = {}
    for label, manager in (
        ("ours", InMemoryOpaqueTableManager()),
        ("dummy", DummyOpaqueTableStorageManager()),
    ):
        table = manager.register("records", spec)
        table.insert(record(uuid.UUID(int=1), path="old.json"))
        transaction = DatastoreTransaction()
        table.replace(record(uuid.UUID(int=1), path="new.json"), transaction=transaction)
        transaction.rollback()
        results[label] = [row["path"] for row in table.fetch()]
    assert results == {"ours": ["old.json"], "dummy": []}


def test_a_table_built_on_its_own_works(catalogue):
    table = InMemoryOpaqueTable("alone", catalogue.spec)
    table.insert(item(1))
    assert repr(table) == "InMemoryOpaqueTable('alone', 1 rows)"

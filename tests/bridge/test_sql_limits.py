"""What a SQL registry refuses, the fakes refuse: foreign keys, integer ranges, text, one key twice."""

from __future__ import annotations

import pytest
import sqlalchemy
from lsst.daf.butler import ddl

from butler_testkit import (
    ConstraintViolationError,
    InMemoryBridgeManager,
    InMemoryRegistry,
    SchemaMismatchError,
)
from butler_testkit.factories import DataIdFactory, RefFactory
from tests._helpers import make_metrics
from tests.bridge.conftest import record_row

# Foreign keys


def test_a_bridge_refuses_datasets_the_registry_does_not_know(fake_refs):
    known, unknown = fake_refs(2)
    manager = InMemoryBridgeManager(datasets={known.id})
    bridge = manager.register("files")
    for operation in (bridge.insert, bridge.ensure):
        with pytest.raises(ConstraintViolationError, match=r"does not know .*foreign key"):
            operation([known, unknown])
        assert bridge.inserted_ids == frozenset()
    bridge.insert([known])
    assert bridge.inserted_ids == {known.id}
    assert manager.datasets == {known.id}
    assert manager.clone().register("files") is bridge


def test_the_dataset_table_is_read_when_asked_so_later_datasets_are_known(fake_refs):
    ref = fake_refs(1)[0]
    datasets: set = set()
    registry = InMemoryRegistry(datasets=datasets)
    bridge = registry.getDatastoreBridgeManager().register("files")
    with pytest.raises(ConstraintViolationError):
        bridge.insert([ref])
    datasets.add(ref.id)  # the registry inserts the dataset, then the datastore records it
    bridge.insert([ref])
    assert bridge.inserted_ids == {ref.id}


def test_ephemeral_bridges_have_no_foreign_key(fake_refs):
    ref = fake_refs(1)[0]
    bridge = InMemoryBridgeManager(datasets=set()).register("memory", ephemeral=True)
    bridge.insert([ref])  # upstream's ephemeral bridge lives outside the database
    assert bridge.inserted_ids == {ref.id}


def test_a_bad_dataset_table_is_refused():
    with pytest.raises(TypeError, match="container of dataset IDs"):
        InMemoryBridgeManager(datasets=42)  # type: ignore[arg-type]


def test_without_a_dataset_table_every_dataset_is_known(manager, fake_refs):
    refs = fake_refs(2)
    manager.register("files").insert(refs)
    assert manager.datasets is None


# Column values


@pytest.fixture
def numbers(opaque):
    spec = ddl.TableSpec(
        fields=[
            ddl.FieldSpec("key", dtype=sqlalchemy.BigInteger, primaryKey=True),
            ddl.FieldSpec("small", dtype=sqlalchemy.SmallInteger, nullable=True),
            ddl.FieldSpec("medium", dtype=sqlalchemy.Integer, nullable=True),
            ddl.FieldSpec("code", dtype=sqlalchemy.String, length=8, nullable=True),
            ddl.FieldSpec("text", dtype=sqlalchemy.String, length=256, nullable=True),
        ]
    )
    return opaque.register("numbers", spec)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("key", 2**70),
        ("key", 2**63),
        ("key", -(2**63) - 1),
        ("medium", 2**31),
        ("medium", -(2**31) - 1),
        ("small", 2**15),
    ],
)
def test_integers_out_of_the_columns_range_are_refused(numbers, column, value):
    row = {"key": 1, column: value}
    with pytest.raises(
        SchemaMismatchError, match=rf"{value} is out of the range of a \d+-bit integer column"
    ):
        numbers.insert(row)
    assert len(numbers) == 0


def test_integers_at_the_ends_of_the_range_are_stored(numbers):
    numbers.insert(
        {"key": 2**63 - 1, "small": -(2**15), "medium": 2**31 - 1},
        {"key": -(2**63), "small": 2**15 - 1, "medium": -(2**31)},
    )
    assert sorted(row["key"] for row in numbers.rows) == [-(2**63), 2**63 - 1]


@pytest.mark.parametrize("column", ["code", "text"])
def test_text_with_a_nul_character_is_refused(numbers, column):
    with pytest.raises(SchemaMismatchError, match="NUL character"):
        numbers.insert({"key": 1, column: "a\x00b"})
    assert len(numbers) == 0


def test_a_short_string_column_refuses_an_empty_string(numbers):
    with pytest.raises(SchemaMismatchError, match="cannot hold an empty string"):
        numbers.insert({"key": 1, "code": ""})
    numbers.insert({"key": 1, "text": ""})  # a long String is TEXT: no such check
    assert [row["text"] for row in numbers.rows] == [""]


# One key twice in a call


def test_a_file_datastore_on_the_fakes_accepts_one_dataset_twice_in_a_transfer(
    make_datastore, make_file_datastore, tmp_path
):
    refs = RefFactory(DataIdFactory(instrument="LSSTCam", seed=3), seed=3)
    ours = make_datastore()
    ref = refs.ref("metrics", storage_class="BtkMetrics")
    ours.put(make_metrics(), ref)
    files = make_file_datastore()
    source = ours.get_file_info_for_transfer([ref.id])
    accepted, rejected = files.transfer_from(source, [ref, ref])
    assert accepted == {ref} and rejected == set()
    assert files.get(ref) == make_metrics()


def test_replace_given_one_key_twice_keeps_the_last_row(records, fake_ids):
    dataset_id = fake_ids(1)[0]
    records.replace(record_row(dataset_id, path="first"), record_row(dataset_id, path="second"))
    assert [row["path"] for row in records.rows] == ["second"]
    with pytest.raises(ConstraintViolationError, match="primary key"):
        records.insert(record_row(dataset_id, path="third"))


def test_a_datastore_on_a_registry_with_a_dataset_table_stores_only_known_datasets(
    make_file_datastore, make_ref
):
    known, unknown = make_ref(), make_ref()
    files = make_file_datastore(bridge_manager=InMemoryBridgeManager(datasets={known.id}))
    files.put(make_metrics(), known)
    with pytest.raises(ConstraintViolationError, match="does not know"):
        files.put(make_metrics(), unknown)
    assert files.knows(known) and not files.knows(unknown)

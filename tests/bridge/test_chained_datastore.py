"""Upstream's ChainedDatastore over FileDatastores (and ours), through our fakes only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lsst.daf.butler import FileDataset
from lsst.daf.butler.datastore import Datastore, DatastoreConfig

from butler_testkit import ConstraintViolationError, InMemoryRegistry
from tests._helpers import make_metrics
from tests.bridge._file_configs import CHAINED_DATASTORE, JSON_FORMATTER, file_datastore_config


class DeliberateError(Exception):
    pass


def chain_config(
    base: Path, *, tables=("whole_records", "parts_records"), with_memory=False, names=None, disassemble=True
):
    """Two FileDatastores, one whole and one disassembling, optionally our in-memory one."""
    children = [
        file_datastore_config(str(base / "whole"), records={"table": tables[0]}),
        file_datastore_config(str(base / "parts"), records={"table": tables[1]}, disassemble=disassemble),
    ]
    for child, name in zip(children, names or (), strict=False):
        child["name"] = name
    if with_memory:
        children.append({"cls": "butler_testkit.InMemoryDatastore", "name": "memory"})
    return {"cls": CHAINED_DATASTORE, "datastores": children}


@pytest.fixture
def chain(tmp_path, manager):
    return Datastore.fromConfig(DatastoreConfig(chain_config(tmp_path / "repo", with_memory=True)), manager)


def file_children(chain):
    return chain.datastores[:2]


def table_sizes(manager):
    return {name: len(table) for name, table in manager.opaque.tables.items()}


def test_put_is_recorded_by_every_file_child(chain, manager, make_ref):
    ref = make_ref()
    chain.put(make_metrics(), ref)
    whole, parts = file_children(chain)
    assert chain.get(ref) == make_metrics()
    assert chain.exists(ref)
    assert chain.knows(ref)
    assert manager.findDatastores(ref) == [whole.name, parts.name]
    assert set(manager.bridges) == {whole.name, parts.name}  # our in-memory child registers nothing
    assert table_sizes(manager) == {"whole_records": 1, "parts_records": 3}
    assert chain.datastores[2].exists(ref)


def test_trash_and_empty_trash_clear_every_child(chain, manager, make_ref):
    kept, trashed = make_ref(), make_ref()
    chain.put(make_metrics(), kept)
    chain.put(make_metrics(), trashed)
    chain.trash([trashed])
    for child in file_children(chain):
        assert manager.bridges[child.name].trashed_ids == {trashed.id}
    assert chain.exists(trashed)
    chain.emptyTrash()
    assert not chain.exists(trashed)
    assert chain.get(kept) == make_metrics()
    for child in file_children(chain):
        bridge = manager.bridges[child.name]
        assert (bridge.inserted_ids, bridge.trashed_ids) == ({kept.id}, set())
    assert table_sizes(manager) == {"whole_records": 1, "parts_records": 3}


def test_forget_clears_every_child(chain, manager, make_ref):
    ref = make_ref()
    chain.put(make_metrics(), ref)
    chain.forget([ref])
    assert not chain.knows(ref)
    assert table_sizes(manager) == {"whole_records": 0, "parts_records": 0}
    assert [op.operation for op in manager.operations][-2:] == ["forget", "forget"]


@pytest.mark.parametrize("transfer", ["copy", "move"])
def test_ingest_reaches_every_file_child(tmp_path, manager, make_ref, transfer):
    chain = Datastore.fromConfig(DatastoreConfig(chain_config(tmp_path / "repo")), manager)
    source = tmp_path / "source.json"
    source.write_text(json.dumps({"summary": {}, "output": None, "data": [4]}))
    ref = make_ref()
    chain.ingest(FileDataset(path=str(source), refs=[ref], formatter=JSON_FORMATTER), transfer=transfer)
    assert source.exists() == (transfer == "copy")
    assert chain.get(ref).data == [4]
    assert manager.findDatastores(ref) == [child.name for child in chain.datastores]
    assert table_sizes(manager) == {"whole_records": 1, "parts_records": 1}  # ingest never disassembles


def test_export_records_then_import_records_into_a_second_chain(tmp_path, manager, make_ref):
    chain = Datastore.fromConfig(DatastoreConfig(chain_config(tmp_path / "repo")), manager)
    refs = [make_ref(), make_ref()]
    for ref in refs:
        chain.put(make_metrics(), ref)
    exported = chain.export_records(refs)
    assert set(exported) == {child.name for child in chain.datastores}
    shutil.copytree(tmp_path / "repo", tmp_path / "copy")
    other_manager = InMemoryRegistry().getDatastoreBridgeManager()
    config = chain_config(tmp_path / "copy", names=[child.name for child in chain.datastores])
    other = Datastore.fromConfig(DatastoreConfig(config), other_manager)

    other.import_records(exported)

    assert all(other.get(ref) == make_metrics() for ref in refs)
    assert table_sizes(other_manager) == table_sizes(manager) == {"whole_records": 2, "parts_records": 6}
    for child in other.datastores:
        assert other_manager.bridges[child.name].inserted_ids == {ref.id for ref in refs}


def test_a_rolled_back_put_leaves_nothing_in_any_child(chain, manager, make_ref):
    ref = make_ref()
    with pytest.raises(DeliberateError), manager.transaction(), chain.transaction():
        chain.put(make_metrics(), ref)
        raise DeliberateError
    assert not chain.exists(ref)
    assert table_sizes(manager) == {"whole_records": 0, "parts_records": 0}
    assert all(bridge.inserted_ids == set() for bridge in manager.bridges.values())


def test_a_rolled_back_trash_keeps_the_dataset_in_every_file_child(chain, manager, make_ref):
    ref = make_ref()
    chain.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), manager.transaction(), chain.transaction():
        chain.trash(ref)
        raise DeliberateError
    chain.emptyTrash()
    assert chain.get(ref) == make_metrics()
    assert all(child.exists(ref) for child in file_children(chain))
    assert all(bridge.trashed_ids == set() for bridge in manager.bridges.values())


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="upstream ChainedDatastore never opens its children's transactions, so an ephemeral child's "
    "trash is not rolled back",
)
def test_a_rolled_back_trash_keeps_the_dataset_in_an_in_memory_child(chain, manager, make_ref):
    ref = make_ref()
    chain.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), manager.transaction(), chain.transaction():
        chain.trash(ref)
        raise DeliberateError
    chain.emptyTrash()
    assert chain.datastores[2].exists(ref)


def test_children_that_share_a_records_table_collide_with_a_clear_error(tmp_path, manager, make_ref):
    # A real misconfiguration: both children write the same primary keys into
    # one table, which a SQL registry refuses too.
    config = chain_config(tmp_path / "repo", tables=("records", "records"), disassemble=False)
    chain = Datastore.fromConfig(DatastoreConfig(config), manager)
    with pytest.raises(
        ConstraintViolationError, match=r"Opaque table 'records': insert\(\) would break the primary key"
    ):
        chain.put(make_metrics(), make_ref())

"""Datastores on one repository: objects shared by directory, records by registry database."""

from __future__ import annotations

import os

import pytest
from lsst.daf.butler.datastore import Datastore, DatastoreConfig

from butler_testkit import InMemoryDatastore
from butler_testkit.bridge import InMemoryBridgeManager
from butler_testkit.datastore import release_shared_state
from tests._helpers import make_metrics

CONFIG = {"datastore": {"cls": "butler_testkit.InMemoryDatastore"}}


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    yield str(path)
    release_shared_state(str(path))


def _open(root: str, manager: InMemoryBridgeManager | None = None, **config: object) -> InMemoryDatastore:
    datastore_config = DatastoreConfig({"datastore": {**CONFIG["datastore"], **config}})
    datastore = Datastore.fromConfig(datastore_config, manager or InMemoryBridgeManager(), root)
    assert isinstance(datastore, InMemoryDatastore)
    return datastore


@pytest.fixture
def ref(make_ref):
    return make_ref()


def test_one_registry_knows_what_any_of_its_datastores_stored(root, ref):
    manager = InMemoryBridgeManager()
    first, second = _open(root, manager), _open(root, manager)
    first.put(make_metrics(), ref)
    assert second.knows(ref) and second.exists(ref)
    assert second.get(ref) == make_metrics()
    assert first.name == second.name == f"InMemoryDatastore@{first._repository.root}"


def test_another_registry_reads_only_in_trust_mode(root, ref):
    mine, theirs = _open(root), _open(root)
    mine.put(make_metrics(), ref)
    assert theirs.knows_these([ref]) == {ref: False}
    assert theirs.mexists([ref]) == {ref: False}
    with pytest.raises(FileNotFoundError):
        theirs.get(ref)
    assert theirs.stored_refs() == []
    theirs._set_trust_mode(True)
    assert theirs.exists(ref) and not theirs.knows(ref)
    assert theirs.get(ref) == make_metrics()
    assert theirs.getURI(ref) == mine.getURI(ref)


def test_imported_records_make_a_stored_dataset_known_and_a_rollback_forgets_them(root, ref):
    mine, theirs = _open(root), _open(root)
    mine.put(make_metrics(), ref)
    records = mine.export_records([ref])
    with pytest.raises(RuntimeError, match="abandon"), theirs.transaction():
        theirs.import_records(records)
        assert theirs.knows(ref)
        raise RuntimeError("abandon")
    assert not theirs.knows(ref)
    theirs.import_records(records)
    assert theirs.knows(ref) and theirs.get(ref) == make_metrics()
    with pytest.raises(FileExistsError):
        theirs.import_records(records)


def test_forgetting_keeps_the_object_while_another_registry_knows_it(root, ref):
    mine, theirs = _open(root), _open(root)
    mine.put(make_metrics(), ref)
    theirs.import_records(mine.export_records([ref]))
    with pytest.raises(RuntimeError, match="abandon"), mine.transaction():
        mine.forget([ref])
        raise RuntimeError("abandon")
    assert mine.knows(ref)
    mine.forget([ref])
    assert not mine.knows(ref)
    assert theirs.get(ref) == make_metrics()
    theirs.forget([ref])
    assert not theirs.knows(ref)
    theirs._set_trust_mode(True)
    assert not theirs.exists(ref)


def test_the_trash_of_one_registry_is_not_emptied_by_another(root, ref, make_ref):
    other = make_ref()
    mine, theirs = _open(root), _open(root)
    mine.put(make_metrics(), ref)
    theirs.put(make_metrics(), other)
    mine.trash(ref)
    theirs.trash(ref)  # Not known there: skipped.
    theirs.trash(other)
    theirs.emptyTrash()
    assert mine.trashed_refs() == [ref]
    mine.emptyTrash()
    assert mine.trashed_refs() == []
    assert not mine.exists(ref)


def test_a_root_reached_through_a_symbolic_link_is_the_same_repository(root, tmp_path, ref):
    link = tmp_path / "link"
    os.symlink(root, link)
    manager = InMemoryBridgeManager()
    direct, through_link = _open(root, manager), _open(str(link), manager)
    direct.put(make_metrics(), ref)
    assert through_link.get(ref) == make_metrics()
    assert through_link.name == direct.name


def test_shared_false_keeps_a_datastore_private(root, ref):
    manager = InMemoryBridgeManager()
    private, shared = _open(root, manager, shared=False), _open(root, manager)
    private.put(make_metrics(), ref)
    assert not shared.exists(ref)
    assert private.name != shared.name


def test_a_root_that_is_not_a_local_directory_is_shared_by_its_uri(ref):
    root = "mem://nowhere/repo"
    try:
        manager = InMemoryBridgeManager()
        first, second = _open(root, manager), _open(root, manager)
        first.put(make_metrics(), ref)
        assert second.get(ref) == make_metrics()
    finally:
        release_shared_state(root)

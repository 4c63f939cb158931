"""Snapshot and restore of the whole stored state."""

from __future__ import annotations

import pytest

from tests._helpers import make_metrics


def _fill(datastore, make_ref, count=4):
    refs = [make_ref() for _ in range(count)]
    for index, ref in enumerate(refs):
        datastore.put(make_metrics(index + 1), ref)
    return refs


def test_restore_brings_back_datasets_and_trash(datastore, make_ref):
    refs = _fill(datastore, make_ref)
    datastore.trash(refs[0])
    snapshot = datastore.snapshot()
    assert len(snapshot) == 4
    datastore.remove(refs[1])
    datastore.trash(refs[2])
    datastore.put(make_metrics(9), extra := make_ref())
    datastore.emptyTrash()
    datastore.restore(snapshot)
    assert [datastore.exists(ref) for ref in refs] == [True, True, True, True]
    assert not datastore.exists(extra)
    assert datastore.trashed_refs() == [refs[0]]
    assert datastore.get(refs[1]) == make_metrics(2)
    datastore.emptyTrash()
    assert not datastore.exists(refs[0]) and datastore.exists(refs[2])


def test_a_snapshot_can_be_restored_many_times(datastore, make_ref):
    refs = _fill(datastore, make_ref)
    snapshot = datastore.snapshot()
    for _ in range(3):
        datastore.trash(refs)
        datastore.emptyTrash()
        datastore.restore(snapshot)
        assert all(datastore.exists(ref) for ref in refs)
        assert datastore.trashed_refs() == []


def test_restore_into_another_datastore_does_not_tie_them(make_datastore, make_ref):
    source, target = make_datastore(), make_datastore()
    refs = _fill(source, make_ref)
    target.restore(source.snapshot())
    assert all(target.exists(ref) for ref in refs)
    target.trash(refs[0])
    assert source.trashed_refs() == []
    source.trash(refs[1])
    target.emptyTrash()
    assert source.exists(refs[0]) and not target.exists(refs[0])
    assert target.exists(refs[1])


def test_clones_see_the_restored_state(datastore, registry, make_ref):
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    refs = _fill(datastore, make_ref, 2)
    snapshot = datastore.snapshot()
    clone.remove(refs[0])
    datastore.restore(snapshot)
    assert clone.exists(refs[0])


def test_restore_is_refused_inside_a_transaction(datastore, make_ref):
    snapshot = datastore.snapshot()
    with datastore.transaction(), pytest.raises(RuntimeError, match="inside a transaction"):
        datastore.restore(snapshot)


def test_restore_needs_a_snapshot(datastore):
    with pytest.raises(TypeError, match="StateSnapshot"):
        datastore.restore({})


def test_copy_isolation_protects_the_snapshot(datastore, make_ref):
    (ref,) = _fill(datastore, make_ref, 1)
    snapshot = datastore.snapshot()
    datastore.get(ref).data.append("mutated")
    datastore.restore(snapshot)
    assert datastore.get(ref) == make_metrics(1)

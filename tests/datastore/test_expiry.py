"""Datasets that expire after a configured age."""

from __future__ import annotations

import contextlib
import gc
import weakref

import pytest
from lsst.daf.butler.datastore import DatastoreValidationError

from tests._helpers import directory_uri, make_metrics


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def expiring(make_datastore):
    datastore = make_datastore(expire_after=10)
    datastore.clock = FakeClock()
    return datastore


def test_datasets_vanish_once_older_than_the_limit(expiring, make_ref):
    old, young = make_ref(), make_ref()
    expiring.put(make_metrics(), old)
    expiring.clock.now += 6
    expiring.put(make_metrics(), young)
    expiring.clock.now += 5  # old is 11 s old, young 5 s
    assert not expiring.exists(old)
    assert not expiring.knows(old)
    with pytest.raises(FileNotFoundError):
        expiring.get(old)
    assert expiring.get(young) == make_metrics()
    assert expiring.stored_refs() == [young]
    expiring.clock.now += 5
    assert expiring.mexists([old, young]) == {old: False, young: False}


def test_an_expired_dataset_can_be_put_again(expiring, make_ref):
    ref = make_ref()
    expiring.put(make_metrics(1), ref)
    expiring.clock.now += 10
    expiring.put(make_metrics(2), ref)
    assert expiring.get(ref) == make_metrics(2)


def test_expired_datasets_leave_the_trash(expiring, make_ref):
    ref = make_ref()
    expiring.put(make_metrics(), ref)
    expiring.trash(ref)
    expiring.clock.now += 60
    assert expiring.trashed_refs() == []
    assert expiring.expire() == 0


def test_expire_sweeps_now(expiring, make_ref):
    refs = [make_ref() for _ in range(3)]
    for ref in refs:
        expiring.put(make_metrics(), ref)
    expiring.clock.now += 10
    assert expiring.expire() == 3
    assert expiring._state.datasets == {}


def test_a_restored_snapshot_keeps_storage_times(expiring, make_ref):
    ref = make_ref()
    expiring.put(make_metrics(), ref)
    snapshot = expiring.snapshot()
    expiring.clock.now += 11
    expiring.restore(snapshot)
    assert not expiring.exists(ref)


def test_without_expiry_nothing_expires(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    assert datastore.expire() == 0
    assert datastore._state.datasets[ref.id.int].stored_at is None


@pytest.mark.parametrize("value", [0, -5, "10", True])
def test_expire_after_must_be_a_positive_number(make_datastore, value):
    with pytest.raises(DatastoreValidationError, match="'expire_after' must be a positive number"):
        make_datastore(expire_after=value)


@pytest.mark.parametrize("leave", ["forget", "remove", "trash and emptyTrash"])
def test_a_dataset_that_leaves_is_released_at_once_though_it_would_expire_later(
    make_datastore, make_ref, leave
):
    # Every index must drop what the store drops: the age index too.
    datastore = make_datastore(expire_after=3600, isolation="reference")
    datastore.clock = FakeClock()
    ref = make_ref()
    stored = make_metrics()
    datastore.put(stored, ref)
    alive = weakref.ref(stored)
    if leave == "forget":
        datastore.forget([ref])
    elif leave == "remove":
        datastore.remove(ref)
    else:
        datastore.trash(ref)
        datastore.emptyTrash()
    del stored
    gc.collect()
    assert alive() is None


def test_put_trash_empty_cycles_keep_no_bookkeeping(expiring, make_ref):
    for _ in range(50):
        refs = [make_ref() for _ in range(20)]
        for ref in refs:
            expiring.put(make_metrics(), ref)
        expiring.trash(refs)
        expiring.emptyTrash()
    state = expiring._stored_state
    assert state.datasets == {}
    assert state.index_problems() == []
    assert len(state._by_age) == 0


def test_a_restored_snapshot_from_a_datastore_that_does_not_expire_expires(make_datastore, make_ref):
    plain = make_datastore()
    ref = make_ref()
    plain.put(make_metrics(), ref)
    expiring = make_datastore(expire_after=10)
    expiring.clock = FakeClock()
    expiring.restore(plain.snapshot())
    expiring.clock.now += 9
    assert expiring.exists(ref)
    expiring.clock.now += 1
    assert not expiring.exists(ref)


def test_a_snapshot_of_an_expiring_datastore_restored_into_one_that_does_not_keeps_no_times(
    expiring, make_datastore, make_ref
):
    ref = make_ref()
    expiring.put(make_metrics(), ref)
    plain = make_datastore()
    plain.restore(expiring.snapshot())
    assert plain._stored_state.datasets[ref.id.int].stored_at is None
    assert plain._stored_state.index_problems() == []


def test_puts_out_of_time_order_still_expire_oldest_first(expiring, make_ref):
    # Threads read the clock before they take the state's lock, so puts can
    # arrive slightly out of order.
    old, young = make_ref(), make_ref()
    expiring.put(make_metrics(), young)
    expiring.clock.now -= 5
    expiring.put(make_metrics(), old)
    expiring.clock.now += 5 + 10 - 2  # old is 13 s old, young 8 s
    assert not expiring.exists(old)
    assert expiring.exists(young)


def _every_operation(datastore, ref, other, tmp_path):
    """Each public operation of the datastore, called about ``ref`` (or not at all)."""
    return {
        "exists": lambda: datastore.exists(ref),
        "knows": lambda: datastore.knows(ref),
        "knows_these": lambda: datastore.knows_these([ref]),
        "mexists": lambda: datastore.mexists([ref]),
        "get": lambda: datastore.get(ref),
        "getURIs": lambda: datastore.getURIs(ref),
        "getURI": lambda: datastore.getURI(ref),
        "getManyURIs": lambda: datastore.getManyURIs([ref], allow_missing=True),
        "put": lambda: datastore.put(make_metrics(), other),
        "put_new": lambda: datastore.put_new(make_metrics(), other),
        "trash": lambda: datastore.trash(other),
        "emptyTrash": lambda: datastore.emptyTrash(refs=[other]),
        "remove": lambda: datastore.remove(other),
        "forget": lambda: datastore.forget([other]),
        "snapshot": lambda: datastore.snapshot(),
        "stored_refs": lambda: datastore.stored_refs(),
        "trashed_refs": lambda: datastore.trashed_refs(),
        "export_records": lambda: datastore.export_records([ref]),
        "get_file_info_for_transfer": lambda: datastore.get_file_info_for_transfer([ref.id]),
        "retrieveArtifacts": lambda: datastore.retrieveArtifacts([ref], directory_uri(tmp_path)),
        "export": lambda: list(datastore.export([ref], directory=tmp_path, transfer="copy")),
    }


OPERATIONS = sorted(_every_operation(None, None, None, None))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_sees_expiry_first(expiring, make_ref, tmp_path, operation):
    old, other = make_ref(), make_ref()
    expiring.put(make_metrics(), old)
    expiring.clock.now += 10
    call = _every_operation(expiring, old, other, tmp_path)[operation]
    with contextlib.suppress(FileNotFoundError, ValueError):  # about the expired dataset: it is gone
        call()
    assert old.id.int not in expiring._stored_state.datasets

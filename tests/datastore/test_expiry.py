"""Datasets that expire after a configured age."""

from __future__ import annotations

import pytest
from lsst.daf.butler.datastore import DatastoreValidationError

from tests._helpers import make_metrics


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

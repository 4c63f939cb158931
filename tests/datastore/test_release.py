"""Nothing is kept of a dataset once it has left, whichever way it left.

A dataset leaves by ``forget``, ``remove``, ``trash`` and ``emptyTrash``,
expiry, the rollback of its put, the ``restore()`` of an earlier snapshot,
or a put that failed (an injected fault midway, or refused by the
constraints). After each, under ``reference`` isolation (the stored object
is the one put) nothing refers to the object put; under ``copy`` isolation
the datastore's own bookkeeping holds nothing; and many cycles of put and
leave do not grow the memory in use.
"""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
import uuid
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from lsst.daf.butler import DatasetRef, DatasetTypeNotSupportedError

from butler_testkit import Fault, FaultPlan, InjectedFaultError, InMemoryDatastore, InstrumentedDatastore
from butler_testkit.factories import MetricsRecord


class DeliberateError(Exception):
    """Raised to roll a transaction back."""


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _forget(store: Any, ref: DatasetRef, obj: Any) -> None:
    store.put(obj, ref)
    store.forget([ref])


def _remove(store: Any, ref: DatasetRef, obj: Any) -> None:
    store.put(obj, ref)
    store.remove(ref)


def _trash_and_empty(store: Any, ref: DatasetRef, obj: Any) -> None:
    store.put(obj, ref)
    store.trash(ref)
    store.emptyTrash()


def _expiry(store: Any, ref: DatasetRef, obj: Any) -> None:
    store.put(obj, ref)
    store.clock.now += 10
    assert store.expire() == 1


def _rollback(store: Any, ref: DatasetRef, obj: Any) -> None:
    with pytest.raises(DeliberateError), store.transaction():
        store.put(obj, ref)
        raise DeliberateError


def _restore(store: Any, ref: DatasetRef, obj: Any) -> None:
    earlier = store.snapshot()
    store.put(obj, ref)
    store.restore(earlier)


def _injected_fault(store: Any, ref: DatasetRef, obj: Any) -> None:
    with pytest.raises(InjectedFaultError):
        store.put(obj, ref)


def _refused(store: Any, ref: DatasetRef, obj: Any) -> None:
    with pytest.raises(DatasetTypeNotSupportedError):
        store.put(obj, ref)


@dataclasses.dataclass(frozen=True)
class Way:
    """One way for a dataset to leave, and the datastore it needs."""

    leave: Callable[[Any, DatasetRef, Any], None]
    config: dict[str, Any] = dataclasses.field(default_factory=lambda: {"expire_after": 1e9})
    """Every datastore keeps an age index: that too must let go."""
    faults: FaultPlan | None = None
    """Faults of an `InstrumentedDatastore` wrapped around the datastore."""


WAYS = {
    "forget": Way(_forget),
    "remove": Way(_remove),
    "trash and emptyTrash": Way(_trash_and_empty),
    "expiry": Way(_expiry, {"expire_after": 10}),
    "rollback of its put": Way(_rollback),
    "restore of an earlier snapshot": Way(_restore),
    "put failed by an injected fault": Way(_injected_fault, faults=FaultPlan(Fault("put", point="stored"))),
    "put refused by the constraints": Way(
        _refused, {"constraints": {"reject": ["metric"]}, "expire_after": 1e9}
    ),
}


@pytest.fixture
def make_store(make_datastore, registry):
    """Make the datastore a way needs, and what to call: the datastore or a wrapper with faults."""

    def make(way: Way, isolation: str) -> tuple[InMemoryDatastore, Any]:
        datastore = make_datastore(isolation=isolation, **way.config)
        datastore.clock = Clock()
        if way.faults is None:
            return datastore, datastore
        wrapper = InstrumentedDatastore.wrap(datastore)
        wrapper.faults = way.faults
        return datastore, wrapper

    return make


def _big_metrics(token: int) -> MetricsRecord:
    # About 60 kB, so that one leaked dataset in many cycles shows far above
    # noise; in one string, so that tracing its allocation costs little.
    return MetricsRecord(summary={"blob": f"{token:08d}" * 7500}, output={"kept": False}, data=[token])


def _assert_nothing_kept(datastore: InMemoryDatastore) -> None:
    state = datastore._stored_state
    assert state.datasets == {}
    assert state.index_problems() == []
    assert state.trash_log_length() == 0
    assert datastore.trashed_refs() == []
    assert datastore._transaction is None


@pytest.mark.parametrize("isolation", ["reference", "copy"])
@pytest.mark.parametrize("how", sorted(WAYS))
def test_nothing_refers_to_a_dataset_that_left(make_store, make_ref, isolation, how):
    datastore, store = make_store(WAYS[how], isolation)
    ref = make_ref()
    obj = _big_metrics(0)
    alive = weakref.ref(obj)
    WAYS[how].leave(store, ref, obj)
    del obj
    gc.collect()
    kept = alive()
    if kept is not None:
        holders = sorted({type(holder).__name__ for holder in gc.get_referrers(kept)})
        del kept
        pytest.fail(f"after {how} the object put is still referred to by objects of types {holders}")
    _assert_nothing_kept(datastore)


WARM_UP = 10
CYCLES = 100
ALLOWED_GROWTH = 256 * 1024
"""Bytes: each cycle's object takes 60 kB, so keeping even one in 20 would exceed it."""


@pytest.mark.parametrize("isolation", ["reference", "copy"])
@pytest.mark.parametrize("how", sorted(WAYS))
def test_cycles_of_put_and_leave_do_not_grow_memory(make_store, make_ref, isolation, how):
    datastore, store = make_store(WAYS[how], isolation)
    template = make_ref()
    leave = WAYS[how].leave

    def cycle(number: int) -> None:
        # A new dataset ID each time, on one dataset type and data ID, so
        # that only what the datastore keeps can grow.
        dataset_id = uuid.UUID(int=number + 1)
        ref = DatasetRef(template.datasetType, template.dataId, run=template.run, id=dataset_id)
        leave(store, ref, _big_metrics(number))

    for number in range(WARM_UP):
        cycle(number)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for number in range(WARM_UP, WARM_UP + CYCLES):
            cycle(number)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < ALLOWED_GROWTH, f"{growth} bytes more after {CYCLES} cycles of {how}"
    _assert_nothing_kept(datastore)

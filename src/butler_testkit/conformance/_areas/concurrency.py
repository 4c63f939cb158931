"""Concurrency: several threads on one datastore."""

from __future__ import annotations

__all__ = ("ConcurrencyTests",)

import threading
import time
from collections.abc import Callable

import pytest
from lsst.daf.butler.datastore import Datastore

from .._capabilities import requires
from .._refs import ConformanceRefs
from .._samples import DeliberateError, sample_metrics

_THREADS = 4
# Long enough for the threads to interleave, short enough for a file datastore.
_PER_THREAD = 25
_TIMEOUT = 60.0


def _run_in_threads(*calls: Callable[[], None], timeout: float = _TIMEOUT) -> None:
    """Run each call in its own thread; fail on the first error or on a hang.

    Daemon threads, so that a datastore that deadlocks fails its test
    instead of hanging the run (and the interpreter's exit) for ever.
    """
    errors: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as err:  # re-raised in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        raise AssertionError(
            f"{stuck} of {len(threads)} threads did not finish within {timeout} s (deadlock?)."
        )


class ConcurrencyTests:
    """Threads never make a datastore raise or lose data."""

    conformance_area = "concurrency"

    @requires("thread_safe")
    def test_concurrent_puts_and_gets_lose_nothing(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        batches = [refs.refs(_PER_THREAD) for _ in range(_THREADS)]

        def put_and_read(batch_number: int) -> None:
            for ref in batches[batch_number]:
                datastore.put(sample_metrics(token=str(ref.id)), ref)
                assert datastore.get(ref) == sample_metrics(token=str(ref.id))

        _run_in_threads(*(lambda number=number: put_and_read(number) for number in range(_THREADS)))
        every_ref = [ref for batch in batches for ref in batch]
        assert all(datastore.mexists(every_ref).values())

    @requires("thread_safe")
    def test_concurrent_trash_and_emptying_never_raise_or_lose_data(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        batches = [refs.refs(_PER_THREAD) for _ in range(_THREADS)]
        kept = refs.refs(_PER_THREAD)
        for ref in [ref for batch in batches for ref in batch] + kept:
            datastore.put(sample_metrics(), ref)
        trashing_done = threading.Event()

        def trash(batch_number: int) -> None:
            for ref in batches[batch_number]:
                datastore.trash(ref)

        def empty() -> None:
            while not trashing_done.is_set():
                datastore.emptyTrash()

        def trash_all() -> None:
            try:
                _run_in_threads(*(lambda number=number: trash(number) for number in range(_THREADS)))
            finally:
                trashing_done.set()

        _run_in_threads(empty, empty, trash_all)
        datastore.emptyTrash()
        trashed = [ref for batch in batches for ref in batch]
        assert not any(datastore.mexists(trashed).values())
        assert all(datastore.get(ref) == sample_metrics() for ref in kept)

    @requires("thread_safe")
    def test_a_rollback_in_one_thread_leaves_another_threads_puts_alone(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        rolled_back, other = refs.refs(2)
        put_in_transaction = threading.Event()
        other_thread_done = threading.Event()

        def roll_back() -> None:
            with pytest.raises(DeliberateError), datastore.transaction():
                datastore.put(sample_metrics(), rolled_back)
                put_in_transaction.set()
                assert other_thread_done.wait(_TIMEOUT)
                raise DeliberateError

        def put_outside_any_transaction() -> None:
            assert put_in_transaction.wait(_TIMEOUT)
            try:
                datastore.put(sample_metrics(), other)
            finally:
                other_thread_done.set()

        _run_in_threads(roll_back, put_outside_any_transaction)
        assert datastore.mexists([rolled_back, other]) == {rolled_back: False, other: True}

"""Concurrency: several threads on one datastore."""

from __future__ import annotations

__all__ = ("ConcurrencyTests",)

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from lsst.daf.butler.datastore import Datastore

from .._capabilities import requires
from .._refs import ConformanceRefs
from .._samples import DeliberateError, sample_metrics

_THREADS = 4
# Long enough for the threads to interleave, short enough for a file datastore.
_PER_THREAD = 25
_TIMEOUT = 60.0


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

        with ThreadPoolExecutor(_THREADS) as pool:
            for future in [pool.submit(put_and_read, number) for number in range(_THREADS)]:
                future.result(timeout=_TIMEOUT)
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

        with ThreadPoolExecutor(_THREADS + 2) as pool:
            emptying = [pool.submit(empty) for _ in range(2)]
            trashing = [pool.submit(trash, number) for number in range(_THREADS)]
            try:
                for future in trashing:
                    future.result(timeout=_TIMEOUT)
            finally:
                trashing_done.set()
            for future in emptying:
                future.result(timeout=_TIMEOUT)
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

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(roll_back), pool.submit(put_outside_any_transaction)]
            for future in futures:
                future.result(timeout=_TIMEOUT)
        assert datastore.mexists([rolled_back, other]) == {rolled_back: False, other: True}

"""Stress: 8 threads and several asyncio tasks on one datastore and its clones, with deadlines.

Every worker owns its datasets, so what the successful, committed
operations imply is known exactly: each worker keeps a model (dataset ID to
the token it was put with, and whether it is in the trash), updated only
after an operation returned or a transaction committed. Rolled-back
transactions must leave no trace. A hung worker fails the test at its
deadline instead of blocking the run: threads are daemons joined with a
timeout, and the asyncio tasks run under ``asyncio.wait_for`` in a thread of
their own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from butler_testkit import InMemoryDatastore
from butler_testkit.factories import MetricsRecord

THREADS = 8
TASKS = 4
OPERATIONS = 300
POOL = 6
DEADLINE = 60.0
"""Seconds every worker has; the test takes about a second, so only a hang reaches it."""


def _value(token: int) -> MetricsRecord:
    return MetricsRecord(summary={"token": token}, output={"worker": token // 1000}, data=[token])


class DeliberateRollbackError(Exception):
    """Raised inside a transaction to roll it back."""


@dataclasses.dataclass
class Model:
    """What one worker's successful, committed operations imply for its datasets."""

    stored: dict[Any, int] = dataclasses.field(default_factory=dict)
    """Dataset ID to the token of the object put."""
    trashed: set[Any] = dataclasses.field(default_factory=set)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    # Switch threads far more often than every 5 ms, so that interleavings
    # happen within a short test.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


class Worker:
    """A seeded random mix of operations on its own datasets, through the stores it is given."""

    def __init__(self, number: int, stores: list[InMemoryDatastore], refs: list[Any]) -> None:
        self.number = number
        self.rng = random.Random(number)
        self.stores = stores
        self.refs = refs
        self.model = Model()
        self.tokens = iter(range(number * 1000, number * 1000 + 1000))
        self.done = 0

    def _store(self) -> InMemoryDatastore:
        return self.rng.choice(self.stores)

    def step(self) -> bool:
        """Do one operation, or prepare a transaction and return `True` for the caller to run it."""
        rng, model = self.rng, self.model
        store = self._store()
        ref = rng.choice(self.refs)
        action = rng.choice(["put", "get", "trash", "emptyTrash", "remove", "commit", "roll back"])
        if action == "put":
            if ref.id in model.stored:
                with pytest.raises(FileExistsError):
                    store.put(_value(-1), ref)
            else:
                token = next(self.tokens)
                store.put(_value(token), ref)
                model.stored[ref.id] = token
        elif action == "get":
            if ref.id in model.stored:
                assert store.get(ref) == _value(model.stored[ref.id])
            else:
                assert not store.exists(ref)
        elif action == "trash":
            store.trash(ref)
            if ref.id in model.stored:
                model.trashed.add(ref.id)
        elif action == "emptyTrash":
            store.emptyTrash(refs=[ref])
            if ref.id in model.trashed:
                model.trashed.discard(ref.id)
                del model.stored[ref.id]
        elif action == "remove" and ref.id in model.stored:
            store.remove(ref)
            model.trashed.discard(ref.id)
            del model.stored[ref.id]
        elif action in ("commit", "roll back"):
            self._prepare_transaction(store, action == "commit")
            return True
        self.done += 1
        return False

    def _prepare_transaction(self, store: InMemoryDatastore, commits: bool) -> None:
        """Prepare a transaction: a put of a free dataset, then a trash of a stored one."""
        free = [ref for ref in self.refs if ref.id not in self.model.stored]
        stored = [ref for ref in self.refs if ref.id in self.model.stored]
        new = self.rng.choice(free) if free else None
        old = self.rng.choice(stored) if stored else None
        token = next(self.tokens)

        def first() -> None:
            if new is not None:
                store.put(_value(token), new)

        def second() -> None:
            if old is not None:
                store.trash(old)

        def finish(error: BaseException | None) -> None:
            if error is None and commits:
                if new is not None:
                    self.model.stored[new.id] = token
                if old is not None:
                    self.model.trashed.add(old.id)
            self.done += 1

        self.pending = (store, first, second, finish, commits)

    def run_transaction_now(self) -> None:
        """Run the pending transaction without yielding (a thread)."""
        store, first, second, finish, commits = self.pending
        try:
            with store.transaction():
                first()
                second()
                if not commits:
                    raise DeliberateRollbackError
        except DeliberateRollbackError as err:
            finish(err)
        else:
            finish(None)

    async def run_transaction_awaiting(self) -> None:
        """Run the pending transaction, letting other tasks run inside it (a task)."""
        store, first, second, finish, commits = self.pending
        try:
            with store.transaction():
                first()
                await asyncio.sleep(0)
                second()
                await asyncio.sleep(0)
                if not commits:
                    raise DeliberateRollbackError
        except DeliberateRollbackError as err:
            finish(err)
        else:
            finish(None)


@pytest.mark.parametrize("isolation", ["copy", "reference"])
def test_threads_and_tasks_leave_what_their_committed_operations_imply(
    make_datastore, make_ref, registry, fast_switching, isolation
):
    datastore = make_datastore(isolation=isolation)
    manager = registry.getDatastoreBridgeManager()
    stores = [datastore, datastore.clone(manager), datastore.clone(manager)]
    workers = [Worker(n, stores, [make_ref() for _ in range(POOL)]) for n in range(THREADS + TASKS)]
    errors: list[tuple[int, BaseException]] = []
    start = threading.Barrier(THREADS + 1)

    def in_a_thread(worker: Worker) -> None:
        try:
            start.wait(DEADLINE)
            for _ in range(OPERATIONS):
                if worker.step():
                    worker.run_transaction_now()
        except BaseException as err:  # reported below, with the worker's number
            errors.append((worker.number, err))

    async def as_a_task(worker: Worker) -> None:
        for _ in range(OPERATIONS):
            if worker.step():
                await worker.run_transaction_awaiting()
            await asyncio.sleep(0)

    async def all_tasks() -> None:
        tasks = [as_a_task(worker) for worker in workers[THREADS:]]
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), DEADLINE)
        errors.extend(
            (worker.number, result)
            for worker, result in zip(workers[THREADS:], results, strict=True)
            if isinstance(result, BaseException)
        )

    def loop() -> None:
        try:
            start.wait(DEADLINE)
            asyncio.run(all_tasks())
        except BaseException as err:
            errors.append((-1, err))

    threads = [threading.Thread(target=in_a_thread, args=(w,), daemon=True) for w in workers[:THREADS]]
    threads.append(threading.Thread(target=loop, daemon=True))
    deadline = time.monotonic() + DEADLINE
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not [thread for thread in threads if thread.is_alive()], "a worker hung past its deadline"
    assert errors == []
    assert all(worker.done == OPERATIONS for worker in workers)

    stored = {ref.id for ref in datastore.stored_refs()}
    trashed = {ref.id for ref in datastore.trashed_refs()}
    assert stored == {dataset_id for w in workers for dataset_id in w.model.stored}
    assert trashed == {dataset_id for w in workers for dataset_id in w.model.trashed}
    for store in stores:
        assert {ref.id for ref in store.stored_refs()} == stored
    for worker in workers:
        for ref in worker.refs:
            if ref.id in worker.model.stored:
                assert datastore.get(ref) == _value(worker.model.stored[ref.id])
    assert datastore._stored_state.index_problems() == []
    assert datastore._transaction is None

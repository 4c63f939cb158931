"""Concurrent use: 8 threads of mixed operations, invariants checked after."""

from __future__ import annotations

import random
import sys
import threading

import pytest

from tests._helpers import make_metrics

THREADS = 8
OPERATIONS_PER_THREAD = 400
POOL_PER_THREAD = 12


@pytest.fixture
def fast_switching():
    # Switch threads far more often than the default 5 ms so that races
    # have every chance to show up in a short test.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("isolation", ["copy", "reference"])
def test_mixed_concurrent_operations_keep_the_state_consistent(
    make_datastore, make_ref, registry, fast_switching, isolation
):
    datastore = make_datastore(isolation=isolation)
    clone = datastore.clone(registry.getDatastoreBridgeManager())
    # Each thread owns its refs, so the expected outcome is known exactly;
    # shared refs are trashed and emptied by everybody to stress the trash.
    own_refs = [[make_ref() for _ in range(POOL_PER_THREAD)] for _ in range(THREADS)]
    shared_refs = [make_ref() for _ in range(POOL_PER_THREAD)]
    for ref in shared_refs:
        datastore.put(make_metrics(), ref)
    errors: list[BaseException] = []
    expected_present: list[set] = [set() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        rng = random.Random(1000 + index)
        store = datastore if index % 2 else clone
        present = expected_present[index]
        try:
            start.wait()
            for _ in range(OPERATIONS_PER_THREAD):
                ref = rng.choice(own_refs[index])
                action = rng.choice(["put", "get", "remove", "trash+empty", "forget", "rollback", "shared"])
                if action == "put":
                    if ref.id in present:
                        with pytest.raises(FileExistsError):
                            store.put(make_metrics(), ref)
                    else:
                        store.put(make_metrics(), ref)
                        present.add(ref.id)
                elif action == "get":
                    if ref.id in present:
                        assert store.get(ref) == make_metrics()
                    else:
                        assert not store.exists(ref)
                elif action == "remove" and ref.id in present:
                    store.remove(ref)
                    present.discard(ref.id)
                elif action == "trash+empty":
                    store.trash(ref)
                    store.emptyTrash(refs=[ref])
                    present.discard(ref.id)
                elif action == "forget":
                    store.forget([ref])
                    present.discard(ref.id)
                elif action == "rollback" and ref.id not in present:
                    with pytest.raises(RuntimeError), store.transaction():
                        store.put(make_metrics(), ref)
                        store.trash(shared_refs)
                        raise RuntimeError("roll back")
                elif action == "shared":
                    store.trash(rng.sample(shared_refs, 3))
                    store.mexists(shared_refs)
                    store.emptyTrash()
        except BaseException as err:  # reported below, with the thread's index
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    stored_ids = {ref.id for ref in datastore.stored_refs()}
    own_ids = {ref.id for refs in own_refs for ref in refs}
    assert stored_ids & own_ids == set().union(*expected_present)
    # The trash only ever holds stored datasets, and both views agree.
    trashed_ids = {ref.id for ref in datastore.trashed_refs()}
    assert trashed_ids <= stored_ids
    assert {ref.id for ref in clone.stored_refs()} == stored_ids
    for ref in datastore.stored_refs():
        assert datastore.get(ref) == make_metrics()

"""Transactions: every nesting, the enclosing transaction restored, no noise.

Several tests run against upstream's in-memory datastore too, where they are
strict expected failures: they pin down the defects of CONTRACT.md §2 that
ours fixes, and prove that the tests can fail.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from tests._helpers import UPSTREAM_IN_MEMORY, make_metrics


class DeliberateError(Exception):
    pass


def _upstream(reason: str):
    return pytest.param(
        UPSTREAM_IN_MEMORY, marks=pytest.mark.xfail(strict=True, reason=reason), id="upstream"
    )


OURS = pytest.param("butler_testkit.InMemoryDatastore", id="ours")


def test_committed_puts_persist(datastore, make_ref):
    refs = [make_ref(), make_ref()]
    with datastore.transaction():
        for ref in refs:
            datastore.put(make_metrics(), ref)
    assert all(datastore.exists(ref) for ref in refs)


def test_failed_transaction_undoes_its_puts_and_propagates(datastore, make_ref):
    ref = make_ref()
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(), ref)
        raise DeliberateError
    assert not datastore.exists(ref)


def test_outer_failure_undoes_outer_and_inner_work_but_not_earlier_data(datastore, make_ref):
    earlier, outer, inner = make_ref(), make_ref(), make_ref()
    datastore.put(make_metrics(), earlier)
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(), outer)
        with datastore.transaction():
            datastore.put(make_metrics(), inner)
        raise DeliberateError
    assert datastore.exists(earlier)
    assert not datastore.exists(outer)
    assert not datastore.exists(inner)


@pytest.mark.parametrize(
    "cls", [OURS, _upstream("upstream never restores the outer transaction, so its puts survive")]
)
def test_inner_failure_propagating_undoes_the_outer_work_too(make_datastore, make_ref, cls):
    datastore = make_datastore(cls=cls)
    outer, inner = make_ref(), make_ref()
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(), outer)
        with datastore.transaction():
            datastore.put(make_metrics(), inner)
            raise DeliberateError
    assert not datastore.exists(inner)
    assert not datastore.exists(outer)


def test_inner_failure_caught_inside_the_outer_block_keeps_the_outer_work(datastore, make_ref):
    outer, inner = make_ref(), make_ref()
    with datastore.transaction():
        datastore.put(make_metrics(), outer)
        with pytest.raises(DeliberateError), datastore.transaction():
            datastore.put(make_metrics(), inner)
            raise DeliberateError
    assert datastore.exists(outer)
    assert not datastore.exists(inner)


def test_committed_inner_work_is_undone_when_the_outer_block_fails(datastore, make_ref):
    first, second = make_ref(), make_ref()
    with pytest.raises(DeliberateError), datastore.transaction():
        with datastore.transaction():
            datastore.put(make_metrics(), first)
        with datastore.transaction():
            datastore.put(make_metrics(), second)
        raise DeliberateError
    assert not datastore.exists(first) and not datastore.exists(second)


@pytest.mark.parametrize("cls", [OURS, _upstream("upstream leaves the dead transaction current")])
def test_enclosing_transaction_is_restored_after_a_failure(make_datastore, cls):
    datastore = make_datastore(cls=cls)
    assert datastore._transaction is None
    with datastore.transaction() as outer:
        with pytest.raises(DeliberateError), datastore.transaction():
            raise DeliberateError
        assert datastore._transaction is outer
    assert datastore._transaction is None


@pytest.mark.parametrize(
    "cls", [OURS, _upstream("after a failed transaction every put appends to a dead undo log")]
)
def test_nothing_is_recorded_outside_a_transaction(make_datastore, make_ref, cls):
    datastore = make_datastore(cls=cls)
    with pytest.raises(DeliberateError), datastore.transaction():
        raise DeliberateError
    for _ in range(5):
        datastore.put(make_metrics(), make_ref())
    current = datastore._transaction
    assert current is None or current._log == []


@pytest.mark.parametrize(
    "cls", [OURS, _upstream("rolling back a put logs 'caught while unrolling' at WARNING")]
)
def test_rolling_back_a_put_logs_no_warning(make_datastore, make_ref, caplog, cls):
    datastore = make_datastore(cls=cls)
    with caplog.at_level(logging.WARNING), pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(), make_ref())
        raise DeliberateError
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


def test_rolled_back_trash_is_undone_so_the_dataset_survives_empty_trash(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.trash(ref)
        raise DeliberateError
    datastore.emptyTrash()
    assert datastore.exists(ref)


def test_rollback_untrashes_only_what_the_transaction_trashed(datastore, make_ref):
    before, during = make_ref(), make_ref()
    datastore.put(make_metrics(), before)
    datastore.put(make_metrics(), during)
    datastore.trash(before)
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.trash([before, during])
        raise DeliberateError
    assert datastore.trashed_refs() == [before]


@pytest.mark.parametrize("cls", [OURS, _upstream("a rolled-back re-put deletes the original dataset")])
def test_a_rollback_never_deletes_an_earlier_dataset(make_datastore, make_ref, cls):
    datastore = make_datastore(cls=cls)
    ref = make_ref()
    datastore.put(make_metrics(3), ref)
    with pytest.raises((DeliberateError, FileExistsError)), datastore.transaction():
        datastore.put(make_metrics(9), ref)
        raise DeliberateError
    assert datastore.get(ref) == make_metrics(3)


def test_undo_of_a_put_never_removes_data_stored_again_later(datastore, make_ref):
    ref = make_ref()
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(1), ref)
        datastore.remove(ref)  # irreversible, as deleting a file is
        writer = threading.Thread(target=datastore.put, args=(make_metrics(2), ref))
        writer.start()
        writer.join()
        raise DeliberateError
    assert datastore.get(ref) == make_metrics(2)


def test_transactions_belong_to_the_thread_that_opened_them(datastore, make_ref):
    mine, theirs = make_ref(), make_ref()
    inside = threading.Event()
    release = threading.Event()
    seen_transaction = []

    def other_thread():
        inside.wait()
        seen_transaction.append(datastore._transaction)
        datastore.put(make_metrics(), theirs)
        release.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.put(make_metrics(), mine)
        inside.set()
        release.wait()
        raise DeliberateError
    worker.join()
    assert seen_transaction == [None]
    assert not datastore.exists(mine)
    assert datastore.exists(theirs)


def test_undo_log_holds_only_cheap_arguments(datastore, make_ref):
    # The base class stringifies every undo argument on rollback, even with
    # debug logging off; bulk operations must not make that cost O(n).
    refs = [make_ref() for _ in range(3)]
    with datastore.transaction() as transaction:
        for ref in refs:
            datastore.put(make_metrics(), ref)
        datastore.trash(refs)
        datastore.forget(refs[:1])
        assert all(event.args == () and event.kwargs == {} for event in transaction._log)


@pytest.mark.parametrize("other", ["another thread", "a clone"])
def test_a_rolled_back_trash_leaves_a_later_trash_of_the_same_id_alone(datastore, registry, make_ref, other):
    # The undo of a trash must untrash the entry it trashed, not whatever
    # now carries the dataset ID.
    ref = make_ref()
    datastore.put(make_metrics(1), ref)
    someone_else = (
        datastore if other == "another thread" else datastore.clone(registry.getDatastoreBridgeManager())
    )

    def empty_put_again_and_trash():
        someone_else.emptyTrash()
        someone_else.put(make_metrics(2), ref)
        someone_else.trash(ref)

    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.trash(ref)
        if other == "another thread":
            worker = threading.Thread(target=empty_put_again_and_trash)
            worker.start()
            worker.join()
        else:
            empty_put_again_and_trash()
        raise DeliberateError
    assert datastore.trashed_refs() == [ref]
    assert datastore.get(ref) == make_metrics(2)
    datastore.emptyTrash()
    assert not datastore.exists(ref)


def test_a_rolled_back_trash_leaves_a_dataset_trashed_again_by_someone_else_alone(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(DeliberateError), datastore.transaction():
        datastore.trash(ref)
        worker = threading.Thread(target=lambda: (datastore.emptyTrash(), datastore.put(make_metrics(), ref)))
        worker.start()
        worker.join()
        raise DeliberateError
    assert datastore.exists(ref)
    assert datastore.trashed_refs() == []


def test_transactions_belong_to_the_asyncio_task_that_opened_them(datastore, make_ref):
    first, second, later = make_ref(), make_ref(), make_ref()
    seen: dict[str, object] = {}

    async def both():
        first_put, second_put, first_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def fails_after_waiting():
            try:
                with datastore.transaction() as mine:
                    datastore.put(make_metrics(), first)
                    first_put.set()
                    await second_put.wait()  # the other task opens its transaction meanwhile
                    seen["first"] = datastore._transaction is mine
                    raise DeliberateError
            finally:
                first_done.set()

        async def commits_after_waiting():
            await first_put.wait()
            with datastore.transaction() as mine:
                datastore.put(make_metrics(), second)
                second_put.set()
                await first_done.wait()  # the first task rolls back meanwhile
                seen["second"] = datastore._transaction is mine

        results = await asyncio.gather(fails_after_waiting(), commits_after_waiting(), return_exceptions=True)
        assert isinstance(results[0], DeliberateError) and results[1] is None
        seen["after"] = datastore._transaction

    asyncio.run(both())
    assert seen == {"first": True, "second": True, "after": None}
    assert not datastore.exists(first)
    assert datastore.exists(second)
    # Nothing is left current to record later puts in.
    assert datastore._transaction is None
    datastore.put(make_metrics(), later)
    assert datastore._transaction is None


def test_the_transaction_attribute_is_that_of_the_calling_task(datastore):
    # daf_butler's datastores read and assign ``_transaction``; both act on
    # the caller's own thread or task.
    async def both():
        opened, looked = asyncio.Event(), asyncio.Event()

        async def opens_and_looks():
            with datastore.transaction() as mine:
                opened.set()
                await looked.wait()
                return datastore._transaction is mine

        async def looks_meanwhile():
            await opened.wait()
            try:
                return datastore._transaction
            finally:
                looked.set()

        return await asyncio.gather(opens_and_looks(), looks_meanwhile())

    assert asyncio.run(both()) == [True, None]
    datastore._transaction = None
    assert datastore._transaction is None

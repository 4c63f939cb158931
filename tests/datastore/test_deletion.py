"""Trash, emptyTrash, remove and forget, and the release of stored objects."""

from __future__ import annotations

import gc
import logging
import threading
import weakref

import pytest

from tests._helpers import UPSTREAM_IN_MEMORY, make_metrics


def _put_many(datastore, make_ref, count):
    refs = [make_ref() for _ in range(count)]
    for ref in refs:
        datastore.put(make_metrics(), ref)
    return refs


class TestRemove:
    def test_remove_deletes_at_once(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.remove(ref)
        assert not datastore.exists(ref)
        with pytest.raises(FileNotFoundError):
            datastore.get(ref)

    def test_second_remove_raises(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.remove(ref)
        with pytest.raises(FileNotFoundError, match=str(ref.id)):
            datastore.remove(ref)

    def test_remove_of_a_trashed_dataset(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.trash(ref)
        datastore.remove(ref)
        assert datastore.trashed_refs() == []

    def test_remove_inside_a_rolled_back_transaction_stays_removed(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(RuntimeError), datastore.transaction():
            datastore.remove(ref)
            raise RuntimeError("fail")
        assert not datastore.exists(ref)


class TestTrash:
    def test_trashed_dataset_stays_readable_until_the_trash_is_emptied(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.trash(ref)
        assert datastore.exists(ref)
        assert datastore.get(ref) == make_metrics()
        assert datastore.trashed_refs() == [ref]
        assert datastore.emptyTrash() == set()
        assert not datastore.exists(ref)

    def test_single_unknown_ref_raises_when_errors_are_not_ignored(self, datastore, make_ref):
        ref = make_ref()
        with pytest.raises(FileNotFoundError, match=str(ref.id)):
            datastore.trash(ref, ignore_errors=False)

    def test_single_unknown_ref_is_logged_by_default(self, datastore, make_ref, caplog):
        ref = make_ref()
        with caplog.at_level(logging.WARNING):
            datastore.trash(ref)
        assert str(ref.id) in caplog.text
        assert datastore.trashed_refs() == []

    def test_unknown_ref_trashed_with_errors_ignored_is_not_trashed_later(self, datastore, make_ref):
        # Upstream adds the id to its trash anyway, so a later put of that id
        # would be deleted by the next emptyTrash.
        ref = make_ref()
        datastore.trash(ref)
        datastore.put(make_metrics(), ref)
        datastore.emptyTrash()
        assert datastore.exists(ref)

    def test_bulk_trash_skips_unknown_refs(self, datastore, make_ref):
        stored, unknown = make_ref(), make_ref()
        datastore.put(make_metrics(), stored)
        datastore.trash([stored, unknown], ignore_errors=False)
        assert datastore.trashed_refs() == [stored]

    def test_bulk_trash_accepts_any_iterable(self, datastore, make_ref):
        refs = _put_many(datastore, make_ref, 3)
        datastore.trash(ref for ref in refs)
        assert len(datastore.trashed_refs()) == 3

    def test_trashing_twice_is_harmless(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.trash(ref)
        datastore.trash([ref])
        assert datastore.trashed_refs() == [ref]


class TestEmptyTrash:
    def test_refs_narrow_the_removal_to_a_subset(self, datastore, make_ref):
        refs = _put_many(datastore, make_ref, 4)
        datastore.trash(refs[:3])
        datastore.emptyTrash(refs=[refs[0], refs[3]])
        assert [datastore.exists(ref) for ref in refs] == [False, True, True, True]
        assert sorted(datastore.trashed_refs(), key=refs.index) == refs[1:3]

    def test_empty_refs_remove_nothing(self, datastore, make_ref):
        # Upstream treats refs=[] as "everything".
        refs = _put_many(datastore, make_ref, 2)
        datastore.trash(refs)
        datastore.emptyTrash(refs=[])
        assert all(datastore.exists(ref) for ref in refs)

    def test_dry_run_removes_nothing(self, datastore, make_ref, caplog):
        refs = _put_many(datastore, make_ref, 2)
        datastore.trash(refs)
        with caplog.at_level(logging.INFO):
            assert datastore.emptyTrash(dry_run=True) == set()
        assert "would remove 2 datasets" in caplog.text
        assert all(datastore.exists(ref) for ref in refs)
        assert len(datastore.trashed_refs()) == 2

    def test_duplicate_refs_are_harmless(self, datastore, make_ref):
        refs = _put_many(datastore, make_ref, 2)
        datastore.trash([refs[0], refs[0]])
        with datastore.transaction():
            datastore.trash([refs[1], refs[1]])
        datastore.emptyTrash(refs=[refs[0], refs[0], refs[1]])
        assert not any(datastore.exists(ref) for ref in refs)

    def test_untrashed_datasets_are_never_removed(self, datastore, make_ref):
        refs = _put_many(datastore, make_ref, 2)
        datastore.trash(refs[0])
        datastore.emptyTrash(refs=refs)
        assert not datastore.exists(refs[0])
        assert datastore.exists(refs[1])

    def test_upstream_empties_everything_for_empty_refs(self, make_datastore, make_ref):
        upstream = make_datastore(cls=UPSTREAM_IN_MEMORY)
        ref = make_ref()
        upstream.put(make_metrics(), ref)
        upstream.trash(ref)
        upstream.emptyTrash(refs=[])
        assert not upstream.exists(ref)


class TestForget:
    def test_forget_drops_the_dataset(self, datastore, make_ref):
        refs = _put_many(datastore, make_ref, 2)
        datastore.forget([refs[0]])
        assert not datastore.exists(refs[0])
        assert datastore.exists(refs[1])

    def test_forgetting_again_or_an_unknown_ref_is_a_no_op(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.forget([ref])
        datastore.forget([ref, make_ref()])
        assert not datastore.exists(ref)

    def test_forget_takes_the_dataset_out_of_the_trash(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.trash(ref)
        datastore.forget([ref])
        assert datastore.trashed_refs() == []

    def test_forget_is_undone_by_a_rollback(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(RuntimeError), datastore.transaction():
            datastore.forget([ref])
            assert not datastore.exists(ref)
            raise RuntimeError("fail")
        assert datastore.get(ref) == make_metrics()

    def test_rollback_of_forget_never_overwrites_newer_data(self, datastore, make_ref, caplog):
        ref = make_ref()
        datastore.put(make_metrics(2), ref)
        with caplog.at_level(logging.WARNING), pytest.raises(RuntimeError), datastore.transaction():
            datastore.forget([ref])
            # Another thread's put is not part of this thread's transaction.
            writer = threading.Thread(target=datastore.put, args=(make_metrics(7), ref))
            writer.start()
            writer.join()
            raise RuntimeError("fail")
        assert datastore.get(ref) == make_metrics(7)
        assert "stored again" in caplog.text


class TestRelease:
    """After forget, remove or emptyTrash nothing refers to the object."""

    @pytest.mark.parametrize("isolation", ["copy", "reference"])
    @pytest.mark.parametrize("how", ["forget", "remove", "emptyTrash", "rollback"])
    def test_stored_object_is_released(self, make_datastore, make_ref, isolation, how):
        datastore = make_datastore(isolation=isolation)
        ref = make_ref()
        metrics = make_metrics()
        if how == "rollback":
            with pytest.raises(RuntimeError), datastore.transaction():
                datastore.put(metrics, ref)
                stored = weakref.ref(datastore._state.datasets[ref.id.int].obj)
                raise RuntimeError("fail")
        else:
            datastore.put(metrics, ref)
            stored = weakref.ref(datastore._state.datasets[ref.id.int].obj)
            if how == "forget":
                datastore.forget([ref])
            elif how == "remove":
                datastore.remove(ref)
            else:
                datastore.trash(ref)
                datastore.emptyTrash()
        del metrics
        gc.collect()
        assert stored() is None
        assert datastore._state.datasets == {}
        assert datastore.trashed_refs() == []

    def test_committed_transactions_keep_no_undo_records(self, datastore, make_ref):
        for _ in range(3):
            with datastore.transaction():
                datastore.put(make_metrics(), make_ref())
        assert datastore._transaction is None

    def test_upstream_forget_leaks_the_object(self, make_datastore, make_ref):
        upstream = make_datastore(cls=UPSTREAM_IN_MEMORY)
        ref = make_ref()
        upstream.put(make_metrics(), ref)
        upstream.forget([ref])
        assert not upstream.exists(ref)
        assert ref.id in upstream.datasets

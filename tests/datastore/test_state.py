"""The shared state object: trash flags, the trash log and its compaction."""

from __future__ import annotations

import pytest

from butler_testkit.datastore import DatastoreState, StoredDataset
from butler_testkit.datastore._state import _COMPACTION_SLACK


@pytest.fixture
def state(make_ref):
    state = DatastoreState()
    for key in range(10):
        state.add(key, StoredDataset(object(), make_ref()))
    return state


def _trashed_keys(state):
    return [key for key, entry in state.datasets.items() if entry.trashed]


def test_move_to_trash_reports_only_what_it_trashed(state):
    assert state.move_to_trash([1, 2, 99]).keys == [1, 2]
    assert state.move_to_trash([2, 3, 3]).keys == [3]
    assert sorted(_trashed_keys(state)) == [1, 2, 3]


def test_restore_takes_datasets_out_of_the_trash(state):
    state.move_to_trash([1])
    state.restore_from_trash(state.move_to_trash([2, 7]))
    assert _trashed_keys(state) == [1]
    assert [entry.ref for entry in state.trashed()] == [state.datasets[1].ref]


def test_trash_order_and_duplicates(state):
    change = state.move_to_trash([5])
    state.move_to_trash([1])
    state.restore_from_trash(change)
    state.move_to_trash([5])
    # 5 was logged twice; it is listed (where first trashed), and removed, once.
    assert state.trashed() == [state.datasets[5], state.datasets[1]]
    removed = state.pop_trash(None)
    assert len(removed) == 2
    assert 5 not in state.datasets and 1 not in state.datasets
    assert state.trash_log_length() == 0


def test_pop_trash_with_a_selection_leaves_the_rest(state):
    state.move_to_trash([1, 2, 3])
    removed = state.pop_trash([3, 4, 3])
    assert len(removed) == 1
    assert sorted(_trashed_keys(state)) == [1, 2]


def test_forget_then_undo_restores_the_trash_flag(state):
    state.move_to_trash([4])
    removed = state.pop([4, 5])
    assert state.trashed() == []
    assert state.put_back(removed) == []
    assert _trashed_keys(state) == [4]
    assert len(state.pop_trash(None)) == 1
    assert 5 in state.datasets


def test_put_back_never_overwrites(state, make_ref):
    removed = state.pop([6])
    newer = StoredDataset(object(), make_ref())
    state.add(6, newer)
    assert state.put_back(removed) == [removed[0][1]]
    assert state.datasets[6] is newer


def test_discard_only_drops_the_same_entry(state, make_ref):
    entry = state.datasets[7]
    state.discard(7, StoredDataset(object(), make_ref()))
    assert state.datasets[7] is entry
    state.move_to_trash([7])
    state.discard(7, entry)
    assert 7 not in state.datasets
    assert state.trashed() == []


def test_the_log_is_compacted_when_stale_entries_pile_up(make_ref):
    # The pattern of Butler.pruneDatasets: trash a chunk, empty that chunk.
    state = DatastoreState()
    ref = make_ref()  # the state keys by integer; the ref only names the dataset
    longest = 0
    for key in range(5 * _COMPACTION_SLACK):
        state.add(key, StoredDataset(None, ref))
        state.move_to_trash([key])
        state.pop_trash([key])
        longest = max(longest, state.trash_log_length())
    assert longest <= _COMPACTION_SLACK + 1
    assert state.datasets == {}


def test_the_log_is_compacted_after_untrashing(state):
    for _ in range(_COMPACTION_SLACK):
        state.restore_from_trash(state.move_to_trash([1]))
    assert state.trash_log_length() <= _COMPACTION_SLACK + 1
    assert state.trashed() == []


def test_live_trash_survives_compaction(state):
    state.move_to_trash([2])
    for _ in range(_COMPACTION_SLACK + 5):
        state.restore_from_trash(state.move_to_trash([3]))
    assert state.trashed() == [state.datasets[2]]


def test_add_all_names_a_dataset_given_twice_as_given_twice(make_ref):
    state = DatastoreState()
    stored, repeated = make_ref(), make_ref()
    state.add(stored.id.int, StoredDataset(object(), stored))
    twice = [StoredDataset(object(), repeated), StoredDataset(object(), repeated)]
    with pytest.raises(FileExistsError) as raised:
        state.add_all(twice)
    message = str(raised.value)
    assert "given more than once" in message and "already stored" not in message
    with pytest.raises(FileExistsError, match=r"are already stored.*are given more"):
        state.add_all([StoredDataset(object(), stored), *twice])
    assert list(state.datasets) == [stored.id.int]


def test_every_way_out_leaves_the_indexes_consistent(make_ref):
    state = DatastoreState()
    refs = [make_ref() for _ in range(12)]
    for number, ref in enumerate(refs):
        state.add(number, StoredDataset(object(), ref, stored_at=float(number), size=number))
    state.move_to_trash([0, 1, 2, 3])
    state.pop_trash([0])
    state.pop_trash(None)
    removed = state.pop([4, 5])
    state.discard(6, state.datasets[6])
    state.expire(7.0)
    assert state.index_problems() == []
    state.put_back(removed)
    assert state.index_problems() == []
    assert sorted(state.datasets) == [4, 5, 8, 9, 10, 11]
    assert state.used_bytes == 4 + 5 + 8 + 9 + 10 + 11

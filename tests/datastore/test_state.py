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
    assert state.move_to_trash([1, 2, 99]) == [1, 2]
    assert state.move_to_trash([2, 3, 3]) == [3]
    assert sorted(_trashed_keys(state)) == [1, 2, 3]


def test_restore_takes_datasets_out_of_the_trash(state):
    state.move_to_trash([1, 2])
    state.restore_from_trash([2, 7])
    assert _trashed_keys(state) == [1]
    assert [entry.ref for entry in state.trashed()] == [state.datasets[1].ref]


def test_trash_order_and_duplicates(state):
    state.move_to_trash([5, 1])
    state.restore_from_trash([5])
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
        state.move_to_trash([1])
        state.restore_from_trash([1])
    assert state.trash_log_length() <= _COMPACTION_SLACK + 1
    assert state.trashed() == []


def test_live_trash_survives_compaction(state):
    state.move_to_trash([2])
    for _ in range(_COMPACTION_SLACK + 5):
        state.move_to_trash([3])
        state.restore_from_trash([3])
    assert state.trashed() == [state.datasets[2]]

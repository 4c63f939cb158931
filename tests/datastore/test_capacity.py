"""``capacity_bytes``: a byte limit, measured as serialized size in every isolation mode."""

from __future__ import annotations

import errno
import threading

import pytest

from butler_testkit.datastore import SerializedDataset
from tests._helpers import make_metrics

ISOLATIONS = ["copy", "reference", "serialize"]


def _size(value: object) -> int:
    """The JSON a file datastore would write for a catalogue dict or list."""
    import json

    return len(json.dumps(value, ensure_ascii=False).encode())


@pytest.fixture(params=ISOLATIONS)
def capped(request, make_datastore):
    """A datastore holding at most 100 bytes, in each isolation mode."""
    return make_datastore(isolation=request.param, capacity_bytes=100)


def test_sizes_are_the_formatters_bytes_in_every_mode(capped, make_ref):
    values = [{"a": "x" * 20}, {"b": "y" * 30}]
    refs = [make_ref(storage_class="BtkDict") for _ in values]
    for value, ref in zip(values, refs, strict=True):
        capped.put(value, ref)
    assert capped._state.used_bytes == sum(_size(value) for value in values)
    assert [capped._state.datasets[ref.id.int].size for ref in refs] == [_size(v) for v in values]


def test_a_put_that_fits_exactly_is_stored_and_one_byte_more_is_refused(capped, make_ref):
    filler = {"k": "x" * (100 - _size({"k": ""}))}
    assert _size(filler) == 100
    ref = make_ref(storage_class="BtkDict")
    capped.put(filler, ref)
    assert capped.get(ref) == filler
    extra = make_ref(storage_class="BtkList")
    with pytest.raises(OSError) as excinfo:  # noqa: PT011 - errno checked below
        capped.put([], extra)
    assert excinfo.value.errno == errno.ENOSPC
    assert "capacity_bytes=100" in str(excinfo.value)
    assert "2 bytes" in str(excinfo.value)  # "[]"
    assert not capped.exists(extra)
    assert capped._state.used_bytes == 100


def test_an_over_limit_put_changes_nothing(capped, make_ref):
    ref = make_ref(storage_class="BtkDict")
    with pytest.raises(OSError, match="No space"):
        capped.put({"k": "x" * 200}, ref)
    assert capped.stored_refs() == []
    assert capped._state.used_bytes == 0


def test_removing_frees_space_and_trashing_does_not(capped, make_ref):
    half = {"k": "x" * 40}
    first, second, third = (make_ref(storage_class="BtkDict") for _ in range(3))
    capped.put(half, first)
    capped.put(half, second)
    with pytest.raises(OSError, match="No space"):
        capped.put(half, third)
    capped.trash(first)
    with pytest.raises(OSError, match="No space"):
        capped.put(half, third)  # a trashed dataset still exists
    capped.emptyTrash()
    capped.put(half, third)
    capped.remove(second)
    capped.forget([third])
    assert capped._state.used_bytes == 0


def test_a_rolled_back_put_frees_its_space(capped, make_ref):
    ref = make_ref(storage_class="BtkDict")
    with pytest.raises(RuntimeError), capped.transaction():
        capped.put({"k": "x" * 80}, ref)
        raise RuntimeError("roll back")
    assert capped._state.used_bytes == 0
    capped.put({"k": "y" * 80}, make_ref(storage_class="BtkDict"))


def test_expiry_and_restore_give_space_back(make_datastore, make_ref):
    datastore = make_datastore(capacity_bytes=100, expire_after=10)
    now = [0.0]
    datastore.clock = lambda: now[0]
    ref = make_ref(storage_class="BtkDict")
    baseline = datastore.snapshot()
    datastore.put({"k": "x" * 80}, ref)
    datastore.restore(baseline)
    assert datastore._state.used_bytes == 0
    datastore.put({"k": "x" * 80}, ref)
    snapshot = datastore.snapshot()
    now[0] = 20.0
    assert not datastore.exists(ref)
    assert datastore._state.used_bytes == 0
    datastore.restore(snapshot)
    # Restored with its storage time, so counted until the next operation
    # finds it expired.
    assert datastore._stored_state.used_bytes == _size({"k": "x" * 80})
    assert not datastore.exists(ref)
    assert datastore._stored_state.used_bytes == 0


def test_serialize_mode_counts_its_stored_bytes(make_datastore, make_ref):
    datastore = make_datastore(isolation="serialize", capacity_bytes=10_000)
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    stored = datastore._state.datasets[ref.id.int]
    assert isinstance(stored.obj, SerializedDataset)
    assert stored.size == len(stored.obj.data) == datastore._state.used_bytes


def test_without_a_capacity_copy_and_reference_measure_nothing(make_datastore, make_ref):
    for isolation in ("copy", "reference"):
        datastore = make_datastore(isolation=isolation)
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        assert datastore._state.datasets[ref.id.int].size == 0


def test_concurrent_puts_never_exceed_the_capacity(make_datastore, make_ref):
    value = {"k": "x" * 10}
    datastore = make_datastore(isolation="reference", capacity_bytes=_size(value) * 25)
    refs = [make_ref(storage_class="BtkDict") for _ in range(80)]
    refused = []

    def put_all(chunk):
        for ref in chunk:
            try:
                datastore.put(value, ref)
            except OSError:
                refused.append(ref)

    threads = [threading.Thread(target=put_all, args=(refs[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(datastore.stored_refs()) == 25
    assert len(refused) == 55
    assert datastore._state.used_bytes == _size(value) * 25


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_restored_snapshot_from_a_datastore_that_never_measured_is_measured(
    make_datastore, make_ref, isolation
):
    unmeasured = make_datastore()
    refs = [make_ref(storage_class="BtkDict") for _ in range(2)]
    values = [{"a": "x" * 20}, {"b": "y" * 30}]
    for value, ref in zip(values, refs, strict=True):
        unmeasured.put(value, ref)
    capped = make_datastore(isolation=isolation, capacity_bytes=100)
    capped.restore(unmeasured.snapshot())
    assert capped._state.used_bytes == sum(_size(value) for value in values)
    assert capped._state.index_problems() == []
    with pytest.raises(OSError, match="No space left") as raised:
        capped.put({"c": "z" * 40}, make_ref(storage_class="BtkDict"))
    assert raised.value.errno == errno.ENOSPC


def test_a_snapshot_that_does_not_fit_is_refused_and_changes_nothing(capped, make_datastore, make_ref):
    unmeasured = make_datastore()
    for _ in range(3):
        unmeasured.put({"k": "x" * 40}, make_ref(storage_class="BtkDict"))
    kept = make_ref(storage_class="BtkDict")
    capped.put({"kept": 1}, kept)
    with pytest.raises(OSError, match="capacity_bytes=100") as raised:
        capped.restore(unmeasured.snapshot())
    assert raised.value.errno == errno.ENOSPC
    assert capped.stored_refs() == [kept]
    assert capped._state.used_bytes == _size({"kept": 1})

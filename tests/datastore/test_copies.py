"""How copy isolation copies each kind of object, and reads that transform only the caller's copy."""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest
from lsst.daf.butler import StorageClass, StorageClassDelegate, StorageClassFactory
from lsst.daf.butler.datastore import DatastoreConfig

from butler_testkit import InMemoryDatastore, UncopyableDatasetError
from butler_testkit.datastore import SerializedDataset
from butler_testkit.factories import Ledger, MetricsRecord, MetricsRecordDelegate, SequenceDelegate
from tests._helpers import make_metrics

_OURS = "butler_testkit.InMemoryDatastore"


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _register(name: str, pytype: type, delegate: type | None = None, **kwargs: Any) -> None:
    StorageClassFactory().registerStorageClass(
        StorageClass(name, pytype=pytype, delegate=_qualified(delegate) if delegate else None, **kwargs)
    )


def _stored_form(datastore: InMemoryDatastore, ref) -> Any:
    return datastore._state.datasets[ref.id.int].obj


class Color(enum.Enum):
    RED = 1


class KeepsItsCache:
    """Its pickle drops the cache; its deep copy keeps it."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.cache = {"computed": value * 2}

    def __getstate__(self) -> dict[str, Any]:
        return {"value": self.value}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.value = state["value"]
        self.cache = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> KeepsItsCache:
        copied = KeepsItsCache(self.value)
        copied.cache = copy.deepcopy(self.cache, memo)
        return copied


class TestTheCopyRule:
    def test_immutable_values_are_stored_as_they_are(self, datastore, make_ref):
        for storage_class, value in (("BtkInt", 12345678901), ("BtkTuple", (1, "two", 3.0))):
            ref = make_ref(storage_class=storage_class)
            datastore.put(value, ref)
            assert _stored_form(datastore, ref) is value
            assert datastore.get(ref) is value

    def test_plain_data_shares_its_immutable_values_and_nothing_else(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkDict")
        value = {"name": "x" * 50, "values": [1.5, 2.5], "nested": {"deep": [[1], [2]]}}
        datastore.put(value, ref)
        got = datastore.get(ref)
        assert got == value
        assert got["name"] is value["name"]
        assert got["values"] is not value["values"] and got["values"][0] is value["values"][0]
        assert got["nested"]["deep"][0] is not value["nested"]["deep"][0]

    def test_a_container_held_twice_is_held_twice_by_the_copy(self, datastore, make_ref):
        # As a deep copy does: the copy keeps the sharing, not the object.
        ref = make_ref(storage_class="BtkDict")
        shared = [1, 2]
        datastore.put({"a": shared, "b": shared}, ref)
        got = datastore.get(ref)
        assert got["a"] is got["b"] and got["a"] is not shared

    def test_a_structure_holding_itself_is_copied(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkList")
        value: list[Any] = [1]
        value.append(value)
        datastore.put(value, ref)
        got = datastore.get(ref)
        assert got[1] is got and got is not value

    def test_nan_is_kept(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkDict")
        datastore.put({"sigma": math.nan, "values": [math.nan, 1.0]}, ref)
        got = datastore.get(ref)
        assert math.isnan(got["sigma"]) and math.isnan(got["values"][0])

    def test_numpy_scalars_enums_and_bytearrays_survive_and_are_not_shared(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkDict")
        raw = bytearray(b"raw")
        datastore.put({"mean": np.float32(1.5), "color": Color.RED, "raw": raw, "set": {1, 2}}, ref)
        raw.extend(b"!")
        got = datastore.get(ref)
        assert type(got["mean"]) is np.float32 and got["mean"] == np.float32(1.5)
        assert got["color"] is Color.RED
        assert got["raw"] == bytearray(b"raw")
        got["raw"].extend(b"?")
        got["set"].add(3)
        expected = {"mean": np.float32(1.5), "color": Color.RED, "raw": b"raw", "set": {1, 2}}
        assert datastore.get(ref) == expected

    def test_a_class_with_its_own_deep_copy_is_deep_copied(self, datastore, make_ref):
        _register("BtkTestCached", KeepsItsCache)
        ref = make_ref(storage_class="BtkTestCached")
        datastore.put(KeepsItsCache(21), ref)
        got = datastore.get(ref)
        # A pickle would have emptied the cache.
        assert got.cache == {"computed": 42}

    def test_a_dataset_holding_one_is_deep_copied_too(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkDict")
        datastore.put({"held": KeepsItsCache(5)}, ref)
        assert datastore.get(ref)["held"].cache == {"computed": 10}

    def test_an_object_pickle_cannot_handle_is_deep_copied(self, datastore, make_ref):
        class Local:
            def __init__(self) -> None:
                self.items = [1, 2]

        _register("BtkTestLocal", Local)
        ref = make_ref(storage_class="BtkTestLocal")
        original = Local()
        datastore.put(original, ref)
        original.items.append(3)
        got = datastore.get(ref)
        assert type(got) is Local and got.items == [1, 2]
        got.items.clear()
        assert datastore.get(ref).items == [1, 2]

    def test_uncopyable_inside_plain_data_fails_naming_storage_class_and_reference_mode(
        self, datastore, make_ref
    ):
        import threading

        ref = make_ref(storage_class="BtkList")
        with pytest.raises(UncopyableDatasetError, match=r"'BtkList'.*isolation: reference"):
            datastore.put([threading.Lock()], ref)
        assert not datastore.exists(ref)


class TestArrays:
    @pytest.fixture(autouse=True)
    def _plain_array(self, storage_classes):
        _register("BtkTestPlainArray", np.ndarray)
        _register("BtkTestAnything", object)

    @pytest.mark.parametrize(
        "array",
        [
            np.arange(12, dtype=np.float32).reshape(3, 4),
            np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4)),
            np.arange(24, dtype=np.float64).reshape(4, 6)[::2, 1::2],
            np.zeros((0, 3), dtype=np.uint8),
            np.array(3.5),
            np.array([(1, 2.0)], dtype=[("id", "i4"), ("flux", "f8")]),
        ],
        ids=["c-order", "fortran-order", "strided view", "empty", "zero-d", "structured"],
    )
    def test_every_get_is_a_new_array_of_its_own(self, datastore, make_ref, array):
        ref = make_ref(storage_class="BtkTestPlainArray")
        datastore.put(array, ref)
        first, second = datastore.get(ref), datastore.get(ref)
        for got in (first, second):
            assert got.dtype == array.dtype and got.shape == array.shape and np.array_equal(got, array)
            assert got.flags.owndata and got.flags.writeable
            assert not np.shares_memory(got, array)
        assert not np.shares_memory(first, second)
        if array.flags.f_contiguous and not array.flags.c_contiguous:
            assert first.flags.f_contiguous

    def test_arrays_are_kept_out_of_the_pickle(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkTestAnything")
        image = np.ones((64, 64))
        datastore.put({"image": image, "again": image}, ref)
        stored = _stored_form(datastore, ref)
        assert len(stored.data) < 1000 and len(stored.buffers) == 1
        assert not np.shares_memory(stored.buffers[0], image)
        got = datastore.get(ref)
        assert got["image"] is got["again"]

    def test_a_read_only_array_comes_back_writable(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkTestPlainArray")
        array = np.arange(4.0)
        array.flags.writeable = False
        datastore.put(array, ref)
        assert datastore.get(ref).flags.writeable

    def test_an_array_of_objects_is_copied_deeply(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkTestPlainArray")
        array = np.empty(2, dtype=object)
        array[0], array[1] = [1], {"a": 1}
        datastore.put(array, ref)
        array[0].append(2)
        got = datastore.get(ref)
        assert got[0] == [1]
        got[1]["a"] = 2
        assert datastore.get(ref)[1] == {"a": 1}


class InPlaceSlicingDelegate(SequenceDelegate):
    """Applies ``slice`` by truncating the list it is given, as some real delegates work in place."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if used:
            inMemoryDataset[:] = inMemoryDataset[used["slice"]]
        return inMemoryDataset


class InPlaceMetricsDelegate(MetricsRecordDelegate):
    """Slices a record's ``data`` in place."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if used and inMemoryDataset.data is not None:
            inMemoryDataset.data[:] = inMemoryDataset.data[used["slice"]]
        return inMemoryDataset


class TestReadsTransformOnlyTheCallersCopy:
    """A delegate that applies parameters in place never changes what is stored."""

    FORMATTERS: ClassVar[dict[str, str]] = {
        "BtkTestInPlaceList": "butler_testkit.factories.CatalogueJsonFormatter",
        "BtkTestInPlaceMetrics": "butler_testkit.factories.CatalogueJsonFormatter",
    }

    @pytest.fixture(autouse=True)
    def _in_place_storage_classes(self, storage_classes):
        _register("BtkTestInPlaceList", list, InPlaceSlicingDelegate, parameters=("slice",))
        _register(
            "BtkTestInPlaceMetrics",
            MetricsRecord,
            InPlaceMetricsDelegate,
            parameters=("slice",),
            components={
                "data": StorageClassFactory().getStorageClass("BtkList"),
                "summary": StorageClassFactory().getStorageClass("BtkDict"),
            },
            derivedComponents={"counter": StorageClassFactory().getStorageClass("BtkInt")},
        )

    @pytest.fixture(params=["copy", "serialize"])
    def isolating(self, request, make_datastore) -> InMemoryDatastore:
        return make_datastore(isolation=request.param, formatters=self.FORMATTERS)

    def test_a_sliced_read_leaves_the_stored_list_whole(self, isolating, make_ref):
        ref = make_ref(storage_class="BtkTestInPlaceList")
        isolating.put(list(range(10)), ref)
        assert isolating.get(ref, parameters={"slice": slice(3)}) == [0, 1, 2]
        assert isolating.get(ref) == list(range(10))

    @pytest.mark.parametrize("component", [None, "counter"])
    def test_a_sliced_read_of_a_composite_leaves_it_whole(self, isolating, make_ref, component):
        ref = make_ref(storage_class="BtkTestInPlaceMetrics")
        isolating.put(make_metrics(10), ref)
        read_ref = ref if component is None else ref.makeComponentRef(component)
        isolating.get(read_ref, parameters={"slice": slice(2)})
        assert isolating.get(ref) == make_metrics(10)
        assert isolating.get(ref.makeComponentRef("counter")) == 10


class TestDerivedComponentsThroughTheFormatter:
    @pytest.fixture(params=["copy", "reference", "serialize"])
    def any_mode(self, request, make_datastore) -> InMemoryDatastore:
        return make_datastore(isolation=request.param)

    def test_a_component_only_the_formatter_knows_is_read_from_it(self, any_mode, make_ref):
        ref = make_ref(storage_class="BtkLedger")
        ledger = Ledger(entries=["a", "b", "c"])
        any_mode.put(ledger, ref)
        header = any_mode.get(ref.makeComponentRef("header"))
        assert header["count"] == 3 and len(header["sha256"]) == 64
        assert any_mode.get(ref.makeComponentRef("header"), parameters={"first": 1})["count"] == 1
        # The read serialized nothing into what is stored, and changed nothing.
        assert any_mode.get(ref) == Ledger(entries=["a", "b", "c"])

    def test_the_delegate_still_answers_first_when_it_can(self, any_mode, make_ref, monkeypatch):
        ref = make_ref()
        any_mode.put(make_metrics(4), ref)

        def no_formatter(*args, **kwargs):
            raise AssertionError("the formatter was asked for a component the delegate can compute")

        monkeypatch.setattr(any_mode._formatters, "read_component", no_formatter)
        assert any_mode.get(ref.makeComponentRef("counter")) == 4

    def test_without_a_formatter_the_delegates_error_says_both_failed(self, make_datastore, make_ref):
        _register(
            "BtkTestOpaque",
            Ledger,
            StorageClassDelegate,
            derivedComponents={"header": StorageClassFactory().getStorageClass("BtkDict")},
        )
        datastore = make_datastore()
        ref = make_ref(storage_class="BtkTestOpaque")
        datastore.put(Ledger(entries=["a"]), ref)
        with pytest.raises(AttributeError, match="header") as raised:
            datastore.get(ref.makeComponentRef("header"))
        assert any("No formatter is configured" in note for note in raised.value.__notes__)


class TestStoredFormsDecideHowTheyAreRead:
    """Datastores sharing a state but configured differently read each other's datasets."""

    def _pair(self, registry, writer: str, reader: str) -> tuple[InMemoryDatastore, InMemoryDatastore]:
        bridges = registry.getDatastoreBridgeManager()
        first = InMemoryDatastore(DatastoreConfig({"cls": _OURS, "isolation": writer}), bridges)
        config = DatastoreConfig({"cls": _OURS, "isolation": reader})
        second = InMemoryDatastore(config, bridges, state=first._state)
        return first, second

    @pytest.mark.parametrize("writer", ["copy", "serialize"])
    def test_a_reference_reader_gets_new_objects_from_an_isolating_writer(self, registry, make_ref, writer):
        first, second = self._pair(registry, writer, "reference")
        ref = make_ref()
        first.put(make_metrics(), ref)
        got = second.get(ref)
        got.data.clear()
        assert first.get(ref) == second.get(ref) == make_metrics()

    def test_a_copying_reader_copies_what_a_reference_writer_stored(self, registry, make_ref):
        first, second = self._pair(registry, "reference", "copy")
        ref = make_ref()
        original = make_metrics()
        first.put(original, ref)
        got = second.get(ref)
        assert got == original and got is not original and got.data is not original.data

    def test_serialize_keeps_the_formatters_bytes(self, registry, make_ref):
        first, _ = self._pair(registry, "serialize", "copy")
        ref = make_ref()
        first.put(make_metrics(), ref)
        assert isinstance(_stored_form(first, ref), SerializedDataset)

"""Put and get: round trips, isolation, re-put, composites, parameters, conversion."""

from __future__ import annotations

import copy
import threading
from typing import ClassVar

import pytest
from lsst.daf.butler import StorageClass, StorageClassDelegate, StorageClassFactory
from lsst.daf.butler.datastore import DatastoreValidationError

from butler_testkit import InMemoryDatastore, UncopyableDatasetError
from butler_testkit.factories import MetricsRecord, MetricsRecordModel
from tests._helpers import UPSTREAM_IN_MEMORY, make_metrics


class CountingDelegate(StorageClassDelegate):
    """Deep-copies, recording the type of everything it copies."""

    calls: ClassVar[list[type]] = []

    def copy(self, inMemoryDataset):
        self.calls.append(type(inMemoryDataset))
        return copy.deepcopy(inMemoryDataset)


class StampingDelegate(StorageClassDelegate):
    """Marks datasets with provenance in place, as some real delegates do."""

    calls: ClassVar[list[tuple]] = []

    def add_provenance(self, inMemoryDataset, ref, provenance=None):
        self.calls.append((ref.id, provenance))
        inMemoryDataset["stamped"] = True
        return inMemoryDataset


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture(params=["copy", "reference"])
def any_isolation(request, make_datastore) -> InMemoryDatastore:
    return make_datastore(isolation=request.param)


@pytest.mark.parametrize(
    ("storage_class", "value"),
    [
        ("BtkDict", {"a": 1, "nested": {"b": [1, 2]}}),
        ("BtkList", [1, "two", 3.0]),
        ("BtkInt", 7),
        ("BtkTuple", (1, 2, 3)),
        ("BtkMetrics", make_metrics()),
        ("BtkMetricsNoComponents", make_metrics()),
        ("BtkMetricsModel", MetricsRecordModel(summary={"a": 1}, data=[1, 2])),
    ],
)
def test_round_trip_returns_an_equal_object(any_isolation, make_ref, storage_class, value):
    ref = make_ref(storage_class=storage_class)
    any_isolation.put(value, ref)
    assert any_isolation.get(ref) == value


def test_get_of_unknown_dataset_raises_file_not_found(datastore, make_ref):
    ref = make_ref()
    with pytest.raises(FileNotFoundError, match=str(ref.id)):
        datastore.get(ref)


class TestCopyIsolation:
    def test_get_returns_a_new_object_each_time(self, datastore, make_ref):
        ref = make_ref()
        metrics = make_metrics()
        datastore.put(metrics, ref)
        first, second = datastore.get(ref), datastore.get(ref)
        assert first == second == metrics
        assert first is not metrics and second is not first
        assert first.data is not second.data

    def test_mutating_a_retrieved_object_does_not_change_what_is_stored(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        got = datastore.get(ref)
        got.data.append("mutated")
        got.summary["answer"] = -1
        assert datastore.get(ref) == make_metrics()

    def test_mutating_the_put_object_afterwards_does_not_change_what_is_stored(self, datastore, make_ref):
        ref = make_ref()
        metrics = make_metrics()
        datastore.put(metrics, ref)
        metrics.data.clear()
        assert datastore.get(ref) == make_metrics()

    def test_components_are_copies_too(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        data = datastore.get(ref.makeComponentRef("data"))
        data.append(99)
        assert datastore.get(ref.makeComponentRef("data")) == make_metrics().data

    def test_uncopyable_type_fails_naming_storage_class_and_reference_mode(self, datastore, make_ref):
        ref = make_ref(storage_class="BtkDict")
        value = {"lock": threading.Lock()}
        with pytest.raises(UncopyableDatasetError, match=r"'BtkDict'.*isolation: reference"):
            datastore.put(value, ref)
        assert not datastore.exists(ref)

    def test_delegate_copy_is_used(self, datastore, make_ref, monkeypatch):
        monkeypatch.setattr(CountingDelegate, "calls", [])
        storage_class = StorageClass("BtkCountedDict", pytype=dict, delegate=_qualified(CountingDelegate))
        StorageClassFactory().registerStorageClass(storage_class)
        ref = make_ref(storage_class="BtkCountedDict")
        datastore.put({"a": 1}, ref)
        assert datastore.get(ref) == {"a": 1}
        assert CountingDelegate.calls == [dict, dict]


class TestReferenceIsolation:
    def test_get_returns_the_stored_object_itself(self, make_datastore, make_ref):
        datastore = make_datastore(isolation="reference")
        ref = make_ref()
        metrics = make_metrics()
        datastore.put(metrics, ref)
        assert datastore.get(ref) is metrics
        assert datastore.get(ref.makeComponentRef("data")) is metrics.data

    def test_uncopyable_objects_are_fine(self, make_datastore, make_ref):
        datastore = make_datastore(isolation="reference")
        ref = make_ref(storage_class="BtkDict")
        value = {"lock": threading.Lock()}
        datastore.put(value, ref)
        assert datastore.get(ref) is value


def test_unknown_isolation_value_is_a_validation_error(make_datastore):
    with pytest.raises(DatastoreValidationError):
        make_datastore(isolation="serialise")


class TestReput:
    def test_reput_raises_and_keeps_the_original(self, any_isolation, make_ref):
        ref = make_ref()
        original = make_metrics(3)
        any_isolation.put(original, ref)
        with pytest.raises(FileExistsError, match=str(ref.id)):
            any_isolation.put(make_metrics(9), ref)
        assert any_isolation.get(ref) == original

    def test_reput_of_a_trashed_but_not_emptied_dataset_raises(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.trash(ref)
        with pytest.raises(FileExistsError):
            datastore.put(make_metrics(), ref)

    def test_put_again_after_remove_works(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(2), ref)
        datastore.remove(ref)
        datastore.put(make_metrics(4), ref)
        assert datastore.get(ref) == make_metrics(4)

    def test_upstream_silently_overwrites(self, make_datastore, make_ref):
        # The defect our datastore refuses to copy (CONTRACT.md §6.2).
        upstream = make_datastore(cls=UPSTREAM_IN_MEMORY)
        ref = make_ref()
        upstream.put(make_metrics(3), ref)
        upstream.put(make_metrics(9), ref)
        assert upstream.get(ref) == make_metrics(9)


class TestComponents:
    def test_read_write_components_equal_the_parent_attributes(self, any_isolation, make_ref):
        ref = make_ref()
        metrics = make_metrics()
        any_isolation.put(metrics, ref)
        for component in ("summary", "output", "data"):
            assert any_isolation.get(ref.makeComponentRef(component)) == getattr(metrics, component)

    def test_none_component_comes_back_as_none(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(use_none=True), ref)
        assert any_isolation.get(ref.makeComponentRef("data")) is None
        assert any_isolation.get(ref.makeComponentRef("output")) is None

    def test_derived_component_is_computed(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(6), ref)
        assert any_isolation.get(ref.makeComponentRef("counter")) == 6

    def test_derived_component_sees_the_parameters(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(6), ref)
        assert any_isolation.get(ref.makeComponentRef("counter"), parameters={"slice": slice(3)}) == 3

    def test_component_exists_through_its_parent(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        assert datastore.exists(ref.makeComponentRef("data"))
        assert datastore.knows(ref.makeComponentRef("summary"))

    def test_component_defined_only_by_the_read_storage_class(self, datastore, make_ref):
        # Stored without components, read as the parent storage class's component.
        ref = make_ref(storage_class="BtkMetricsNoComponents")
        datastore.put(make_metrics(), ref)
        summary_ref = ref.overrideStorageClass("BtkMetrics").makeComponentRef("summary")
        assert datastore.get(summary_ref) == make_metrics().summary


class TestParameters:
    def test_slice_on_the_composite_slices_data_only(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(6), ref)
        got = any_isolation.get(ref, parameters={"slice": slice(1, 3)})
        assert got.data == [1, 2]
        assert got.summary == make_metrics().summary

    def test_slice_on_the_data_component(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(6), ref)
        assert any_isolation.get(ref.makeComponentRef("data"), parameters={"slice": slice(2)}) == [0, 1]

    def test_parameters_never_change_what_is_stored(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(6), ref)
        any_isolation.get(ref, parameters={"slice": slice(1)})
        assert any_isolation.get(ref) == make_metrics(6)

    def test_unknown_parameter_raises_key_error_naming_it(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(KeyError, match="xslice"):
            datastore.get(ref, parameters={"xslice": slice(1)})

    def test_parameter_unknown_to_a_component(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(KeyError, match="slice"):
            datastore.get(ref.makeComponentRef("summary"), parameters={"slice": slice(1)})

    def test_parameter_of_a_storage_class_without_a_delegate_fails(self, datastore, make_ref):
        StorageClassFactory().registerStorageClass(
            StorageClass("BtkParamNoDelegate", pytype=dict, parameters=("param1",))
        )
        ref = make_ref(storage_class="BtkParamNoDelegate")
        datastore.put({"a": 1}, ref)
        with pytest.raises((ValueError, TypeError)):
            datastore.get(ref, parameters={"param1": 1})


class TestConversion:
    def test_override_to_a_pydantic_model(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(), ref)
        got = any_isolation.get(ref, storageClass="BtkMetricsModel")
        assert isinstance(got, MetricsRecordModel)
        assert got.data == make_metrics().data

    def test_override_to_a_dict(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(), ref)
        got = any_isolation.get(ref, storageClass="BtkMetricsDict")
        assert got == {
            "summary": make_metrics().summary,
            "output": {"written": True},
            "data": [0, 1, 2, 3, 4],
        }

    def test_override_accepts_a_storage_class_object(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        model_class = StorageClassFactory().getStorageClass("BtkMetricsModel")
        assert isinstance(datastore.get(ref, storageClass=model_class), MetricsRecordModel)

    def test_data_component_read_as_a_tuple(self, any_isolation, make_ref):
        ref = make_ref()
        any_isolation.put(make_metrics(3), ref)
        data_ref = ref.makeComponentRef("data")
        assert any_isolation.get(data_ref, storageClass="BtkTuple") == (0, 1, 2)
        assert any_isolation.get(data_ref, storageClass="BtkTuple", parameters={"slice": slice(2)}) == (0, 1)

    def test_incompatible_override_raises_value_error(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(ValueError, match="BtkInt"):
            datastore.get(ref, storageClass="BtkInt")

    def test_unknown_parameter_on_an_overridden_read(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        with pytest.raises(KeyError, match="slice"):
            datastore.get(ref, storageClass="BtkMetricsModel", parameters={"slice": slice(1)})

    def test_put_of_a_convertible_type_stores_the_storage_class_type(self, any_isolation, make_ref):
        ref = make_ref(storage_class="BtkMetricsNoComponents")
        any_isolation.put({"summary": {"a": 1}, "data": [1]}, ref)
        got = any_isolation.get(ref)
        assert isinstance(got, MetricsRecord)
        assert got == MetricsRecord(summary={"a": 1}, data=[1])

    def test_put_of_an_unconvertible_type_raises_type_error(self, datastore, make_ref):
        ref = make_ref()
        with pytest.raises(TypeError, match=r"builtins\.int.*BtkMetrics"):
            datastore.put(12, ref)
        assert not datastore.exists(ref)

    def test_put_of_none_raises_type_error(self, datastore, make_ref):
        ref = make_ref()
        with pytest.raises(TypeError, match="None"):
            datastore.put(None, ref)
        assert not datastore.exists(ref)


class TestProvenance:
    def test_provenance_goes_to_the_delegate_and_never_touches_the_callers_object(
        self, datastore, make_ref, monkeypatch
    ):
        monkeypatch.setattr(StampingDelegate, "calls", [])
        StorageClassFactory().registerStorageClass(
            StorageClass("BtkStampedDict", pytype=dict, delegate=_qualified(StampingDelegate))
        )
        ref = make_ref(storage_class="BtkStampedDict")
        original = {"a": 1}
        datastore.put(original, ref, provenance="prov")
        assert StampingDelegate.calls == [(ref.id, "prov")]
        assert original == {"a": 1}
        assert datastore.get(ref) == {"a": 1, "stamped": True}


def test_put_new_stores_and_reports_nothing(datastore, make_ref):
    ref = make_ref()
    assert datastore.put_new(make_metrics(), ref) == {}
    assert datastore.exists(ref)


def test_transfer_copies_between_datastores(make_datastore, make_ref):
    source, target = make_datastore(), make_datastore()
    ref = make_ref()
    source.put(make_metrics(), ref)
    target.transfer(source, ref)
    assert target.get(ref) == make_metrics()
    assert target.get(ref) is not source.get(ref)


def test_transfer_to_itself_raises_assertion_error(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(AssertionError, match="itself"):
        datastore.transfer(datastore, ref)


def test_transfer_from_a_clone_raises_file_exists(datastore, registry, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    with pytest.raises(FileExistsError):
        datastore.transfer(datastore.clone(registry.getDatastoreBridgeManager()), ref)


def test_transfer_of_a_missing_dataset_raises_file_not_found(make_datastore, make_ref):
    source, target = make_datastore(), make_datastore()
    with pytest.raises(FileNotFoundError):
        target.transfer(source, make_ref())

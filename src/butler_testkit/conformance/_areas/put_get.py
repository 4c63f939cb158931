"""Put and get: round trips, isolation of stored objects, re-puts, bad input."""

from __future__ import annotations

__all__ = ("PutGetTests",)

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from lsst.daf.butler import DatasetProvenance, DatasetRef, StorageClass, StorageClassFactory
from lsst.daf.butler.datastore import Datastore

from ...factories import MetricsRecord
from .._capabilities import requires
from .._factory import DatastoreFactory
from .._refs import ConformanceRefs
from .._samples import BARE_STORAGE_CLASS, TracedRecord, sample_metrics, sample_value, traced_provenance

ROUND_TRIP_STORAGE_CLASSES = (
    "BtkMetrics",
    "BtkMetricsNoComponents",
    "BtkMetricsModel",
    "BtkMetricsDict",
    "BtkDict",
    "BtkList",
    "BtkTuple",
    "BtkInt",
)

# Every method that takes one reference, called with something else.
_NOT_A_REF = "metric"
CALLS_WITH_A_BAD_REF: Mapping[str, Callable[[Any], Any]] = {
    "get": lambda datastore: datastore.get(_NOT_A_REF),
    "exists": lambda datastore: datastore.exists(_NOT_A_REF),
    "put": lambda datastore: datastore.put(sample_metrics(), _NOT_A_REF),
    "getURIs": lambda datastore: datastore.getURIs(_NOT_A_REF),
    "remove": lambda datastore: datastore.remove(_NOT_A_REF),
}


class PutGetTests:
    """What goes in comes out, and nothing else changes it."""

    conformance_area = "put and get"

    @pytest.mark.parametrize("storage_class", ROUND_TRIP_STORAGE_CLASSES)
    def test_a_round_trip_returns_an_equal_object(
        self, datastore: Datastore, refs: ConformanceRefs, storage_class: str
    ) -> None:
        ref = refs.ref(f"round_trip_{storage_class.lower()}", storage_class)
        value = sample_value(storage_class)
        datastore.put(value, ref)
        retrieved = datastore.get(ref)
        assert type(retrieved) is type(value)
        assert retrieved == value

    def test_each_dataset_keeps_its_own_value(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        stored = {ref: sample_metrics(token=f"dataset {number}") for number, ref in enumerate(refs.refs(4))}
        for ref, value in stored.items():
            datastore.put(value, ref)
        for ref, value in stored.items():
            assert datastore.get(ref) == value

    def test_getting_an_unknown_dataset_raises_file_not_found(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        with pytest.raises(FileNotFoundError):
            datastore.get(refs.ref())

    def test_two_datastores_share_nothing(
        self, datastore_factory: DatastoreFactory, refs: ConformanceRefs
    ) -> None:
        first, second = datastore_factory(), datastore_factory()
        ref = refs.ref()
        first.put(sample_metrics(), ref)
        assert not second.exists(ref)
        with pytest.raises(FileNotFoundError):
            second.get(ref)

    @requires("copies_on_get")
    def test_each_get_returns_a_new_object(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.get(ref) is not datastore.get(ref)

    @requires("copies_on_get")
    def test_mutating_a_retrieved_object_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        retrieved = datastore.get(ref)
        retrieved.data.append(-1)
        retrieved.summary["token"] = "mutated"
        assert datastore.get(ref) == sample_metrics()

    @requires("copies_on_get")
    def test_mutating_the_put_object_afterwards_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        value = sample_metrics()
        datastore.put(value, ref)
        value.summary = None
        value.data = None
        assert datastore.get(ref) == sample_metrics()

    @requires("copies_on_get")
    def test_mutating_a_retrieved_component_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.get(ref.makeComponentRef("data")).append(-1)
        assert datastore.get(ref.makeComponentRef("data")) == sample_metrics().data

    @requires("refuses_reput")
    def test_putting_a_stored_dataset_again_raises_file_exists(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(FileExistsError):
            datastore.put(sample_metrics(token="again"), ref)

    @requires("refuses_reput")
    def test_a_refused_reput_leaves_the_stored_dataset_intact(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(token="first"), ref)
        with pytest.raises(FileExistsError):
            datastore.put(sample_metrics(token="second"), ref)
        assert datastore.get(ref) == sample_metrics(token="first")

    def test_a_removed_dataset_can_be_put_again(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(token="first"), ref)
        datastore.remove(ref)
        datastore.put(sample_metrics(token="second"), ref)
        assert datastore.get(ref) == sample_metrics(token="second")

    def test_putting_a_component_reference_is_refused_and_stores_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        with pytest.raises(ValueError):
            datastore.put(sample_metrics().summary, ref.makeComponentRef("summary"))
        assert not datastore.exists(ref)

    def test_putting_an_unconvertible_object_raises_type_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        with pytest.raises(TypeError):
            datastore.put(12345, refs.ref())

    def test_a_failed_put_stores_nothing(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        # A mapping that the converter to MetricsRecord refuses midway.
        with pytest.raises(TypeError):
            datastore.put({"summary": {}, "not_a_field": 1}, ref)
        assert not datastore.exists(ref)
        assert not datastore.knows(ref)
        datastore.put(sample_metrics(), ref)
        assert datastore.get(ref) == sample_metrics()

    def test_putting_none_raises_type_error(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        with pytest.raises(TypeError):
            datastore.put(None, ref)
        assert not datastore.exists(ref)

    def test_put_new_reports_only_its_own_names(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        reported = datastore.put_new(sample_metrics(), ref)
        assert isinstance(reported, Mapping)
        assert set(reported) <= set(datastore.names)
        assert all(isinstance(stored, DatasetRef) and stored.id == ref.id for stored in reported.values())

    @requires("ephemeral")
    def test_put_new_of_an_ephemeral_datastore_stores_and_reports_nothing(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        assert datastore.put_new(sample_metrics(), ref) == {}
        assert datastore.get(ref) == sample_metrics()

    @requires("persistent_artifacts")
    def test_put_new_of_a_persistent_datastore_reports_what_to_record(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        # The caller (a Butler) records the returned references' datastore
        # records in the registry; the datastore reports at least itself.
        assert datastore.put_new(sample_metrics(), refs.ref())

    @pytest.mark.parametrize("operation", sorted(CALLS_WITH_A_BAD_REF))
    def test_an_argument_that_is_not_a_reference_raises_type_error(
        self, datastore: Datastore, operation: str
    ) -> None:
        with pytest.raises(TypeError):
            CALLS_WITH_A_BAD_REF[operation](datastore)

    def test_get_returns_the_python_type_of_the_storage_class(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put({"summary": {"token": "from a dict"}, "output": None, "data": [1]}, ref)
        assert type(datastore.get(ref)) is MetricsRecord

    def test_a_storage_class_without_a_delegate_round_trips(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        # Defined in Python rather than in configuration, which would give
        # it the default delegate.
        StorageClassFactory().registerStorageClass(StorageClass(BARE_STORAGE_CLASS, pytype=dict))
        ref = refs.ref("bare", BARE_STORAGE_CLASS)
        datastore.put({"plain": [1, 2]}, ref)
        assert datastore.get(ref) == {"plain": [1, 2]}

    # BtkConformanceTraced's delegate attaches provenance to what is put, as
    # a FileDatastore's formatter has it do before writing.

    def test_the_delegate_attaches_provenance_on_put(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("traced", "BtkConformanceTraced")
        datastore.put(TracedRecord(data=[1, 2, 3]), ref)
        assert datastore.get(ref) == TracedRecord(data=[1, 2, 3], provenance=traced_provenance(ref))

    def test_the_provenance_given_to_put_reaches_the_delegate(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref, used = refs.ref("traced", "BtkConformanceTraced"), refs.ref()
        provenance = DatasetProvenance(quantum_id=used.id)
        provenance.add_input(used)
        datastore.put(TracedRecord(data=[4]), ref, provenance=provenance)
        assert datastore.get(ref).provenance == traced_provenance(ref, provenance)

    @requires("ephemeral")
    def test_put_new_attaches_provenance_too(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        # A persistent datastore's put_new leaves the recording to the caller.
        ref = refs.ref("traced", "BtkConformanceTraced")
        datastore.put_new(TracedRecord(data=[5]), ref)
        assert datastore.get(ref).provenance == traced_provenance(ref)

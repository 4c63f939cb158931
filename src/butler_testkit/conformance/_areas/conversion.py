"""Conversion: reading as another storage class, and converting what is put."""

from __future__ import annotations

__all__ = ("ConversionTests",)

import dataclasses

import pytest
from lsst.daf.butler import DatasetRef
from lsst.daf.butler.datastore import Datastore

from ...factories import MetricsRecord, MetricsRecordModel
from .._refs import ConformanceRefs
from .._samples import GAIN, calibrate, sample_data, sample_metrics, sample_value

# What the stored sample's data becomes when read as the calibrated composite.
_CALIBRATED_DATA: list[int] = [GAIN * value for value in sample_data()]

_SLICE = slice(1, 4)
_CALIBRATED = "BtkConformanceCalibrated"


def _stored_whole(datastore: Datastore, refs: ConformanceRefs) -> DatasetRef:
    """Store the sample record without components; return the reference to read it as calibrated."""
    ref = refs.ref("metric_whole", "BtkMetricsNoComponents")
    datastore.put(sample_metrics(), ref)
    return ref.overrideStorageClass(_CALIBRATED)


class ConversionTests:
    """Storage-class overrides on read, and converters on put."""

    conformance_area = "conversion"

    def test_reading_as_the_model_returns_a_model(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.get(ref, storageClass="BtkMetricsModel") == sample_value("BtkMetricsModel")

    def test_reading_as_a_dictionary_returns_a_dict(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.get(ref, storageClass="BtkMetricsDict") == sample_value("BtkMetricsDict")

    def test_reading_the_data_component_as_a_tuple(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        data = datastore.get(ref.makeComponentRef("data"), storageClass="BtkTuple")
        assert data == tuple(sample_data())

    def test_an_overridden_reference_reads_as_the_storage_class_argument_does(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        by_ref = datastore.get(ref.overrideStorageClass("BtkMetricsModel"))
        assert isinstance(by_ref, MetricsRecordModel)
        assert by_ref == datastore.get(ref, storageClass="BtkMetricsModel")

    def test_an_incompatible_override_raises_value_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(ValueError):
            datastore.get(ref, storageClass="BtkImage")

    def test_an_unknown_parameter_on_an_overridden_read_raises_key_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(KeyError):
            datastore.get(
                ref.makeComponentRef("data"), storageClass="BtkTuple", parameters={"no_such_parameter": 1}
            )

    def test_a_dict_put_as_a_record_without_components_is_converted(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("metric_whole", "BtkMetricsNoComponents")
        datastore.put(sample_value("BtkMetricsDict"), ref)
        retrieved = datastore.get(ref)
        assert type(retrieved) is MetricsRecord
        assert retrieved == sample_metrics()

    def test_a_model_put_as_the_composite_is_converted(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_value("BtkMetricsModel"), ref)
        assert datastore.get(ref) == sample_metrics()

    def test_a_model_read_as_a_dictionary(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref("metric_model", "BtkMetricsModel")
        datastore.put(sample_value("BtkMetricsModel"), ref)
        assert datastore.get(ref, storageClass="BtkMetricsDict") == sample_value("BtkMetricsDict")

    def test_a_component_only_the_read_storage_class_defines(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("metric_whole", "BtkMetricsNoComponents")
        datastore.put(sample_metrics(), ref)
        component = ref.overrideStorageClass("BtkMetrics").makeComponentRef("summary")
        assert datastore.get(component) == sample_metrics().summary

    def test_reading_converted_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.get(ref, storageClass="BtkMetricsDict")
        retrieved = datastore.get(ref)
        assert type(retrieved) is MetricsRecord
        assert retrieved == sample_metrics()

    # The calibrated form's components differ from the stored record's, so
    # these show whether the dataset is converted before a component is
    # taken from it.

    def test_reading_as_a_composite_of_another_type_converts_it(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        assert datastore.get(calibrated) == calibrate(sample_metrics())

    @pytest.mark.parametrize("component", ["summary", "data", "flags"])
    def test_a_component_of_the_read_storage_class_is_taken_after_conversion(
        self, datastore: Datastore, refs: ConformanceRefs, component: str
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        value = datastore.get(calibrated.makeComponentRef(component))
        assert value == getattr(calibrate(sample_metrics()), component)

    def test_a_derived_component_of_the_read_storage_class_is_computed_after_conversion(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        assert datastore.get(calibrated.makeComponentRef("total")) == sum(_CALIBRATED_DATA)

    def test_a_parameter_applies_to_the_converted_composite(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        sliced = datastore.get(calibrated, parameters={"slice": _SLICE})
        assert sliced.data == _CALIBRATED_DATA[_SLICE]

    def test_a_parameter_applies_to_a_component_taken_after_conversion(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        data = datastore.get(calibrated.makeComponentRef("data"), parameters={"slice": _SLICE})
        assert data == _CALIBRATED_DATA[_SLICE]

    def test_a_parameter_of_a_component_applies_to_it_not_to_the_composite(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        # The composite's slice leaves flags alone; the component's slices them.
        ref = refs.ref("metric_whole", "BtkMetricsNoComponents")
        flagged = {"written": True, "flags": ["ok", "checked", "final"]}
        datastore.put(dataclasses.replace(sample_metrics(), output=flagged), ref)
        flags = ref.overrideStorageClass(_CALIBRATED).makeComponentRef("flags")
        assert datastore.get(flags, parameters={"slice": slice(1, None)}) == ["checked", "final"]

    def test_a_converted_component_read_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        calibrated = _stored_whole(datastore, refs)
        datastore.get(calibrated.makeComponentRef("data"))
        datastore.get(calibrated.makeComponentRef("total"))
        assert datastore.get(calibrated.overrideStorageClass("BtkMetricsNoComponents")) == sample_metrics()

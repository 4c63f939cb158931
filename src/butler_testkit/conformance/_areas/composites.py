"""Composites and parameters: components, derived components, slices, cut-outs, composite URIs."""

from __future__ import annotations

__all__ = ("CompositeTests",)

import dataclasses

import numpy as np
import pytest
from lsst.daf.butler.datastore import Datastore

from ...factories import BBox, ImageRecord
from .._capabilities import lacks, requires
from .._refs import ConformanceRefs
from .._samples import sample_data, sample_image, sample_metrics

_SLICE = slice(1, 4)


class CompositeTests:
    """Reading parts of a dataset, and where its parts live."""

    conformance_area = "composites and parameters"

    @pytest.mark.parametrize("component", ["summary", "output", "data"])
    def test_a_component_equals_the_parents_attribute(
        self, datastore: Datastore, refs: ConformanceRefs, component: str
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.get(ref.makeComponentRef(component)) == getattr(sample_metrics(), component)

    def test_a_none_component_comes_back_as_none(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(dataclasses.replace(sample_metrics(), output=None), ref)
        assert datastore.get(ref.makeComponentRef("output")) is None
        assert datastore.get(ref.makeComponentRef("summary")) == sample_metrics().summary

    def test_the_derived_counter_is_the_length_of_data(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(7), ref)
        assert datastore.get(ref.makeComponentRef("counter")) == 7

    def test_the_derived_counter_with_a_slice_is_the_sliced_length(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(7), ref)
        assert datastore.get(ref.makeComponentRef("counter"), parameters={"slice": _SLICE}) == 3

    def test_a_slice_of_the_composite_slices_data_only(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        expected = dataclasses.replace(sample_metrics(), data=sample_data()[_SLICE])
        assert datastore.get(ref, parameters={"slice": _SLICE}) == expected

    def test_a_slice_of_the_data_component(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        sliced = datastore.get(ref.makeComponentRef("data"), parameters={"slice": _SLICE})
        assert sliced == sample_data()[_SLICE]

    def test_an_unknown_parameter_raises_key_error_naming_it(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(KeyError, match="no_such_parameter"):
            datastore.get(ref, parameters={"no_such_parameter": 1})

    def test_a_parameter_the_component_does_not_take_raises_key_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(KeyError):
            datastore.get(ref.makeComponentRef("summary"), parameters={"slice": _SLICE})

    def test_an_unknown_parameter_of_a_derived_component_raises_key_error(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        with pytest.raises(KeyError, match="no_such_parameter"):
            datastore.get(ref.makeComponentRef("counter"), parameters={"no_such_parameter": 1})

    def test_reading_with_parameters_changes_nothing_stored(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        datastore.get(ref, parameters={"slice": _SLICE})
        datastore.get(ref.makeComponentRef("data"), parameters={"slice": _SLICE})
        assert datastore.get(ref) == sample_metrics()

    def test_a_component_of_an_unknown_dataset_raises_file_not_found(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        with pytest.raises(FileNotFoundError):
            datastore.get(refs.ref().makeComponentRef("summary"))

    @pytest.mark.parametrize("component", ["image", "mask", "variance"])
    def test_an_image_plane_equals_the_parents(
        self, datastore: Datastore, refs: ConformanceRefs, component: str
    ) -> None:
        ref = refs.ref("calexp", "BtkImage")
        datastore.put(sample_image(), ref)
        plane = datastore.get(ref.makeComponentRef(component))
        expected = getattr(sample_image(), component)
        assert isinstance(plane, np.ndarray)
        assert plane.dtype == expected.dtype
        assert np.array_equal(plane, expected)

    def test_the_image_metadata_component(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref("calexp", "BtkImage")
        datastore.put(sample_image(), ref)
        assert datastore.get(ref.makeComponentRef("metadata")) == sample_image().metadata

    def test_the_image_derived_shape_and_bbox(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref("calexp", "BtkImage")
        datastore.put(sample_image(), ref)
        assert tuple(datastore.get(ref.makeComponentRef("shape"))) == (4, 5)
        assert datastore.get(ref.makeComponentRef("bbox")) == BBox(0, 0, 5, 4)

    def test_a_bbox_parameter_cuts_out_every_plane(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref("calexp", "BtkImage")
        datastore.put(sample_image(), ref)
        cutout = datastore.get(ref, parameters={"bbox": BBox(1, 1, 3, 2)})
        assert isinstance(cutout, ImageRecord)
        full = sample_image()
        for plane in ("image", "mask", "variance"):
            assert np.array_equal(getattr(cutout, plane), getattr(full, plane)[1:3, 1:4]), plane
        assert cutout.metadata == full.metadata

    @requires("disassembly")
    def test_a_disassembled_composite_has_a_uri_per_component_and_no_primary(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        primary, components = datastore.getURIs(ref)
        assert primary is None
        assert set(components) == {"summary", "output", "data"}

    @lacks("disassembly")
    def test_a_composite_has_one_primary_uri_and_no_component_uris(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        primary, components = datastore.getURIs(ref)
        assert primary is not None
        assert not components

    @lacks("disassembly")
    def test_a_component_reference_gets_its_parents_uri(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.getURI(ref.makeComponentRef("data")) == datastore.getURI(ref)

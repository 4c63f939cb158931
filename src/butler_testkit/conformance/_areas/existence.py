"""Existence and URIs: exists, knows, their bulk forms, and URIs stored and predicted."""

from __future__ import annotations

__all__ = ("ExistenceTests",)

import pytest
from lsst.daf.butler.datastore import DatasetRefURIs, Datastore
from lsst.resources import ResourcePath

from ...factories import make_bridge_manager
from .._capabilities import Capabilities, lacks, requires
from .._refs import ConformanceRefs
from .._samples import sample_metrics, sample_value


def _pair(uris: DatasetRefURIs) -> tuple[ResourcePath | None, dict[str, ResourcePath]]:
    # DatasetRefURIs compares equal to any other DatasetRefURIs whatever
    # they hold (its equality is broken upstream): compare what they hold.
    return uris.primaryURI, dict(uris.componentURIs)


class ExistenceTests:
    """Whether a dataset is there, and where it is."""

    conformance_area = "existence and URIs"

    def test_a_stored_dataset_exists_and_is_known(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.exists(ref)
        assert datastore.knows(ref)

    def test_an_unknown_dataset_neither_exists_nor_is_known(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        assert not datastore.exists(ref)
        assert not datastore.knows(ref)

    def test_bulk_existence_is_keyed_by_the_given_references(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored, missing = refs.refs(2)
        datastore.put(sample_metrics(), stored)
        expected = {stored: True, missing: False}
        assert datastore.knows_these([stored, missing]) == expected
        assert datastore.mexists([stored, missing]) == expected

    def test_a_component_reference_exists_when_its_parent_does(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert datastore.exists(ref.makeComponentRef("data"))

    def test_many_uris_of_a_missing_dataset_raise_file_not_found(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored, missing = refs.refs(2)
        datastore.put(sample_metrics(), stored)
        with pytest.raises(FileNotFoundError):
            datastore.getManyURIs([stored, missing])

    def test_many_uris_allowing_missing_datasets_leave_them_out(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        stored, missing = refs.refs(2)
        datastore.put(sample_metrics(), stored)
        uris = datastore.getManyURIs([stored, missing], allow_missing=True)
        assert set(uris) == {stored}
        assert _pair(uris[stored]) == _pair(datastore.getURIs(stored))

    @requires("predicted_uris")
    def test_a_predicted_uri_has_the_fragment_predicted_and_the_data_id_values(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("prediction", "BtkDict")
        uri = datastore.getURI(ref, predict=True)
        assert uri.fragment == "predicted"
        for dimension in ("visit", "detector"):
            assert str(ref.dataId[dimension]) in str(uri), dimension

    def test_the_uri_of_an_unknown_dataset_raises_file_not_found(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("unknown", "BtkDict")
        with pytest.raises(FileNotFoundError):
            datastore.getURI(ref)
        with pytest.raises(FileNotFoundError):
            datastore.getURIs(ref)

    @requires("uri_scheme")
    def test_a_stored_dataset_has_the_declared_uri_scheme(
        self, datastore: Datastore, refs: ConformanceRefs, capabilities: Capabilities
    ) -> None:
        ref = refs.ref("plain", "BtkDict")
        datastore.put(sample_value("BtkDict"), ref)
        assert datastore.getURI(ref).scheme == capabilities.uri_scheme

    def test_uris_are_the_same_on_every_call(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert _pair(datastore.getURIs(ref)) == _pair(datastore.getURIs(ref))

    def test_a_dataset_stored_again_gets_the_same_uri(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref("plain", "BtkDict")
        datastore.put(sample_value("BtkDict"), ref)
        first = datastore.getURI(ref)
        datastore.remove(ref)
        datastore.put(sample_value("BtkDict"), ref)
        assert datastore.getURI(ref) == first

    @requires("ephemeral")
    def test_a_clone_reports_the_same_uris(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert _pair(datastore.clone(make_bridge_manager()).getURIs(ref)) == _pair(datastore.getURIs(ref))

    def test_different_datasets_have_different_uris(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        first, second = refs.refs(2, "plain", "BtkDict")
        datastore.put(sample_value("BtkDict"), first)
        datastore.put(sample_value("BtkDict"), second)
        assert datastore.getURI(first) != datastore.getURI(second)

    def test_uris_come_as_a_read_only_pair(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        uris = datastore.getURIs(ref)
        assert isinstance(uris, DatasetRefURIs)
        primary, components = uris
        assert list(uris.iter_all()) == [uri for uri in [primary, *components.values()] if uri is not None]
        with pytest.raises(TypeError):
            uris[0] = None  # type: ignore[index]

    @lacks("disassembly")
    def test_every_reference_to_a_dataset_gets_the_same_uri(
        self, datastore: Datastore, refs: ConformanceRefs
    ) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        uri = datastore.getURI(ref)
        assert datastore.getURI(ref.overrideStorageClass("BtkMetricsModel")) == uri
        assert datastore.getURI(ref.makeComponentRef("summary")) == uri

    @requires("persistent_artifacts")
    def test_a_stored_artifact_exists_at_its_uri(self, datastore: Datastore, refs: ConformanceRefs) -> None:
        ref = refs.ref()
        datastore.put(sample_metrics(), ref)
        assert all(uri.exists() for uri in datastore.getURIs(ref).iter_all())

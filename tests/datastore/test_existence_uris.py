"""Existence checks and URIs."""

from __future__ import annotations

import pytest
from lsst.daf.butler.datastore import DatasetRefURIs

from tests._helpers import make_metrics


def test_existence_checks_after_put_and_for_unknown_refs(datastore, make_ref):
    stored, unknown = make_ref(), make_ref()
    datastore.put(make_metrics(), stored)
    assert datastore.exists(stored) and datastore.knows(stored)
    assert not datastore.exists(unknown) and not datastore.knows(unknown)
    assert datastore.knows_these([stored, unknown]) == {stored: True, unknown: False}
    assert datastore.mexists([stored, unknown]) == {stored: True, unknown: False}


def test_bulk_existence_is_keyed_by_the_refs_given(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    component = ref.makeComponentRef("data")
    result = datastore.mexists(iter([component]))
    assert list(result) == [component]
    assert result[component] is True


def test_mexists_leaves_the_artifact_cache_alone(datastore, make_ref):
    cache: dict = {}
    datastore.mexists([make_ref()], artifact_existence=cache)
    assert cache == {}


def test_existence_ignores_everything_but_the_dataset_id(datastore, make_ref):
    ref = make_ref()
    datastore.put(make_metrics(), ref)
    same_id = make_ref(name="other", storage_class="BtkDict", run="elsewhere", dataset_id=ref.id)
    assert datastore.exists(same_id)


class TestUris:
    def test_uri_names_datastore_run_dataset_type_id_and_data_id(self, make_datastore, make_ref):
        datastore = make_datastore(name="store")
        ref = make_ref(run="u/someone/run 1", data_id={"instrument": "My Cam", "visit": 7})
        datastore.put(make_metrics(), ref)
        uri = datastore.getURI(ref)
        assert uri.scheme == "mem"
        assert str(uri) == f"mem://store/u/someone/run%201/metric/{ref.id.hex}?instrument=My+Cam&visit=7"
        assert uri.fragment == ""

    def test_uri_is_stable_and_independent_of_the_ref_flavour(self, datastore, make_ref, registry):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        uri = datastore.getURI(ref)
        assert datastore.getURI(ref) == uri
        assert datastore.getURI(ref.makeComponentRef("data")) == uri
        assert datastore.getURI(ref.overrideStorageClass("BtkMetricsModel")) == uri
        assert datastore.clone(registry.getDatastoreBridgeManager()).getURI(ref) == uri

    def test_default_name_is_percent_encoded_in_the_authority(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        uri = datastore.getURI(ref)
        assert uri.netloc == datastore.name.replace("@", "%40")

    def test_predicted_uri_for_an_unknown_dataset(self, make_datastore, make_ref):
        datastore = make_datastore(name="store")
        ref = make_ref(data_id={"instrument": "DummyCam", "visit": 3})
        uri = datastore.getURI(ref, predict=True)
        assert uri.fragment == "predicted"
        assert str(uri) == "mem://store/test/run/metric?instrument=DummyCam&visit=3#predicted"

    def test_a_prediction_depends_on_what_the_dataset_is_not_on_its_id(self, datastore, make_ref):
        data_id = {"instrument": "DummyCam", "visit": 3}
        ref = make_ref(data_id=data_id)
        predicted = datastore.getURI(ref, predict=True)
        assert datastore.getURI(make_ref(data_id=data_id), predict=True) == predicted
        others = [
            make_ref(data_id={"instrument": "DummyCam", "visit": 4}),
            make_ref(data_id=data_id, run="other/run"),
            make_ref(data_id=data_id, name="other"),
            ref.makeComponentRef("data"),
        ]
        uris = {datastore.getURI(other, predict=True) for other in others}
        assert len(uris) == len(others) and predicted not in uris
        assert str(datastore.getURI(ref.makeComponentRef("data"), predict=True)).startswith(
            f"mem://{datastore.name.replace('@', '%40')}/test/run/metric.data?"
        )

    def test_a_stored_dataset_keeps_a_uri_of_its_own(self, datastore, make_ref):
        # Without a registry nothing stops two datasets sharing a data ID.
        data_id = {"instrument": "DummyCam", "visit": 3}
        first, second = make_ref(data_id=data_id), make_ref(data_id=data_id)
        predicted = datastore.getURI(first, predict=True)
        datastore.put(make_metrics(), first)
        datastore.put(make_metrics(), second)
        uris = [datastore.getURI(first), datastore.getURI(second)]
        assert uris[0] != uris[1] and predicted not in uris
        assert [ref.id.hex in str(uri) for ref, uri in zip((first, second), uris, strict=True)] == [
            True,
            True,
        ]

    def test_predict_of_a_stored_dataset_gives_its_real_uri(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        assert datastore.getURI(ref, predict=True) == datastore.getURI(ref)

    def test_unknown_dataset_without_predict_raises(self, datastore, make_ref):
        ref = make_ref()
        with pytest.raises(FileNotFoundError, match=str(ref.id)):
            datastore.getURI(ref)
        with pytest.raises(FileNotFoundError):
            datastore.getURIs(ref)

    def test_there_is_always_a_primary_uri_and_never_component_uris(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        uris = datastore.getURIs(ref)
        assert isinstance(uris, DatasetRefURIs)
        primary, components = uris
        assert primary == datastore.getURI(ref)
        assert components == {}
        assert list(uris.iter_all()) == [primary]
        with pytest.raises(TypeError):
            uris[0] = None  # type: ignore[index]

    def test_get_many_uris(self, datastore, make_ref):
        stored, missing = make_ref(), make_ref()
        datastore.put(make_metrics(), stored)
        with pytest.raises(FileNotFoundError):
            datastore.getManyURIs([stored, missing])
        assert list(datastore.getManyURIs([stored, missing], allow_missing=True)) == [stored]
        assert datastore.getManyURIs([missing], allow_missing=True) == {}
        predicted = datastore.getManyURIs([stored, missing], predict=True)
        assert predicted[missing].primaryURI.fragment == "predicted"

    def test_uri_after_remove_is_a_prediction(self, datastore, make_ref):
        ref = make_ref()
        datastore.put(make_metrics(), ref)
        datastore.remove(ref)
        assert datastore.getURI(ref, predict=True).fragment == "predicted"

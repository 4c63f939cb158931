"""A real Butler, made with Butler.makeRepo, on our datastore."""

from __future__ import annotations

import pytest
from lsst.daf.butler import Butler, Config, DataCoordinate, DatasetRef, DatasetType
from lsst.resources import ResourcePath

from butler_testkit import InMemoryDatastore
from butler_testkit.factories import MetricsRecord, MetricsRecordModel
from tests._helpers import make_metrics

RUN = "test/run"


@pytest.fixture
def butler(tmp_path):
    config = Config({"datastore": {"cls": "butler_testkit.InMemoryDatastore"}})
    Butler.makeRepo(str(tmp_path), config=config)
    with Butler.from_config(str(tmp_path), writeable=True, run=RUN) as butler:
        butler.registry.insertDimensionData("instrument", {"name": "DummyCam", "visit_max": 1000})
        butler.registry.insertDimensionData("day_obs", {"instrument": "DummyCam", "id": 20261123})
        butler.registry.insertDimensionData(
            "physical_filter", {"instrument": "DummyCam", "name": "d-r", "band": "r"}
        )
        for visit in (1, 2, 3):
            butler.registry.insertDimensionData(
                "visit",
                {
                    "instrument": "DummyCam",
                    "id": visit,
                    "name": f"v{visit}",
                    "physical_filter": "d-r",
                    "day_obs": 20261123,
                },
            )
        yield butler


def _register(butler, name="metric", storage_class="BtkMetrics"):
    dataset_type = DatasetType(name, butler.dimensions.conform(["instrument", "visit"]), storage_class)
    butler.registry.registerDatasetType(dataset_type)
    return dataset_type


def test_butler_uses_our_datastore(butler):
    assert isinstance(butler._datastore, InMemoryDatastore)


def test_put_and_get_plain_and_composite_datasets(butler):
    _register(butler, "plain", "BtkDict")
    _register(butler)
    plain_ref = butler.put({"a": 1}, "plain", instrument="DummyCam", visit=1)
    composite_ref = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    assert butler.get(plain_ref) == {"a": 1}
    assert butler.get("metric", instrument="DummyCam", visit=1) == make_metrics()
    assert butler.get(composite_ref) is not butler.get(composite_ref)  # copy isolation


def test_components_derived_components_and_parameters(butler):
    _register(butler)
    ref = butler.put(make_metrics(6), "metric", instrument="DummyCam", visit=2)
    assert butler.get("metric.data", instrument="DummyCam", visit=2) == list(range(6))
    assert butler.get("metric.summary", instrument="DummyCam", visit=2) == make_metrics().summary
    assert butler.get(ref.makeComponentRef("counter")) == 6
    assert butler.get(ref.makeComponentRef("counter"), parameters={"slice": slice(2)}) == 2
    assert butler.get(ref, parameters={"slice": slice(1, 3)}).data == [1, 2]
    deferred = butler.getDeferred(ref, parameters={"slice": slice(4)})
    assert deferred.get().data == [0, 1, 2, 3]


def test_storage_class_override_on_get(butler):
    _register(butler)
    ref = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    model = butler.get(ref, storageClass="BtkMetricsModel")
    assert isinstance(model, MetricsRecordModel)
    assert butler.get(ref, storageClass="BtkMetricsDict")["data"] == make_metrics().data


def test_re_put_of_the_same_ref_is_a_conflict(butler):
    _register(butler)
    ref = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    with pytest.raises(Exception, match="already"):
        butler.put(make_metrics(), ref)
    assert butler.get(ref) == make_metrics()


def test_prune_datasets_unstores_and_purges(butler):
    _register(butler)
    kept = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    pruned = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=2)
    butler.pruneDatasets([pruned], purge=True, unstore=True)
    assert not butler.stored(pruned)
    assert butler.stored(kept)
    assert butler.registry.findDataset("metric", instrument="DummyCam", visit=2, collections=RUN) is None
    assert butler._datastore.trashed_refs() == []


def test_a_failed_butler_transaction_rolls_back_registry_and_datastore(butler):
    _register(butler)
    before = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    with pytest.raises(RuntimeError, match="abandon"), butler.transaction():
        inside = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=2)
        assert butler.stored(inside)
        raise RuntimeError("abandon")
    assert butler.registry.findDataset("metric", instrument="DummyCam", visit=2, collections=RUN) is None
    assert not butler._datastore.knows(inside)
    assert butler.get(before) == make_metrics()


def test_a_failed_prune_inside_a_transaction_keeps_the_dataset(butler):
    _register(butler)
    ref = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=3)
    with pytest.raises(RuntimeError), butler.transaction():
        butler._datastore.trash([ref])
        raise RuntimeError("abandon")
    butler._datastore.emptyTrash()
    assert butler.get(ref) == make_metrics()


def test_a_butler_clone_sees_the_same_datasets(butler):
    _register(butler)
    ref = butler.put(make_metrics(), "metric", instrument="DummyCam", visit=1)
    clone = butler.clone()
    assert clone.get(ref) == make_metrics()
    other = clone.put(make_metrics(2), "metric", instrument="DummyCam", visit=2, run=RUN)
    assert butler.get(other) == make_metrics(2)


def test_put_of_the_wrong_type_through_the_butler(butler):
    _register(butler)
    with pytest.raises(TypeError, match="BtkMetrics"):
        butler.put(12, "metric", instrument="DummyCam", visit=1)


def test_a_dict_is_converted_on_put(butler):
    _register(butler, "converted", "BtkMetricsNoComponents")
    ref = butler.put({"summary": {"a": 1}}, "converted", instrument="DummyCam", visit=1)
    assert butler.get(ref) == MetricsRecord(summary={"a": 1})


def test_predicted_uris_of_one_data_id_are_equal(butler):
    # What daf_butler's own Butler tests ask of every datastore that predicts.
    dataset_type = _register(butler)
    butler.put(make_metrics(), dataset_type, instrument="DummyCam", visit=1)
    data_id = {"instrument": "DummyCam", "visit": 2}
    uri, components = butler.getURIs(dataset_type, dataId=data_id, predict=True)
    assert not components
    assert isinstance(uri, ResourcePath)
    assert "visit=2" in str(uri)
    assert uri.fragment == "predicted"
    ref = DatasetRef(dataset_type, DataCoordinate.standardize(data_id, universe=butler.dimensions), run=RUN)
    uri_of_ref, components_of_ref = butler.getURIs(ref, predict=True)
    assert not components_of_ref
    assert uri_of_ref == uri
    stored = butler.getURI(dataset_type, instrument="DummyCam", visit=1)
    assert stored.fragment == "" and "visit=1" in str(stored)

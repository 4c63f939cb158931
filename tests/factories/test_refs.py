"""The ref factory: resolved refs from a name, or from everything explicit."""

from __future__ import annotations

import uuid

import pytest
from lsst.daf.butler import DataCoordinate, DatasetRef, UnknownComponentError

from butler_testkit.factories import DataIdFactory, RefFactory


def _factory(seed: int = 1, **kwargs) -> RefFactory:
    return RefFactory(DataIdFactory(seed=seed), seed=seed, **kwargs)


def test_a_name_is_enough_for_a_resolved_expanded_ref():
    ref = _factory().ref("calexp")
    assert isinstance(ref, DatasetRef)
    assert isinstance(ref.id, uuid.UUID) and ref.id.version == 4
    assert ref.datasetType.name == "calexp"
    assert ref.datasetType.storageClass_name == "BtkMetrics"
    assert set(ref.datasetType.dimensions.required) == {"instrument", "visit", "detector"}
    assert ref.dataId.hasRecords()
    assert ref.run.startswith("u/")


def test_everything_can_be_given_explicitly(universe):
    refs = _factory()
    data_id = DataCoordinate.standardize({"instrument": "DummyCam", "visit": 3}, universe=universe)
    dataset_id = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    ref = refs.ref(
        "plain",
        storage_class="BtkDict",
        dimensions=["instrument", "visit"],
        data_id=data_id,
        run="my/run",
        id=dataset_id,
        expanded=False,
    )
    assert (ref.datasetType.storageClass_name, ref.run, ref.id) == ("BtkDict", "my/run", dataset_id)
    assert ref.dataId == data_id and not ref.dataId.hasRecords()


def test_partial_data_ids_are_completed_consistently():
    refs = _factory()
    first = refs.ref("calexp")
    second = refs.ref("src", visit=first.dataId["visit"], detector=first.dataId["detector"])
    assert second.dataId == first.dataId
    assert second.dataId.records["visit"] == first.dataId.records["visit"]
    from_mapping = refs.ref("other", data_id={"visit": first.dataId["visit"]})
    assert from_mapping.dataId["physical_filter"] == first.dataId["physical_filter"]


def test_refs_of_one_dataset_type_get_different_data_ids_and_ids():
    refs = _factory()
    made = refs.refs("calexp", 30)
    assert len({ref.dataId for ref in made}) == 30
    assert len({ref.id for ref in made}) == 30


def test_many_refs_share_the_values_given():
    made = _factory().refs("calexp", 3, visit=42)
    assert {ref.dataId["visit"] for ref in made} == {42}
    assert len({ref.dataId["detector"] for ref in made}) == 3


def test_running_out_of_data_ids_is_a_value_error():
    refs = _factory()
    refs.refs("calexp", 4, visit=42)  # GenericCam has four detectors
    with pytest.raises(ValueError, match="Cannot find a data ID for 'calexp'"):
        refs.ref("calexp", visit=42)
    # Another run has room for the same data IDs.
    assert refs.ref("calexp", visit=42, run="another/run").run == "another/run"


def test_the_same_seed_gives_the_same_ids_and_runs():
    def made(seed: int) -> list[tuple[uuid.UUID, str, DataCoordinate]]:
        refs = _factory(seed)
        return [(ref.id, ref.run, ref.dataId) for ref in refs.refs("a", 3) + refs.refs("b", 2)]

    assert made(5) == made(5)
    assert [item[0] for item in made(5)] != [item[0] for item in made(6)]


def test_ids_do_not_depend_on_how_many_data_ids_were_drawn():
    quiet = _factory(5)
    busy = _factory(5)
    busy.data_ids.data_ids(["instrument", "visit"], 10)
    assert [ref.id for ref in quiet.refs("x", 3)] == [ref.id for ref in busy.refs("x", 3)]


def test_a_dataset_type_keeps_its_definition_and_refuses_contradictions():
    refs = _factory()
    dataset_type = refs.dataset_type("calexp", storage_class="BtkMetricsNoComponents")
    assert refs.dataset_type("calexp") is dataset_type
    assert refs.ref("calexp").datasetType is dataset_type
    with pytest.raises(ValueError, match=r"storage class BtkDict \(it has BtkMetricsNoComponents\)"):
        refs.ref("calexp", storage_class="BtkDict")
    with pytest.raises(ValueError, match="dimensions"):
        refs.dataset_type("calexp", dimensions=["instrument"])
    assert refs.dataset_type("calexp") is dataset_type


def test_component_refs_point_at_the_parent_dataset():
    refs = _factory()
    parent = refs.ref("metric")
    component = refs.ref("metric", data_id=parent.dataId, id=parent.id, component="counter")
    assert component.isComponent()
    assert component.datasetType.name == "metric.counter"
    assert component.datasetType.storageClass_name == "BtkInt"
    assert component.makeCompositeRef() == parent
    with pytest.raises(UnknownComponentError):
        refs.ref("metric", component="no_such_component")


def test_storage_class_override_refs_convert_on_read():
    ref = _factory().ref("metric", override_storage_class="BtkMetricsModel")
    assert ref.datasetType.storageClass_name == "BtkMetricsModel"
    with pytest.raises(ValueError, match="BtkInt"):
        _factory().ref("metric", override_storage_class="BtkInt")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"storage_class": "NoSuchClass"}, LookupError, "'NoSuchClass' is not registered"),
        ({"id": "not-a-uuid"}, TypeError, "id must be a uuid.UUID"),
        ({"run": ""}, TypeError, "run must be a non-empty str"),
        ({"data_id": 7}, TypeError, "data_id must be a DataCoordinate or a mapping"),
        ({"detector": 4000}, ValueError, "has no detector 4000"),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs, error, message):
    refs = _factory()
    with pytest.raises(error, match=message):
        refs.ref("metric", **kwargs)


def test_bad_names_and_counts_are_refused():
    refs = _factory()
    with pytest.raises(ValueError, match="names a component"):
        refs.ref("calexp.image")
    with pytest.raises(TypeError, match="must be a str"):
        refs.dataset_type(3)
    with pytest.raises(ValueError, match="non-negative"):
        refs.refs("metric", -2)
    with pytest.raises(TypeError, match="id= is not accepted"):
        refs.refs("metric", 2, id=uuid.uuid4())

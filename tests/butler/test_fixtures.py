"""The butler, butler_repo and butler_repo_factory fixtures."""

from __future__ import annotations

import pytest
from lsst.daf.butler import Butler, CollectionType

from butler_testkit import InMemoryDatastore
from butler_testkit.butler import TestRepository


def test_butler_is_a_writeable_butler_on_its_own_repository(butler, butler_repo, butler_registry):
    assert isinstance(butler_repo, TestRepository)
    assert butler is butler_repo.butler
    assert butler.isWriteable()
    # The test's name, parameters included (the registry engine, here).
    assert butler.run == f"test/test_butler_is_a_writeable_butler_on_its_own_repository_{butler_registry}_"
    assert butler_repo.registry_dialect == butler_registry
    assert isinstance(butler._datastore, InMemoryDatastore)
    assert butler_repo.seeded.instrument is None


@pytest.mark.butler_repo(
    instrument="HSC",
    detectors=3,
    visits=2,
    dataset_types={"calexp": "BtkImage", "counts": ("BtkDict", ["instrument", "visit"])},
)
def test_the_marker_seeds_records_and_dataset_types(butler, butler_repo):
    seeded = butler_repo.seeded
    assert seeded.instrument == "HSC"
    assert seeded.detectors == (0, 1, 2)
    assert len(seeded.visits) == 2
    assert {record.id for record in butler.registry.queryDimensionRecords("visit")} == set(seeded.visits)
    (instrument,) = butler.registry.queryDimensionRecords("instrument")
    assert instrument.name == "HSC" and instrument.class_name
    assert butler.get_dataset_type("counts").dimensions.names >= {"instrument", "visit"}
    for data_id in seeded.data_ids("visit"):
        butler.put({"n": data_id["visit"]}, "counts", data_id)
    assert len(list(butler.registry.queryDatasets("counts", collections=butler.run))) == 2


@pytest.mark.butler_repo(instrument="LSSTCam", detectors=[10, 11], exposures=1, tracts=1, run="my/run")
def test_explicit_detectors_exposures_tracts_and_run(butler_repo):
    seeded = butler_repo.seeded
    assert seeded.detectors == (10, 11)
    assert len(seeded.exposures) == 1 and len(seeded.tracts) == 1
    assert seeded.skymap is not None
    assert butler_repo.butler.run == "my/run"
    assert butler_repo.butler.collections.get_info("my/run").type is CollectionType.RUN


@pytest.mark.butler_repo(registry_data="resource://lsst.daf.butler/tests/registry_data/base.yaml")
def test_registry_data_can_be_loaded(butler):
    assert [record.name for record in butler.registry.queryDimensionRecords("instrument")] == ["Cam1"]


def test_the_factory_makes_more_isolated_repositories(butler_repo_factory):
    first = butler_repo_factory(instrument="GenericCam", visits=1)
    second = butler_repo_factory()
    assert first.root != second.root
    assert len(list(first.butler.registry.queryDimensionRecords("visit"))) == 1
    assert list(second.butler.registry.queryDimensionRecords("visit")) == []
    with pytest.raises(TypeError, match=r"Unknown test-repository keyword\(s\) \['colour'\]"):
        butler_repo_factory(colour="blue")


def test_code_under_test_opening_the_root_sees_the_fixtures_data(butler, butler_repo):
    butler.registry.insertDimensionData("instrument", {"name": "Cam"})
    with Butler.from_config(str(butler_repo.root), writeable=True, run="other") as theirs:
        assert [record.name for record in theirs.registry.queryDimensionRecords("instrument")] == ["Cam"]

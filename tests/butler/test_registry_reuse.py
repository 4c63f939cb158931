"""Registries opened by cloning a template's managers hold and do what daf_butler's do."""

from __future__ import annotations

import pathlib

import pytest
from lsst.daf.butler import Butler, CollectionType, DatasetType

from butler_testkit.butler import fast_repos, reset_setup_stats, setup_stats
from butler_testkit.butler._fast_repo_engine import engine


def _fill(butler: Butler) -> None:
    butler.registry.insertDimensionData("instrument", {"name": "Cam", "detector_max": 4})
    butler.registry.insertDimensionData("detector", {"instrument": "Cam", "id": 1, "full_name": "one"})
    dataset_type = DatasetType(
        "metric", butler.dimensions.conform(["instrument", "detector"]), "StructuredDataDict"
    )
    butler.registry.registerDatasetType(dataset_type)
    butler.registry.registerCollection("chain", CollectionType.CHAINED)
    butler.registry.setCollectionChain("chain", [butler.run])
    butler.put({"value": 1}, "metric", instrument="Cam", detector=1)


def _contents(butler: Butler) -> dict[str, object]:
    return {
        "collections": sorted(butler.collections.query("*")),
        "chain": list(butler.collections.get_info("chain").children),
        "dataset_types": sorted(dataset_type.name for dataset_type in butler.registry.queryDatasetTypes()),
        "detectors": [record.toDict() for record in butler.registry.queryDimensionRecords("detector")],
        "datasets": sorted(str(ref.id) for ref in butler.registry.queryDatasets(..., collections=...)),
        "values": [butler.get(ref) for ref in butler.registry.queryDatasets("metric", collections=...)],
    }


@pytest.fixture
def repositories(tmp_path: pathlib.Path) -> list[pathlib.Path]:
    roots = [tmp_path / name for name in ("one", "two")]
    with fast_repos():
        for root in roots:
            Butler.makeRepo(str(root))
    return roots


def test_a_cloned_registry_holds_what_daf_butlers_holds(repositories: list[pathlib.Path]) -> None:
    reset_setup_stats()
    with fast_repos():
        for root in repositories:
            with Butler.from_config(str(root), writeable=True, run="run") as butler:
                _fill(butler)
    assert setup_stats().routed.get("SqlRegistry.fromConfig") == 2
    for root in repositories:
        with Butler.from_config(str(root)) as plain:
            expected = _contents(plain)
        with fast_repos(), Butler.from_config(str(root)) as fast:
            assert _contents(fast) == expected
        assert expected["values"] == [{"value": 1}]


def test_each_copy_gets_its_own_datastore_tables(repositories: list[pathlib.Path]) -> None:
    # Clones of one template must not share what they learnt about tables
    # made after the static ones.
    with fast_repos():
        for root in repositories:
            with Butler.from_config(str(root), writeable=True, run="run") as butler:
                _fill(butler)
                assert butler.get("metric", instrument="Cam", detector=1) == {"value": 1}


def test_read_only_is_honoured(repositories: list[pathlib.Path]) -> None:
    with fast_repos(), Butler.from_config(str(repositories[0]), writeable=False) as butler:
        assert not butler.isWriteable()
        with pytest.raises(Exception, match=r"(?i)read.?only|readonly|not writeable|attempt to write"):
            butler.registry.registerRun("new")


def test_defaults_are_honoured(repositories: list[pathlib.Path]) -> None:
    with fast_repos():
        with Butler.from_config(str(repositories[0]), writeable=True, run="a/run") as butler:
            assert butler.run == "a/run"
            assert list(butler.collections.defaults) == ["a/run"]
            butler.registry.insertDimensionData("instrument", {"name": "Cam"})
        with Butler.from_config(str(repositories[0]), collections=["a/run"], instrument="Cam") as butler:
            assert list(butler.collections.defaults) == ["a/run"]
            assert butler.registry.defaults.dataId.mapping == {"instrument": "Cam"}


def test_a_registry_of_another_schema_goes_to_daf_butler(tmp_path: pathlib.Path) -> None:
    config = {
        "registry": {
            "managers": {
                "collections": "lsst.daf.butler.registry.collections.nameKey.NameKeyCollectionManager"
            }
        }
    }
    from lsst.daf.butler import Config

    engine().originals.make_repo(str(tmp_path / "other"), config=Config(config))
    reset_setup_stats()
    with fast_repos(), Butler.from_config(str(tmp_path / "other"), writeable=True, run="run") as butler:
        assert butler.collections.query("*") == ["run"]
    fallbacks = {key: n for key, n in setup_stats().fallbacks.items() if key.startswith("SqlRegistry")}
    assert fallbacks == {"SqlRegistry.fromConfig: no template has this registry's schema": 1}

"""The compatibility functions give what daf_butler's give, on the same inputs."""

from __future__ import annotations

import pathlib
import random
from collections.abc import Callable
from typing import Any

import pytest
from lsst.daf.butler import Butler, Config
from lsst.daf.butler.datastores.fileDatastore import FileDatastore
from lsst.daf.butler.datastores.inMemoryDatastore import InMemoryDatastore
from lsst.daf.butler.tests import _testRepo as upstream

from butler_testkit import butler as compat

DATA_IDS = {
    "instrument": ["notACam", "dummyCam"],
    "physical_filter": ["k2020"],
    "detector": [1, 2],
    "visit": [101],
}


def _records(butler: Butler) -> dict[str, list[dict[str, Any]]]:
    records = {}
    for element in butler.dimensions.elements:
        if element.has_own_table:
            found = butler.registry.queryDimensionRecords(element.name)
            records[element.name] = sorted((record.toDict() for record in found), key=repr)
    return records


def _both(
    tmp_path: pathlib.Path, seed: int, call: Callable[[Any, pathlib.Path], Butler]
) -> tuple[tuple[Butler, object], tuple[Butler, object]]:
    """Run the same calls with daf_butler's functions and ours, from the same random state."""
    results = []
    for name, module in (("upstream", upstream), ("ours", compat)):
        random.seed(seed)
        butler = call(module, tmp_path / name)
        results.append((butler, random.random()))
    return results[0], results[1]


@pytest.mark.parametrize("data_ids", [None, {}, DATA_IDS, {"skymap": ["map"], "tract": [3]}])
def test_make_test_repo_makes_the_same_records(tmp_path: pathlib.Path, data_ids: Any) -> None:
    (expected, expected_state), (ours, state) = _both(
        tmp_path, 7, lambda module, root: module.makeTestRepo(str(root), data_ids)
    )
    assert _records(ours) == _records(expected)
    assert state == expected_state  # the same random draws
    assert type(ours._datastore) is type(expected._datastore) is InMemoryDatastore
    assert ours.isWriteable() and expected.isWriteable()
    assert ours.run is expected.run is None
    assert ours._config.toDict()["datastore"] == expected._config.toDict()["datastore"]


def test_make_test_repo_honours_the_configured_datastore(tmp_path: pathlib.Path) -> None:
    config = Config({"datastore": {"cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore"}})
    (expected, _), (ours, _) = _both(
        tmp_path, 1, lambda module, root: module.makeTestRepo(str(root), config=config)
    )
    assert type(ours._datastore) is type(expected._datastore) is FileDatastore
    assert str(ours._datastore.root).endswith("ours/")


def test_make_test_repo_passes_keywords_to_make_repo(tmp_path: pathlib.Path) -> None:
    search = tmp_path / "search"
    search.mkdir()
    (search / "storageClasses.yaml").write_text("storageClasses:\n  CompatDict:\n    pytype: dict\n")
    (expected, _), (ours, _) = _both(
        tmp_path,
        1,
        lambda module, root: module.makeTestRepo(str(root), standalone=True, searchPaths=[str(search)]),
    )
    assert "CompatDict" in ours._config["storageClasses"]
    assert "CompatDict" in expected._config["storageClasses"]
    for module in (upstream, compat):
        with pytest.raises(TypeError):
            module.makeTestRepo(str(tmp_path / "bad"), forceConfigRoot=True)


def test_make_test_collection_draws_the_same_run(tmp_path: pathlib.Path) -> None:
    repos = {
        name: module.makeTestRepo(str(tmp_path / name)) for name, module in (("u", upstream), ("o", compat))
    }
    random.seed(3)
    expected = upstream.makeTestCollection(repos["u"])
    random.seed(3)
    ours = compat.makeTestCollection(repos["o"])
    assert ours.run == expected.run
    assert ours.collections.query("*") == expected.collections.query("*") == [expected.run]
    assert compat.makeTestCollection(repos["o"], "given").run == "test_given"


def _data_id_calls(module: Any, root: pathlib.Path) -> Butler:
    butler = module.makeTestRepo(str(root))
    module.addDataIdValue(butler, "instrument", "notACam")
    module.addDataIdValue(butler, "physical_filter", "k2020", instrument="notACam")
    module.addDataIdValue(butler, "visit", 101)
    module.addDataIdValue(butler, "detector", 5)
    module.addDataIdValue(butler, "visit", 102, physical_filter="k2020")
    module.addDataIdValue(butler, "skymap", "map")
    module.addDataIdValue(butler, "tract", 3)
    return butler


def test_add_data_id_value_adds_the_same_records(tmp_path: pathlib.Path) -> None:
    (expected, expected_state), (ours, state) = _both(tmp_path, 11, _data_id_calls)
    assert _records(ours) == _records(expected)
    assert state == expected_state


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (("no_such_dimension", 1), ValueError),
        (("detector", 1), None),
        (("detector", 2), {"no_such": 1}),
        (("visit", 7), {"detector": 1}),
    ],
)
def test_add_data_id_value_refuses_what_daf_butler_refuses(
    tmp_path: pathlib.Path, arguments: tuple[str, Any], error: Any
) -> None:
    outcomes = []
    for name, module in (("u", upstream), ("o", compat)):
        butler = module.makeTestRepo(str(tmp_path / name), {"instrument": ["notACam"]})
        related = error if isinstance(error, dict) else {}
        try:
            module.addDataIdValue(butler, *arguments, **related)
        except Exception as err:
            outcomes.append(type(err))
        else:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]
    if error is ValueError:
        assert outcomes[0] is ValueError


@pytest.mark.parametrize(
    ("dimensions", "storage_class"),
    [
        ({"instrument", "visit"}, "StructuredDataDict"),
        (set(), "StructuredDataDict"),
        ({"no_such_dimension"}, "StructuredDataDict"),
    ],
)
def test_add_dataset_type_registers_the_same(
    tmp_path: pathlib.Path, dimensions: set[str], storage_class: str
) -> None:
    outcomes = []
    for name, module in (("u", upstream), ("o", compat)):
        butler = module.makeTestRepo(str(tmp_path / name))
        try:
            dataset_type = module.addDatasetType(butler, "metric", dimensions, storage_class)
        except Exception as err:
            outcomes.append(type(err))
        else:
            outcomes.append((dataset_type, butler.get_dataset_type("metric")))
    assert outcomes[0] == outcomes[1]

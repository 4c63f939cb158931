"""Registry-only Butlers copied in memory hold what daf_butler's own hold, independently."""

from __future__ import annotations

import pathlib

from lsst.daf.butler import Butler, DatasetType
from lsst.daf.butler.tests import utils as butler_test_utils

from butler_testkit.butler import fast_repos, reset_setup_stats, setup_stats
from butler_testkit.butler._fast_repo_engine import engine

DATA = "resource://lsst.daf.butler/tests/registry_data"
FILES = (f"{DATA}/base.yaml", f"{DATA}/spatial.yaml", f"{DATA}/datasets.yaml")


def _contents(butler: Butler) -> dict[str, object]:
    registry = butler.registry
    records = {}
    for element in butler.dimensions.elements:
        if element.has_own_table:
            records[element.name] = sorted(
                (record.toDict() for record in registry.queryDimensionRecords(element.name)), key=repr
            )
    return {
        "records": records,
        "collections": sorted(butler.collections.query("*")),
        "dataset_types": sorted(repr(dataset_type) for dataset_type in registry.queryDatasetTypes()),
        "datasets": sorted((str(ref.id), ref.run) for ref in registry.queryDatasets(..., collections=...)),
        "config": butler._config.toDict(),
        "datastore": type(butler._datastore).__name__,
    }


def test_copies_hold_what_daf_butler_imports() -> None:
    expected = _contents(engine().originals.create_populated_sqlite_registry(*FILES))
    reset_setup_stats()
    with fast_repos():
        for _ in range(3):
            assert _contents(butler_test_utils.create_populated_sqlite_registry(*FILES)) == expected
    stats = setup_stats()
    assert stats.routed.get("create_populated_sqlite_registry", 0) >= 2


def test_copies_are_independent() -> None:
    with fast_repos():
        first = butler_test_utils.create_populated_sqlite_registry(FILES[0])
        second = butler_test_utils.create_populated_sqlite_registry(FILES[0])
    first.registry.insertDimensionData("instrument", {"name": "OnlyInFirst"})
    first.registry.registerDatasetType(
        DatasetType("only_first", first.dimensions.conform(["instrument"]), "int")
    )
    names = {record.name for record in second.registry.queryDimensionRecords("instrument")}
    assert "OnlyInFirst" not in names
    assert "only_first" not in {dataset_type.name for dataset_type in second.registry.queryDatasetTypes()}
    with fast_repos():
        third = butler_test_utils.create_populated_sqlite_registry(FILES[0])
    assert "OnlyInFirst" not in {record.name for record in third.registry.queryDimensionRecords("instrument")}
    third.registry.registerDatasetType(
        DatasetType("only_first", third.dimensions.conform(["instrument"]), "int")
    )


def test_an_edited_export_file_is_imported_again(tmp_path: pathlib.Path) -> None:
    base = pathlib.Path(butler_test_utils.__file__).parent / "registry_data" / "base.yaml"
    copy = tmp_path / "base.yaml"
    copy.write_text(base.read_text())
    with fast_repos():
        butler_test_utils.create_populated_sqlite_registry(str(copy))
        copy.write_text(base.read_text().replace("Cam1", "EditedCam"))
        butler = butler_test_utils.create_populated_sqlite_registry(str(copy))
    assert [record.name for record in butler.registry.queryDimensionRecords("instrument")] == ["EditedCam"]


def test_an_unreadable_export_file_goes_to_daf_butler(tmp_path: pathlib.Path) -> None:
    reset_setup_stats()
    with fast_repos():
        try:
            butler_test_utils.create_populated_sqlite_registry(str(tmp_path / "missing.yaml"))
        except Exception as err:
            error = err
    assert isinstance(error, FileNotFoundError | OSError | RuntimeError | ValueError)
    assert setup_stats().fallbacks == {"create_populated_sqlite_registry: an export file cannot be read": 1}

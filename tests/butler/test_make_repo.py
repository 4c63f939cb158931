"""``Butler.makeRepo`` from a template: the same files and result as daf_butler's, or a fallback."""

from __future__ import annotations

import os
import pathlib
import sqlite3

import pytest
from lsst.daf.butler import Butler, ButlerConfig, Config
from lsst.daf.butler.dimensions import DimensionConfig

from butler_testkit.butler import fast_repos, reset_setup_stats, setup_stats
from butler_testkit.butler._fast_repo_engine import engine

SEARCH_PATH_FILE = "storageClasses:\n  BtkSearchPathDict:\n    pytype: dict\n"


def _upstream(root: pathlib.Path, **kwargs: object) -> Config:
    return engine().originals.make_repo(str(root), **kwargs)


def _fast(root: pathlib.Path, **kwargs: object) -> Config:
    with fast_repos():
        return Butler.makeRepo(str(root), **kwargs)


def _database_dump(path: pathlib.Path) -> list[str]:
    # Sorted: daf_butler itself creates indexes in an order that varies between processes.
    with sqlite3.connect(path) as connection:
        return sorted(connection.iterdump())


def _portable(value: object, root: pathlib.Path) -> object:
    """Replace the root by a marker, to compare two repositories' contents."""
    if isinstance(value, str):
        return value.replace(str(root), "<ROOT>")
    if isinstance(value, dict):
        return {key: _portable(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [_portable(item, root) for item in value]
    return value


def _describe(result: Config, root: pathlib.Path) -> dict[str, object]:
    files = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    databases = [path for path in root.rglob("*.sqlite*") if path.is_file()]
    return {
        "config": _portable(result.toDict(), root),
        "config_file": _portable(str(result.configFile), root),
        "files": files,
        "butler.yaml": _portable((root / "butler.yaml").read_text(), root),
        "databases": {str(path.relative_to(root)): _database_dump(path) for path in databases},
    }


def _search_path(tmp_path: pathlib.Path) -> str:
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "storageClasses.yaml").write_text(SEARCH_PATH_FILE)
    return str(directory)


CASES = {
    "defaults": lambda tmp: {},
    "file datastore named": lambda tmp: {
        "config": Config({"datastore": {"cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore"}})
    },
    "standalone with search paths": lambda tmp: {"standalone": True, "searchPaths": [_search_path(tmp)]},
    "dimension configuration": lambda tmp: {"dimensionConfig": DimensionConfig()},
    "in-memory registry": lambda tmp: {"config": Config({"registry": {"db": "sqlite://"}})},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_copies_are_what_daf_butler_makes(tmp_path: pathlib.Path, case: str) -> None:
    arguments = CASES[case](tmp_path)
    expected = _describe(_upstream(tmp_path / "upstream", **arguments), tmp_path / "upstream")
    for name in ("first", "copy", "another_copy"):
        root = tmp_path / name
        assert _describe(_fast(root, **arguments), root) == expected, name


def test_a_configuration_naming_its_own_root_is_one_template(tmp_path: pathlib.Path) -> None:
    def arguments(root: pathlib.Path) -> dict[str, object]:
        config = Config({"registry": {"db": f"sqlite:///{root}/gen3.sqlite"}})
        return {"config": config, "forceConfigRoot": False}

    expected = _describe(
        _upstream(tmp_path / "upstream", **arguments(tmp_path / "upstream")), tmp_path / "upstream"
    )
    reset_setup_stats()
    for name in ("first", "second", "third"):
        root = tmp_path / name
        assert _describe(_fast(root, **arguments(root)), root) == expected
    assert setup_stats().routed.get("Butler.makeRepo", 0) >= 2


def test_a_copied_repository_works(tmp_path: pathlib.Path) -> None:
    _fast(tmp_path / "first")
    config = _fast(tmp_path / "second")
    with Butler.from_config(config, writeable=True, run="run") as butler:
        assert butler.collections.query("*") == ["run"]


def test_an_edited_search_path_is_another_template(tmp_path: pathlib.Path) -> None:
    search_path = _search_path(tmp_path)
    _fast(tmp_path / "first", standalone=True, searchPaths=[search_path])
    pathlib.Path(search_path, "storageClasses.yaml").write_text(SEARCH_PATH_FILE.replace("Btk", "Edited"))
    config = _fast(tmp_path / "second", standalone=True, searchPaths=[search_path])
    assert "EditedSearchPathDict" in config["storageClasses"]
    assert "BtkSearchPathDict" not in config["storageClasses"]


def test_the_returned_configuration_is_the_callers_own(tmp_path: pathlib.Path) -> None:
    first = _fast(tmp_path / "first")
    first["registry", "managers", "attributes"] = "changed"
    second = _fast(tmp_path / "second")
    assert second["registry", "managers", "attributes"] != "changed"


def _reasons() -> dict[str, int]:
    return {key: count for key, count in setup_stats().fallbacks.items() if key.startswith("Butler.makeRepo")}


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (lambda tmp, name: {"outfile": str(tmp / f"{name}.yaml")}, "outfile given"),
        (lambda tmp, name: {"config": ButlerConfig()}, "config is a ButlerConfig or ConfigSubset"),
    ],
    ids=["outfile", "butler config"],
)
def test_what_the_fast_path_cannot_honour_goes_to_daf_butler(
    tmp_path: pathlib.Path, arguments: object, reason: str
) -> None:
    make = arguments  # type: Any
    reset_setup_stats()
    try:
        upstream = _upstream(tmp_path / "upstream", **make(tmp_path, "upstream"))
    except Exception as err:
        with pytest.raises(type(err)):
            _fast(tmp_path / "fast", **make(tmp_path, "fast"))
    else:
        fast = _fast(tmp_path / "fast", **make(tmp_path, "fast"))
        assert _portable(fast.toDict(), tmp_path / "fast") == _portable(
            upstream.toDict(), tmp_path / "upstream"
        )
    assert _reasons() == {f"Butler.makeRepo: {reason}": 1}


def test_a_root_that_needs_quoting_goes_to_daf_butler(tmp_path: pathlib.Path) -> None:
    reset_setup_stats()
    root = tmp_path / "with space"
    _fast(root)
    assert (root / "butler.yaml").exists()
    assert _reasons() == {"Butler.makeRepo: root path has characters a configuration file may quote": 1}


def test_a_registry_outside_the_root_goes_to_daf_butler(tmp_path: pathlib.Path) -> None:
    def arguments(name: str) -> dict[str, object]:
        database = tmp_path / "databases" / f"{name}.sqlite3"
        database.parent.mkdir(exist_ok=True)
        return {"config": Config({"registry": {"db": f"sqlite:///{database}"}}), "forceConfigRoot": False}

    reset_setup_stats()
    _fast(tmp_path / "first", **arguments("shared"))
    os.remove(tmp_path / "databases" / "shared.sqlite3")
    _fast(tmp_path / "second", **arguments("shared"))
    assert (tmp_path / "databases" / "shared.sqlite3").exists()
    assert _reasons() == {
        "Butler.makeRepo: first repository of its configuration (template built)": 1,
        "Butler.makeRepo: registry file outside the root": 1,
    }


def test_an_existing_repository_is_refused_as_daf_butler_refuses_it(tmp_path: pathlib.Path) -> None:
    _fast(tmp_path / "first")
    _fast(tmp_path / "second")
    with pytest.raises(FileExistsError):
        _upstream(tmp_path / "second")
    reset_setup_stats()
    with pytest.raises(FileExistsError):
        _fast(tmp_path / "second")
    assert _reasons() == {"Butler.makeRepo: a file makeRepo writes already exists at the root": 1}


def test_make_repo_for_test_is_served_too(tmp_path: pathlib.Path) -> None:
    from lsst.daf.butler.tests._repo_template_cache import make_repo_for_test

    reset_setup_stats()
    with fast_repos():
        from lsst.daf.butler.tests import _repo_template_cache

        _repo_template_cache.make_repo_for_test(str(tmp_path / "first"))
        _repo_template_cache.make_repo_for_test(str(tmp_path / "second"))
    assert make_repo_for_test is not None
    assert (
        setup_stats().routed.get("make_repo_for_test", 0)
        + setup_stats().fallbacks.get(
            "make_repo_for_test: first repository of its configuration (template built)", 0
        )
        == 2
    )

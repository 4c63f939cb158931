"""Cached configuration parses change no result."""

from __future__ import annotations

import pathlib

import pytest
from lsst.daf.butler import Butler, ButlerConfig, Config
from lsst.daf.butler.datastore import DatastoreConfig
from lsst.daf.butler.registry import RegistryConfig

from butler_testkit.butler import fast_repos, reset_setup_stats, setup_stats
from butler_testkit.butler._fast_repo_engine import engine
from butler_testkit.butler._structures import plain_copy


def _same(first: Config, second: Config) -> None:
    assert first.toDict() == second.toDict()
    assert first.configFile == second.configFile
    assert getattr(first, "configDir", None) == getattr(second, "configDir", None)
    assert type(first) is type(second)


def _daf_butler_config(other: object) -> ButlerConfig:
    """Parse as daf_butler does, even with the switch on."""
    config = ButlerConfig.__new__(ButlerConfig)
    engine().originals.butler_config_init(config, other)
    return config


@pytest.fixture
def repositories(tmp_path: pathlib.Path) -> list[pathlib.Path]:
    roots = [tmp_path / name for name in ("one", "two", "three")]
    for root in roots:
        engine().originals.make_repo(str(root))
    return roots


def _inputs(root: pathlib.Path) -> list[object]:
    return [str(root), root / "butler.yaml", Config(str(root / "butler.yaml")), None]


@pytest.mark.parametrize("form", ["directory", "file", "config", "defaults"])
def test_butler_configs_equal_daf_butlers(repositories: list[pathlib.Path], form: str) -> None:
    index = ["directory", "file", "config", "defaults"].index(form)
    for root in repositories:
        expected = ButlerConfig(_inputs(root)[index])
        with fast_repos():
            first = ButlerConfig(_inputs(root)[index])
            again = ButlerConfig(_inputs(root)[index])
        _same(first, expected)
        _same(again, expected)


def test_one_parse_serves_every_repository_of_a_template(repositories: list[pathlib.Path]) -> None:
    with fast_repos():
        ButlerConfig(str(repositories[0]))
        reset_setup_stats()
        for root in repositories[1:]:
            _same(ButlerConfig(str(root)), _daf_butler_config(str(root)))
    assert setup_stats().routed.get("ButlerConfig") == 2


def test_search_paths_and_without_datastore_are_honoured(
    tmp_path: pathlib.Path, repositories: list[pathlib.Path]
) -> None:
    search = tmp_path / "search"
    search.mkdir()
    (search / "datastore.yaml").write_text("datastore:\n  records:\n    table: my_records\n")
    root = repositories[0]
    for kwargs in ({"searchPaths": [str(search)]}, {"without_datastore": True}, {}):
        expected = ButlerConfig(str(root), **kwargs)
        with fast_repos():
            ButlerConfig(str(root), **kwargs)
            _same(ButlerConfig(str(root), **kwargs), expected)


def test_an_edited_file_is_parsed_again(repositories: list[pathlib.Path]) -> None:
    root = repositories[0]
    with fast_repos():
        ButlerConfig(str(root))
        text = (root / "butler.yaml").read_text()
        (root / "butler.yaml").write_text(text + "extra_key: 42\n")
        assert ButlerConfig(str(root))["extra_key"] == 42


def test_changing_a_result_changes_no_later_one(repositories: list[pathlib.Path]) -> None:
    root = repositories[0]
    with fast_repos():
        first = ButlerConfig(str(root))
        first["registry", "managers", "attributes"] = "changed"
        first["datastore", "records", "table"] = "changed"
        second = ButlerConfig(str(root))
    assert second["registry", "managers", "attributes"] != "changed"
    assert second["datastore", "records", "table"] == "file_datastore_records"


def test_an_edited_included_file_is_parsed_again(tmp_path: pathlib.Path) -> None:
    (tmp_path / "other.yaml").write_text("table: included\n")
    (tmp_path / "butler.yaml").write_text("datastore:\n  records: !include other.yaml\n")
    expected = ButlerConfig(str(tmp_path))
    with fast_repos():
        _same(ButlerConfig(str(tmp_path)), expected)
        _same(ButlerConfig(str(tmp_path)), expected)
        (tmp_path / "other.yaml").write_text("table: edited\n")
        assert ButlerConfig(str(tmp_path))["datastore", "records", "table"] == "edited"
        assert Config(str(tmp_path / "butler.yaml"))["datastore", "records", "table"] == "edited"


def test_a_file_with_explicit_includes_is_not_cached(tmp_path: pathlib.Path) -> None:
    (tmp_path / "other.yaml").write_text("datastore:\n  records:\n    table: included\n")
    (tmp_path / "butler.yaml").write_text(f"includeConfigs: {tmp_path / 'other.yaml'}\n")
    expected = ButlerConfig(str(tmp_path))
    reset_setup_stats()
    with fast_repos():
        _same(ButlerConfig(str(tmp_path)), expected)
    assert setup_stats().fallbacks.get("ButlerConfig: configuration file includes other files") == 1


@pytest.mark.parametrize("config_class", [RegistryConfig, DatastoreConfig])
def test_default_configuration_files_parse_the_same(config_class: type[Config]) -> None:
    expected = config_class()
    with fast_repos():
        config_class()
        _same(config_class(), expected)


def test_an_edited_configuration_file_is_read_again(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("a: 1\n")
    with fast_repos():
        assert Config(str(path))["a"] == 1
        path.write_text("a: 2\n")
        assert Config(str(path))["a"] == 2
        copy = Config(str(path))
        copy["a"] = 3
        assert Config(str(path))["a"] == 2


def test_plain_copy_shares_no_container_but_keeps_the_shape() -> None:
    shared = ["NO_DATA", "INTRP"]
    data = {
        "a": [1, {"b": [2]}],
        "c": {"d": "e"},
        "f": (1, 2),
        "x": {"planes": shared},
        "y": {"planes": shared},
    }
    copy = plain_copy(data)
    assert copy == data
    assert copy["a"] is not data["a"]
    assert copy["a"][1] is not data["a"][1]
    assert copy["c"] is not data["c"]
    assert copy["x"]["planes"] is not shared
    assert copy["x"]["planes"] is copy["y"]["planes"]  # dumps with the same YAML alias


def test_butler_from_a_cached_configuration_is_the_same(repositories: list[pathlib.Path]) -> None:
    root = repositories[0]
    with Butler.from_config(str(root)) as expected:
        config = expected._config.toDict()
    with fast_repos():
        Butler.from_config(str(root)).close()
        with Butler.from_config(str(root)) as butler:
            assert butler._config.toDict() == config

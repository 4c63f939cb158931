"""Every call the fast path cannot honour goes to daf_butler, unchanged, and is counted with its reason."""

from __future__ import annotations

import os
import pathlib
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from lsst.daf.butler import Butler, ButlerConfig, Config
from lsst.daf.butler.registry import RegistryConfig
from lsst.daf.butler.tests import utils as butler_test_utils

from butler_testkit.butler import fast_repos, reset_setup_stats, setup_stats
from butler_testkit.butler._fallback import Fallback
from butler_testkit.butler._fast_repo_engine import engine
from butler_testkit.butler._make_repo import MakeRepoTemplates


def _outcome(call: Callable[[], Any]) -> Any:
    """The result of a call, or the type of what it raised."""
    try:
        return call()
    except Exception as err:  # compared between daf_butler and the fast path
        return type(err)


def _fallbacks(prefix: str) -> dict[str, int]:
    return {key: count for key, count in setup_stats().fallbacks.items() if key.startswith(prefix)}


def _make_repo_both(tmp_path: pathlib.Path, root: Callable[[str], Any], **kwargs: Any) -> tuple[Any, Any]:
    plain = _outcome(lambda: engine().originals.make_repo(root("upstream"), **kwargs))
    reset_setup_stats()
    with fast_repos():
        fast = _outcome(lambda: Butler.makeRepo(root("fast"), **kwargs))
    return plain, fast


def test_a_root_that_is_a_file(tmp_path: pathlib.Path) -> None:
    for name in ("upstream", "fast"):
        (tmp_path / name).write_text("not a directory")
    plain, fast = _make_repo_both(tmp_path, lambda name: str(tmp_path / name))
    assert isinstance(plain, type) and fast is plain
    assert _fallbacks("Butler.makeRepo") == {"Butler.makeRepo: root exists and is not a directory": 1}


def test_a_root_that_is_not_local(tmp_path: pathlib.Path) -> None:
    plain, fast = _make_repo_both(tmp_path, lambda name: f"mem://btk-fallback-{name}/")
    assert type(plain) is type(fast)
    assert _fallbacks("Butler.makeRepo") == {"Butler.makeRepo: root is not a local directory": 1}


def test_a_search_path_with_too_many_files(tmp_path: pathlib.Path) -> None:
    search = tmp_path / "search"
    search.mkdir()
    for index in range(501):
        (search / f"unused{index}.yaml").write_text("{}\n")
    plain, fast = _make_repo_both(
        tmp_path, lambda name: str(tmp_path / name), standalone=True, searchPaths=[str(search)]
    )
    assert plain.toDict() == fast.toDict()
    assert _fallbacks("Butler.makeRepo") == {
        "Butler.makeRepo: search path holds too many files to compare": 1
    }


def test_a_configuration_that_cannot_be_compared(tmp_path: pathlib.Path) -> None:
    config = Config({"datastore": {"unusual": b"bytes cannot be compared"}})
    plain, fast = _make_repo_both(tmp_path, lambda name: str(tmp_path / name), config=config)
    assert type(plain) is type(fast)
    assert _fallbacks("Butler.makeRepo") == {"Butler.makeRepo: configuration cannot be compared": 1}


class _FakeMakeRepo:
    """Stands for daf_butler's makeRepo, writing what it is told to."""

    def __init__(self, files: dict[str, str], config: dict[str, Any], config_file: str | None) -> None:
        self.files, self.config, self.config_file = files, config, config_file

    def __call__(self, root: str, **kwargs: Any) -> Config:
        os.makedirs(root, exist_ok=True)
        for name, text in self.files.items():
            pathlib.Path(root, name).write_text(text)
        result = Config(self.config)
        if self.config_file is not None:
            from lsst.resources import ResourcePath

            result.configFile = ResourcePath(os.path.join(root, self.config_file))
        return result


@pytest.mark.parametrize(
    ("files", "config", "config_file", "reason"),
    [
        (
            {"butler.yaml": "{}"},
            {"registry": {"db": "sqlite:///<butlerRoot>/gen3.sqlite3"}},
            None,
            "makeRepo wrote no configuration file",
        ),
        (
            {},
            {"registry": {"db": "sqlite:////elsewhere/x.sqlite3"}},
            "../butler.yaml",
            "configuration written outside the root",
        ),
        ({"butler.yaml": "{}"}, {}, "butler.yaml", "registry location unknown"),
        (
            {"butler.yaml": "{}"},
            {"registry": {"db": "postgresql://host/db"}},
            "butler.yaml",
            "registry is not SQLite",
        ),
        (
            {"butler.yaml": "{}", "extra.txt": "x"},
            {"registry": {"db": "sqlite://"}},
            "butler.yaml",
            "makeRepo created files other than its configuration and registry",
        ),
    ],
    ids=["no config file", "config outside", "no registry", "not sqlite", "extra files"],
)
def test_what_a_first_call_made_that_cannot_be_kept(
    tmp_path: pathlib.Path,
    files: dict[str, str],
    config: dict[str, Any],
    config_file: str | None,
    reason: str,
) -> None:
    fake = _FakeMakeRepo(files, config, config_file)
    templates = MakeRepoTemplates(fake, lambda path: None)
    first, copied = templates.make_repo(str(tmp_path / "first"))
    assert not copied
    assert first.toDict() == config
    with pytest.raises(Fallback) as caught:
        templates.make_repo(str(tmp_path / "second"))
    assert caught.value.reason == reason
    assert not (tmp_path / "second").exists()  # nothing done before falling back
    templates.discard()


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        (lambda tmp: str(tmp / "missing"), "configuration file cannot be read"),
        (lambda tmp: 42, "configuration given as int"),
        (
            lambda tmp: Config({"datastore": {"unusual": b"bytes are not plain data"}}),
            "configuration is not plain data",
        ),
    ],
    ids=["missing file", "int", "not plain data"],
)
def test_butler_configs_that_are_not_cached(tmp_path: pathlib.Path, other: Any, reason: str) -> None:
    value = other(tmp_path)
    plain = _outcome(lambda: ButlerConfig(value).toDict())
    reset_setup_stats()
    with fast_repos():
        fast = _outcome(lambda: ButlerConfig(value).toDict())
    assert fast == plain
    assert _fallbacks("ButlerConfig") == {f"ButlerConfig: {reason}": 1}


def test_a_repository_index_may_make_a_name_an_alias(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine().originals.make_repo(str(tmp_path / "repo"))
    index = tmp_path / "index.yaml"
    index.write_text(f"alias: {tmp_path / 'repo'}\n")
    monkeypatch.setenv("DAF_BUTLER_REPOSITORY_INDEX", str(index))
    plain = ButlerConfig("alias")
    reset_setup_stats()
    with fast_repos():
        assert ButlerConfig("alias").toDict() == plain.toDict()
    assert _fallbacks("ButlerConfig") == {
        "ButlerConfig: a repository index may turn the name into an alias": 1
    }


def test_an_in_memory_registry(tmp_path: pathlib.Path) -> None:
    config = engine().originals.make_repo(
        str(tmp_path / "repo"), config=Config({"registry": {"db": "sqlite://"}}), forceConfigRoot=False
    )
    plain = _outcome(lambda: Butler.from_config(config).close())
    reset_setup_stats()
    with fast_repos():
        fast = _outcome(lambda: Butler.from_config(config).close())
    assert fast == plain
    assert _fallbacks("SqlRegistry") == {"SqlRegistry.fromConfig: registry is in memory": 1}


def test_a_registry_file_without_attributes(tmp_path: pathlib.Path) -> None:
    database = tmp_path / "empty.sqlite3"
    sqlite3.connect(database).close()
    config = RegistryConfig({"db": f"sqlite:///{database}"})
    from lsst.daf.butler.registry.sql_registry import SqlRegistry

    plain = _outcome(lambda: SqlRegistry.fromConfig(config))
    reset_setup_stats()
    with fast_repos():
        fast = _outcome(lambda: SqlRegistry.fromConfig(RegistryConfig({"db": f"sqlite:///{database}"})))
    assert fast == plain
    assert _fallbacks("SqlRegistry") == {
        "SqlRegistry.fromConfig: registry file has no readable attributes table": 1
    }


def test_a_populated_registry_with_a_configuration_of_another_kind() -> None:
    plain = _outcome(lambda: butler_test_utils.create_populated_sqlite_registry(registry_config=42))
    reset_setup_stats()
    with fast_repos():
        fast = _outcome(lambda: butler_test_utils.create_populated_sqlite_registry(registry_config=42))
    assert fast == plain
    assert _fallbacks("create_populated") == {
        "create_populated_sqlite_registry: configuration given as int": 1
    }

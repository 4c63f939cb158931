"""The fast-repository switch: what it replaces, with what, and how it puts it back."""

from __future__ import annotations

import importlib
import inspect
import sys
import types

import lsst.daf.butler.tests as butler_tests
import pytest
from lsst.daf.butler import Butler, ButlerConfig, Config
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.daf.butler.tests import _repo_template_cache, _testRepo
from lsst.daf.butler.tests import utils as butler_test_utils

from butler_testkit import butler as fast
from butler_testkit.butler import _compat, _switch


def _bindings() -> dict[tuple[str, str], object]:
    """Every module-level name in the process, and the class attributes the switch replaces."""
    bindings: dict[tuple[str, str], object] = {}
    for module_name, module in list(sys.modules.items()):
        # Our own modules keep state (the engine is made on first use).
        if isinstance(module, types.ModuleType) and not module_name.startswith("butler_testkit"):
            for name, value in list(vars(module).items()):
                bindings[(module_name, name)] = value
    for owner, name in [
        (Butler, "makeRepo"),
        (ButlerConfig, "__init__"),
        (Config, "_Config__initFromUri"),
        (SqlRegistry, "fromConfig"),
    ]:
        bindings[(owner.__qualname__, name)] = vars(owner)[name]
    return bindings


def test_turning_it_off_restores_every_binding_exactly() -> None:
    before = _bindings()
    with fast.fast_repos():
        assert fast.fast_repos_active()
        during = _bindings()
    after = _bindings()
    assert not fast.fast_repos_active()
    changed = {key for key, value in during.items() if key in before and before[key] is not value}
    assert {key[1] for key in changed} >= {
        "makeTestRepo",
        "makeTestCollection",
        "make_repo_for_test",
        "create_populated_sqlite_registry",
        "makeRepo",
        "__init__",
        "_Config__initFromUri",
        "fromConfig",
    }
    for key, value in before.items():
        if key in after:
            assert after[key] is value, key


def _is(bound: object, replacement: object) -> bool:
    """Whether ``bound`` is the switch's copy of ``replacement``."""
    return getattr(bound, "__code__", None) is getattr(replacement, "__code__", ())


def test_every_name_callers_use_is_routed() -> None:
    with fast.fast_repos():
        assert _is(butler_tests.makeTestRepo, _compat.makeTestRepo)
        assert _is(_testRepo.makeTestRepo, _compat.makeTestRepo)
        assert _is(butler_tests.makeTestCollection, _compat.makeTestCollection)
        assert _is(_testRepo.make_repo_for_test, _switch.make_repo_for_test)
        assert _is(_repo_template_cache.make_repo_for_test, _switch.make_repo_for_test)
        assert _is(
            butler_test_utils.create_populated_sqlite_registry, _switch.create_populated_sqlite_registry
        )
        assert _is(Butler.makeRepo, _switch.makeRepo)
        assert _is(ButlerConfig.__init__, _switch.butler_config_init)


def test_our_own_functions_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = {name: getattr(_switch, name) for name in ("makeRepo", "butler_config_init")}
    compat = fast.makeTestRepo
    user = types.ModuleType("btk_compat_user")
    monkeypatch.setitem(sys.modules, user.__name__, user)
    for _ in range(2):
        with fast.fast_repos():
            exec("from butler_testkit.butler import makeTestRepo\n", vars(user))
        assert user.makeTestRepo is compat
        assert fast.makeTestRepo is _compat.makeTestRepo is compat
        for name, function in ours.items():
            assert getattr(_switch, name) is function


def test_a_module_that_imported_the_names_before_is_routed(monkeypatch: pytest.MonkeyPatch) -> None:
    early = types.ModuleType("btk_early_importer")
    exec(
        "from lsst.daf.butler.tests import makeTestRepo, makeTestCollection\n"
        "from lsst.daf.butler.tests.utils import create_populated_sqlite_registry\n"
        "from lsst.daf.butler import Butler\n"
        "make_repo = Butler.makeRepo\n",
        vars(early),
    )
    monkeypatch.setitem(sys.modules, early.__name__, early)
    originals = dict(vars(early))
    with fast.fast_repos():
        assert _is(early.makeTestRepo, _compat.makeTestRepo)
        assert _is(early.create_populated_sqlite_registry, _switch.create_populated_sqlite_registry)
        assert _is(early.make_repo, _switch.makeRepo)
    for name, value in originals.items():
        assert vars(early)[name] is value


def test_a_module_imported_while_on_is_restored_when_off(monkeypatch: pytest.MonkeyPatch) -> None:
    original = butler_tests.makeTestRepo
    with fast.fast_repos():
        late = types.ModuleType("btk_late_importer")
        exec("from lsst.daf.butler.tests import makeTestRepo\n", vars(late))
        monkeypatch.setitem(sys.modules, late.__name__, late)
        assert _is(late.makeTestRepo, _compat.makeTestRepo)
    assert late.makeTestRepo is original


@pytest.mark.parametrize(
    ("replacement", "original"),
    [
        (_compat.makeTestRepo, _testRepo.makeTestRepo),
        (_compat.makeTestCollection, _testRepo.makeTestCollection),
        (_compat.addDataIdValue, _testRepo.addDataIdValue),
        (_compat.addDatasetType, _testRepo.addDatasetType),
        (_switch.makeRepo, Butler.makeRepo),
        (_switch.make_repo_for_test, _repo_template_cache.make_repo_for_test),
        (_switch.create_populated_sqlite_registry, butler_test_utils.create_populated_sqlite_registry),
        (_switch.butler_config_init, ButlerConfig.__init__),
        (_switch.config_read_file, vars(Config)["_Config__initFromUri"]),
    ],
    ids=lambda function: getattr(function, "__qualname__", str(function)),
)
def test_replacements_have_daf_butlers_signatures(replacement: object, original: object) -> None:
    assert not fast.fast_repos_active()
    assert inspect.signature(replacement) == inspect.signature(original)  # type: ignore[arg-type]


def test_the_registry_replacement_takes_the_class_method_arguments() -> None:
    replacement = inspect.signature(_switch.registry_from_config)
    original = inspect.signature(vars(SqlRegistry)["fromConfig"].__func__)
    assert list(replacement.parameters)[1:] == list(original.parameters)[1:]
    assert [p.default for p in replacement.parameters.values()] == [
        p.default for p in original.parameters.values()
    ]


def test_calls_nest() -> None:
    original = Butler.makeRepo
    fast.turn_on_fast_repos()
    fast.turn_on_fast_repos()
    fast.turn_off_fast_repos()
    assert _is(Butler.makeRepo, _switch.makeRepo)
    fast.turn_off_fast_repos()
    assert Butler.makeRepo is original
    with pytest.raises(RuntimeError, match="not on"):
        fast.turn_off_fast_repos()


def test_the_patched_names_are_listed() -> None:
    assert "lsst.daf.butler._butler.Butler.makeRepo" in fast.PATCHED_NAMES
    for name in fast.PATCHED_NAMES:
        module, _, attribute = name.rpartition(".")
        while module not in sys.modules:
            module, _, owner = module.rpartition(".")
            attribute = f"{owner}.{attribute}"
        target: object = importlib.import_module(module)
        for part in attribute.split("."):
            target = getattr(target, part)
        assert callable(target)

"""Replacing a function under every name that refers to it, and putting every name back."""

from __future__ import annotations

import sys
import types

import pytest

from butler_testkit.butler._patching import FunctionPatch, NamePatcher


def _module(name: str, **attributes: object) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(attributes)
    return module


@pytest.fixture
def modules(monkeypatch: pytest.MonkeyPatch) -> dict[str, types.ModuleType]:
    """A home module with a function and a class, and a module that imported both names."""

    def make(root: str) -> str:
        return f"made {root}"

    class Maker:
        @staticmethod
        def build(root: str) -> str:
            return f"built {root}"

        @classmethod
        def create(cls, root: str) -> str:
            return f"{cls.__name__} created {root}"

    home = _module("btk_fake_home", make=make, Maker=Maker)
    make.__module__ = Maker.__module__ = "btk_fake_home"
    Maker.__qualname__ = "Maker"
    user = _module("btk_fake_user", make=make, alias=make, build=Maker.build, other=len)
    for module in (home, user):
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return {"home": home, "user": user}


def _patches() -> list[FunctionPatch]:
    return [
        FunctionPatch("btk_fake_home", "make", lambda root: f"fast {root}"),
        FunctionPatch("btk_fake_home", "Maker.build", lambda root: f"fast built {root}"),
        FunctionPatch("btk_fake_home", "Maker.create", lambda cls, root: f"fast {cls.__name__} {root}"),
    ]


def test_every_name_is_replaced_and_put_back_exactly(modules: dict[str, types.ModuleType]) -> None:
    home, user = modules["home"], modules["user"]
    before = {module: dict(vars(module)) for module in (home, user)}
    maker_before = dict(vars(home.Maker))
    patcher = NamePatcher(_patches())
    patcher.install()
    assert home.make("r") == user.make("r") == user.alias("r") == "fast r"
    assert home.Maker.build("r") == user.build("r") == "fast built r"
    assert home.Maker.create("r") == "fast Maker r"
    assert isinstance(vars(home.Maker)["build"], staticmethod)
    assert isinstance(vars(home.Maker)["create"], classmethod)
    assert user.other is len
    assert sorted(patcher.bound_names()) == sorted(
        [
            "btk_fake_home.make",
            "btk_fake_home.Maker.build",
            "btk_fake_home.Maker.create",
            "btk_fake_user.make",
            "btk_fake_user.alias",
            "btk_fake_user.build",
        ]
    )
    patcher.uninstall()
    for module, namespace in before.items():
        assert dict(vars(module)) == namespace
        for name, value in namespace.items():
            assert vars(module)[name] is value
    assert all(vars(home.Maker)[name] is value for name, value in maker_before.items())
    assert not patcher.installed


def test_modules_imported_while_patched_are_put_back_too(
    modules: dict[str, types.ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = modules["home"].make
    patcher = NamePatcher(_patches())
    patcher.install()
    late = _module("btk_fake_late", make=modules["home"].make)  # "from btk_fake_home import make"
    monkeypatch.setitem(sys.modules, "btk_fake_late", late)
    assert late.make("r") == "fast r"
    patcher.uninstall()
    assert late.make is original


def test_the_original_stays_callable(modules: dict[str, types.ModuleType]) -> None:
    patcher = NamePatcher(_patches())
    patcher.install()
    try:
        assert patcher.original("btk_fake_home", "make")("r") == "made r"
        assert patcher.original("btk_fake_home", "Maker.build")("r") == "built r"
        assert patcher.original("btk_fake_home", "Maker.create")("r") == "Maker created r"
    finally:
        patcher.uninstall()


def test_a_missing_name_changes_nothing(modules: dict[str, types.ModuleType]) -> None:
    before = dict(vars(modules["home"]))
    patcher = NamePatcher([*_patches(), FunctionPatch("btk_fake_home", "missing", lambda: None)])
    with pytest.raises(AttributeError, match=r"btk_fake_home\.missing does not exist"):
        patcher.install()
    assert dict(vars(modules["home"])) == before
    assert not patcher.installed


def test_installing_twice_is_refused(modules: dict[str, types.ModuleType]) -> None:
    patcher = NamePatcher(_patches())
    patcher.install()
    try:
        with pytest.raises(RuntimeError, match="already installed"):
            patcher.install()
    finally:
        patcher.uninstall()
    patcher.uninstall()  # a no-op once off

"""Attributes of a package imported on first use, so that importing it stays cheap."""

from __future__ import annotations

__all__ = ("lazy_attributes",)

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_attributes(
    package: str, modules: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Make a package's ``__getattr__`` and ``__dir__`` for attributes imported on first use.

    daf_butler takes seconds to import; a package that re-exports names from
    modules that import it would make ``import butler_testkit`` (and so the
    pytest plugin's start-up) pay for it.

    Parameters
    ----------
    package : `str`
        The package's ``__name__``.
    modules : `~collections.abc.Mapping` [`str`, `str`]
        Each lazy attribute and the module it comes from, relative to
        ``package`` (e.g. ``".datastore"``).
    public : `~collections.abc.Iterable` [`str`]
        The package's ``__all__``, listed by ``dir()`` before they are
        imported.

    Returns
    -------
    getattr : `~collections.abc.Callable` [[`str`], `object`]
        The module-level ``__getattr__``: imports the attribute's module,
        caches the attribute in the package, and raises `AttributeError` for
        any other name.
    dir : `~collections.abc.Callable` [[], `list` [`str`]]
        The module-level ``__dir__``.
    """
    listed = set(public)

    def get_attribute(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        vars(sys.modules[package])[name] = value
        return value

    def list_attributes() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed)

    return get_attribute, list_attributes

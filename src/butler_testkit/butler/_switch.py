"""The fast-repository switch: route daf_butler's repository functions to the fast path."""

from __future__ import annotations

__all__ = ("PATCHED_NAMES", "fast_repos", "fast_repos_active", "turn_off_fast_repos", "turn_on_fast_repos")

import contextlib
import threading
from collections.abc import Iterator, Sequence

from lsst.daf.butler import Butler, ButlerConfig, Config
from lsst.daf.butler.dimensions import DimensionConfig
from lsst.daf.butler.registry import RegistryConfig, RegistryDefaults
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.resources import ResourcePathExpression

from . import _compat
from ._fast_repo_engine import engine
from ._patching import FunctionPatch, NamePatcher


def makeRepo(
    root: ResourcePathExpression,
    config: Config | str | None = None,
    dimensionConfig: Config | str | None = None,
    standalone: bool = False,
    searchPaths: list[str] | None = None,
    forceConfigRoot: bool = True,
    outfile: ResourcePathExpression | None = None,
    overwrite: bool = False,
) -> Config:
    """Stand in for ``Butler.makeRepo`` while the switch is on.

    Parameters
    ----------
    root, config, dimensionConfig, standalone, searchPaths, forceConfigRoot, outfile, overwrite
        As for ``Butler.makeRepo``.

    Returns
    -------
    config : `~lsst.daf.butler.Config`
        What ``Butler.makeRepo`` returns.
    """
    return engine().make_repo_as(
        "Butler.makeRepo",
        root,
        config=config,
        dimensionConfig=dimensionConfig,
        standalone=standalone,
        searchPaths=searchPaths,
        forceConfigRoot=forceConfigRoot,
        outfile=outfile,
        overwrite=overwrite,
    )


def make_repo_for_test(
    root: ResourcePathExpression,
    config: Config | str | None = None,
    dimensionConfig: Config | str | None = None,
    standalone: bool = False,
    searchPaths: list[str] | None = None,
    forceConfigRoot: bool = True,
    outfile: ResourcePathExpression | None = None,
    overwrite: bool = False,
) -> Config:
    """Stand in for daf_butler's own template cache of ``makeRepo`` while the switch is on.

    Parameters
    ----------
    root, config, dimensionConfig, standalone, searchPaths, forceConfigRoot, outfile, overwrite
        As for ``Butler.makeRepo``.

    Returns
    -------
    config : `~lsst.daf.butler.Config`
        What ``Butler.makeRepo`` returns.
    """
    return engine().make_repo_as(
        "make_repo_for_test",
        root,
        config=config,
        dimensionConfig=dimensionConfig,
        standalone=standalone,
        searchPaths=searchPaths,
        forceConfigRoot=forceConfigRoot,
        outfile=outfile,
        overwrite=overwrite,
    )


def create_populated_sqlite_registry(
    *args: ResourcePathExpression,
    registry_config: RegistryConfig | None = None,
    dimension_config: DimensionConfig | None = None,
) -> Butler:
    """Stand in for ``lsst.daf.butler.tests.utils.create_populated_sqlite_registry`` while the switch is on.

    Parameters
    ----------
    *args, registry_config, dimension_config
        As for ``create_populated_sqlite_registry``.

    Returns
    -------
    butler : `~lsst.daf.butler.Butler`
        A registry-only Butler on a new in-memory database.
    """
    return engine().create_populated_sqlite_registry(args, registry_config, dimension_config)


def butler_config_init(  # type: ignore[no-untyped-def]  # exactly daf_butler's signature
    self,
    other: ResourcePathExpression | Config | None = None,
    searchPaths: Sequence[ResourcePathExpression] | None = None,
    without_datastore: bool = False,
):
    """Stand in for ``ButlerConfig.__init__`` while the switch is on: a cached parse, deep-copied.

    Parameters
    ----------
    self : `~lsst.daf.butler.ButlerConfig`
        The object under construction.
    other, searchPaths, without_datastore
        As for ``ButlerConfig``.
    """
    engine().butler_config(self, other, searchPaths, without_datastore)


def config_read_file(self, path: ResourcePathExpression) -> None:  # type: ignore[no-untyped-def]  # as daf_butler's
    """Stand in for the method by which a ``Config`` reads a file, while the switch is on.

    Parameters
    ----------
    self : `~lsst.daf.butler.Config`
        The configuration under construction.
    path : `lsst.resources.ResourcePathExpression`
        The file.
    """
    engine().read_config_file(self, path)


def registry_from_config(
    cls: type[SqlRegistry],
    config: ButlerConfig | RegistryConfig | Config | str,
    butlerRoot: ResourcePathExpression | None = None,
    writeable: bool = True,
    defaults: RegistryDefaults | None = None,
) -> SqlRegistry:
    """Stand in for ``SqlRegistry.fromConfig`` while the switch is on.

    Parameters
    ----------
    cls : `type`
        The class it is called on.
    config, butlerRoot, writeable, defaults
        As for ``SqlRegistry.fromConfig``.

    Returns
    -------
    registry : `~lsst.daf.butler.registry.sql_registry.SqlRegistry`
        The registry.
    """
    fast = engine()
    if cls is not SqlRegistry:
        return fast.originals.registry_from_config.__func__(cls, config, butlerRoot, writeable, defaults)  # type: ignore[attr-defined, no-any-return]
    return fast.registry_from_config(config, butlerRoot, writeable, defaults)


def _patches() -> list[FunctionPatch]:
    return [
        FunctionPatch("lsst.daf.butler.tests._testRepo", "makeTestRepo", _compat.makeTestRepo),
        FunctionPatch("lsst.daf.butler.tests._testRepo", "makeTestCollection", _compat.makeTestCollection),
        FunctionPatch("lsst.daf.butler.tests._repo_template_cache", "make_repo_for_test", make_repo_for_test),
        FunctionPatch(
            "lsst.daf.butler.tests.utils",
            "create_populated_sqlite_registry",
            create_populated_sqlite_registry,
        ),
        FunctionPatch("lsst.daf.butler._butler", "Butler.makeRepo", makeRepo),
        FunctionPatch("lsst.daf.butler._butler_config", "ButlerConfig.__init__", butler_config_init),
        FunctionPatch("lsst.daf.butler._config", "Config._Config__initFromUri", config_read_file),
        FunctionPatch(
            "lsst.daf.butler.registry.sql_registry", "SqlRegistry.fromConfig", registry_from_config
        ),
    ]


PATCHED_NAMES: tuple[str, ...] = tuple(f"{patch.module}.{patch.name}" for patch in _patches())
"""Where daf_butler's functions are replaced while the switch is on (and, in
addition, every other module's name for them)."""


class _Switch:
    """The process-wide switch; turned on as many times as off."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._patcher: NamePatcher | None = None

    @property
    def active(self) -> bool:
        return self._depth > 0

    def turn_on(self) -> None:
        with self._lock:
            if self._depth == 0:
                engine()  # captures daf_butler's own functions before they are replaced
                patcher = NamePatcher(_patches())
                patcher.install()
                self._patcher = patcher
            self._depth += 1

    def turn_off(self) -> None:
        with self._lock:
            if self._depth == 0:
                raise RuntimeError("The fast-repository switch is not on.")
            self._depth -= 1
            if self._depth == 0 and self._patcher is not None:
                self._patcher.uninstall()
                self._patcher = None

    def bound_names(self) -> list[str]:
        with self._lock:
            return [] if self._patcher is None else self._patcher.bound_names()


_SWITCH = _Switch()


def turn_on_fast_repos() -> None:
    """Turn the fast-repository switch on (for runners without a ``with`` block).

    Every later call to daf_butler's ``makeTestRepo``, ``makeTestCollection``,
    ``Butler.makeRepo``, ``create_populated_sqlite_registry`` (and, behind
    them, ``ButlerConfig`` and ``SqlRegistry.fromConfig``), under any name
    a module gave them, takes the fast path. Calls nest: the switch goes off
    after as many `turn_off_fast_repos` as `turn_on_fast_repos`.
    """
    _SWITCH.turn_on()


def turn_off_fast_repos() -> None:
    """Undo one `turn_on_fast_repos`; the last puts every replaced name back exactly.

    Raises
    ------
    RuntimeError
        Raised if the switch is not on.
    """
    _SWITCH.turn_off()


def fast_repos_active() -> bool:
    """Return whether the fast-repository switch is on.

    Returns
    -------
    active : `bool`
        `True` between `turn_on_fast_repos` and the matching
        `turn_off_fast_repos`.
    """
    return _SWITCH.active


@contextlib.contextmanager
def fast_repos() -> Iterator[None]:
    """Make every Butler repository created inside the block come from the fast path.

    The same switch as ``pytest --butler-fast-repos``, for other runners
    (``unittest``, scripts): daf_butler's repository functions are replaced
    wherever they are bound, then put back exactly.

    Yields
    ------
    None
        Nothing; the switch is on inside the block.

    Examples
    --------
    Run a ``unittest`` suite with it::

        import unittest

        from butler_testkit.butler import fast_repos

        with fast_repos():
            unittest.main(module="test_my_tasks", exit=False)
    """
    turn_on_fast_repos()
    try:
        yield
    finally:
        turn_off_fast_repos()

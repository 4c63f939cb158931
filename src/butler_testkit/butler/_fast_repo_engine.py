"""The machinery behind fast test repositories, shared by the switch and the compatibility functions."""

from __future__ import annotations

__all__ = ("FastRepoEngine", "engine")

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from lsst.daf.butler import Butler, ButlerConfig, Config, StorageClassFactory
from lsst.daf.butler.datastore import Datastore
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry import RegistryDefaults
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.daf.butler.tests import utils as butler_test_utils

from ._config_cache import ButlerConfigCache, ConfigFileCache
from ._fallback import Fallback
from ._make_repo import MakeRepoTemplates, RepositoryRoot
from ._populated import PopulatedRegistryTemplates
from ._registry_reuse import RegistryTemplates
from ._repository import DATABASES
from ._stats import STATS

_MAKE_REPO_ARGUMENTS = frozenset(
    ("config", "dimensionConfig", "standalone", "searchPaths", "forceConfigRoot", "outfile", "overwrite")
)

#: The datastore of a `makeTestRepo` repository whose configuration names none.
DEFAULT_TEST_DATASTORE = "lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore"


class _Originals:
    """daf_butler's own functions, captured before anything patches them."""

    def __init__(self) -> None:
        self.make_repo: Callable[..., Config] = Butler.makeRepo
        self.butler_config_init: Callable[..., None] = ButlerConfig.__init__
        self.config_read: Callable[[Config, Any], None] = vars(Config)["_Config__initFromUri"]
        self.registry_from_config: Callable[..., SqlRegistry] = SqlRegistry.fromConfig
        self.create_populated_sqlite_registry: Callable[..., Butler] = (
            butler_test_utils.create_populated_sqlite_registry
        )


class FastRepoEngine:
    """Templates and caches that make test repositories and their Butlers cheap.

    One per process (`engine`). Every saving keeps what daf_butler returns:
    a repository is daf_butler's own first repository of its configuration,
    copied; a configuration is daf_butler's own parse, deep-copied; a
    registry clones the managers of one daf_butler loaded from a pristine
    copy. Whatever a saving cannot honour goes to daf_butler's own function,
    counted by `~butler_testkit.butler.setup_stats` with the reason.

    Parameters
    ----------
    originals : `_Originals`
        daf_butler's own functions.
    """

    def __init__(self, originals: _Originals) -> None:
        self.originals = originals
        self.registry_templates = RegistryTemplates(originals.registry_from_config)
        self.make_repo_templates = MakeRepoTemplates(
            originals.make_repo, self.registry_templates.add_pristine_file
        )
        self.config_cache = ButlerConfigCache(originals.butler_config_init)
        self.config_files = ConfigFileCache(originals.config_read)
        self.populated = PopulatedRegistryTemplates(originals.create_populated_sqlite_registry)

    def make_repo_as(self, function: str, root: Any, **arguments: Any) -> Config:
        """Make a repository as ``Butler.makeRepo`` does, from a template when one fits.

        Parameters
        ----------
        function : `str`
            Name of the function the caller called, for `setup_stats`.
        root : `lsst.resources.ResourcePathExpression`
            As for ``Butler.makeRepo``.
        **arguments
            The other arguments of ``Butler.makeRepo``, by name.

        Returns
        -------
        config : `~lsst.daf.butler.Config`
            What ``Butler.makeRepo`` returns.

        Raises
        ------
        TypeError
            Raised for an argument ``Butler.makeRepo`` does not take.
        """
        unknown = sorted(arguments.keys() - _MAKE_REPO_ARGUMENTS)
        if unknown:
            raise TypeError(f"{function}() got unexpected keyword argument(s) {unknown}")
        # A repository a test suite makes is thrown away: its registry need
        # not wait for the disk on every commit (most of a small registry
        # operation's cost), whoever makes it.
        with contextlib.suppress(Fallback):
            DATABASES.register_directory(RepositoryRoot.from_expression(root).path)
        try:
            result, copied = self.make_repo_templates.make_repo(root, **arguments)
        except Fallback as fallback:
            STATS.record_fallback(function, fallback.reason)
            return self.originals.make_repo(root, **arguments)
        if copied:
            STATS.record_routed(function)
        else:
            STATS.record_fallback(function, "first repository of its configuration (template built)")
        return result

    def butler_config(
        self,
        config: ButlerConfig,
        other: Any = None,
        searchPaths: Sequence[Any] | None = None,
        without_datastore: bool = False,
    ) -> None:
        """Initialize a ``ButlerConfig`` from the cache of parses.

        Parameters
        ----------
        config : `~lsst.daf.butler.ButlerConfig`
            The object under construction.
        other, searchPaths, without_datastore
            As for ``ButlerConfig``.
        """
        self.config_cache.initialize(
            config, other, searchPaths, without_datastore, record=_record_butler_config
        )

    def read_config_file(self, config: Config, location: Any) -> None:
        """Read a configuration file into ``config``, from the cache of parses.

        Parameters
        ----------
        config : `~lsst.daf.butler.Config`
            The configuration under construction.
        location : `lsst.resources.ResourcePathExpression`
            The file.
        """
        self.config_files.read_into(config, location)

    def registry_from_config(
        self,
        config: Any,
        butlerRoot: Any = None,
        writeable: bool = True,
        defaults: RegistryDefaults | None = None,
    ) -> SqlRegistry:
        """Open a registry as ``SqlRegistry.fromConfig`` does, cloning a template's managers.

        Parameters
        ----------
        config, butlerRoot, writeable, defaults
            As for ``SqlRegistry.fromConfig``.

        Returns
        -------
        registry : `~lsst.daf.butler.registry.sql_registry.SqlRegistry`
            The registry.
        """
        try:
            registry = self.registry_templates.from_config(config, butlerRoot, writeable, defaults)
        except Fallback as fallback:
            STATS.record_fallback("SqlRegistry.fromConfig", fallback.reason)
            return self.originals.registry_from_config(config, butlerRoot, writeable, defaults)
        STATS.record_routed("SqlRegistry.fromConfig")
        return registry

    def create_populated_sqlite_registry(
        self, args: Sequence[Any], registry_config: Any = None, dimension_config: Any = None
    ) -> Butler:
        """Make a registry-only Butler as ``create_populated_sqlite_registry`` does.

        Parameters
        ----------
        args, registry_config, dimension_config
            As for ``create_populated_sqlite_registry``.

        Returns
        -------
        butler : `~lsst.daf.butler.Butler`
            The Butler.
        """
        function = "create_populated_sqlite_registry"
        try:
            butler, copied = self.populated.create(args, registry_config, dimension_config)
        except Fallback as fallback:
            STATS.record_fallback(function, fallback.reason)
            return self.originals.create_populated_sqlite_registry(
                *args, registry_config=registry_config, dimension_config=dimension_config
            )
        if copied:
            STATS.record_routed(function)
        else:
            STATS.record_fallback(function, "first registry of its inputs (template built)")
        return butler

    def open_butler(self, config: Config, *, writeable: bool, defaults: RegistryDefaults) -> DirectButler:
        """Open a Butler on a repository as ``Butler.from_config`` does, with the savings.

        Parameters
        ----------
        config : `~lsst.daf.butler.Config`
            The repository's configuration (what ``makeRepo`` returned).
        writeable : `bool`
            Whether the Butler may write.
        defaults : `~lsst.daf.butler.registry.RegistryDefaults`
            Its default collections and run.

        Returns
        -------
        butler : `~lsst.daf.butler.direct_butler.DirectButler`
            The Butler.
        """
        butler_config = ButlerConfig.__new__(ButlerConfig)
        self.butler_config(butler_config, config)
        if "run" in butler_config or "collection" in butler_config or butler_config.get("cls"):
            # Let daf_butler refuse or dispatch these itself.
            STATS.record_fallback("Butler.from_config", "configuration names a Butler class or run")
            opened = Butler.from_config(config, writeable=writeable)
            assert isinstance(opened, DirectButler)
            return opened
        root = butler_config.get("root", butler_config.configDir)
        registry = self.registry_from_config(butler_config, root, writeable, defaults)
        try:
            datastore = Datastore.fromConfig(
                butler_config, registry.getDatastoreBridgeManager(), butlerRoot=root
            )
            registry.make_datastore_tables(datastore.get_opaque_table_definitions())
            storage_classes = StorageClassFactory()
            storage_classes.addFromConfig(butler_config)
            return DirectButler(
                config=butler_config, registry=registry, datastore=datastore, storageClasses=storage_classes
            )
        except Exception:
            registry.close()
            raise

    def discard(self) -> None:
        """Forget every template and cache (their files are deleted)."""
        self.make_repo_templates.discard()
        self.registry_templates.discard()
        self.config_cache.clear()
        self.config_files.clear()
        self.populated.discard()
        DATABASES.unregister_directories()


def _record_butler_config(reason: str | None) -> None:
    if reason is None:
        STATS.record_routed("ButlerConfig")
    elif not reason.startswith("copy of a ButlerConfig"):
        STATS.record_fallback("ButlerConfig", reason)


_ENGINE: FastRepoEngine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> FastRepoEngine:
    """Return this process's engine, made on first use.

    Returns
    -------
    engine : `FastRepoEngine`
        The engine. Its originals are daf_butler's functions as they were
        when it was made, which must be before anything patches them.
    """
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = FastRepoEngine(_Originals())
        return _ENGINE

"""In-memory registry-only Butlers from a template: imported once, copied in memory."""

from __future__ import annotations

__all__ = ("PopulatedRegistryTemplates",)

import contextlib
import copy
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy
from lsst.daf.butler import Butler, ButlerConfig, StorageClassFactory
from lsst.daf.butler.datastore import NullDatastore
from lsst.daf.butler.direct_butler import DirectButler
from lsst.daf.butler.registry import RegistryDefaults
from lsst.daf.butler.registry.databases.sqlite import SqliteDatabase
from lsst.daf.butler.registry.sql_registry import SqlRegistry
from lsst.resources import ResourcePath

from ._database import clone_managers, open_repository_database
from ._fallback import Fallback
from ._make_repo import digest_directories

_CONFIG_PATH_VARIABLE = "DAF_BUTLER_CONFIG_PATH"


class _Template:
    """A registry-only Butler as first made: its database, managers and configuration."""

    def __init__(self, butler: DirectButler) -> None:
        internals: Any = butler
        registry = internals._registry
        source = registry._db._engine.raw_connection()
        try:
            # Nothing else may use this copy: every Butler made from the
            # template is filled from it.
            self.content = sqlite3.connect(":memory:", check_same_thread=False)
            source.driver_connection.backup(self.content)
        finally:
            source.close()
        self.table_names: frozenset[str] = frozenset(registry._db._metadata._tables)
        self.config = ButlerConfig.__new__(ButlerConfig)
        config_internals: Any = self.config
        config_internals._data = copy.deepcopy(internals._config._data)
        self.config.configFile = butler._config.configFile
        self.config.configDir = butler._config.configDir
        # A registry on a private copy, never used but to be cloned: the
        # caller's registry keeps changing.
        self.registry = self._clone(registry)

    def _clone(self, registry: Any) -> SqlRegistry:
        db = _in_memory_database(registry._db, self.content, self.table_names)
        managers = clone_managers(registry._managers, db)
        return SqlRegistry(db, RegistryDefaults(), managers)

    def make_butler(self) -> DirectButler:
        registry = self._clone(self.registry)
        config = ButlerConfig.__new__(ButlerConfig)
        config_internals: Any = config
        template_internals: Any = self.config
        config_internals._data = copy.deepcopy(template_internals._data)
        config.configFile = self.config.configFile
        config.configDir = self.config.configDir
        return DirectButler(
            config=config,
            registry=registry,
            datastore=NullDatastore(None, None),
            storageClasses=StorageClassFactory(),
        )


def _in_memory_database(
    template: SqliteDatabase, content: sqlite3.Connection, table_names: frozenset[str]
) -> SqliteDatabase:
    """Open a new in-memory database whose first connection starts as a copy of ``content``."""
    engine = SqliteDatabase.makeEngine(filename=None, writeable=True)
    filled = threading.Event()

    def fill(dbapi_connection: Any, connection_record: Any) -> None:
        # Only the first connection: as with daf_butler's own in-memory
        # registries, another thread's connection is another, empty database.
        if not filled.is_set():
            filled.set()
            content.backup(dbapi_connection)

    sqlalchemy.event.listen(engine, "connect", fill, insert=True)
    return open_repository_database(template, None, table_names, engine=engine)


class PopulatedRegistryTemplates:
    """Serve ``create_populated_sqlite_registry`` by copying the first Butler made with each input.

    That function creates an in-memory SQLite registry from scratch and
    imports export files into it: a second or two, for every test that calls
    it. The first call with each input is daf_butler's own; its database is
    copied (SQLite's backup, in memory) and its registry managers kept, so
    that later calls with the same input get a new Butler on a new copy in
    milliseconds: the same configuration, registry content and (null)
    datastore.

    The key is the content of the export files, the registry and dimension
    configurations, and ``$DAF_BUTLER_CONFIG_PATH`` with its files.

    Parameters
    ----------
    original : `~collections.abc.Callable`
        daf_butler's own ``create_populated_sqlite_registry``.
    """

    def __init__(self, original: Callable[..., Butler]) -> None:
        self._original = original
        self._templates: dict[str, _Template] = {}
        self._lock = threading.Lock()

    def create(
        self, args: Sequence[Any], registry_config: Any = None, dimension_config: Any = None
    ) -> tuple[Butler, bool]:
        """Make a populated registry-only Butler.

        Parameters
        ----------
        args : `~collections.abc.Sequence`
            Export files to import, as for ``create_populated_sqlite_registry``.
        registry_config, dimension_config
            As for ``create_populated_sqlite_registry``.

        Returns
        -------
        butler : `~lsst.daf.butler.Butler`
            The Butler.
        copied : `bool`
            Whether it came from a template.

        Raises
        ------
        Fallback
            Raised, with nothing made, if the input cannot be keyed.
        """
        key = _key(args, registry_config, dimension_config)
        with self._lock:
            template = self._templates.get(key)
        if template is not None:
            return template.make_butler(), True
        butler = self._original(*args, registry_config=registry_config, dimension_config=dimension_config)
        if not isinstance(butler, DirectButler):
            return butler, False
        try:
            kept = _Template(butler)
        except (AttributeError, TypeError, sqlite3.Error):
            return butler, False  # daf_butler changed; keep serving its own
        with self._lock:
            self._templates.setdefault(key, kept)
        return butler, False

    def discard(self) -> None:
        """Forget every template."""
        with self._lock:
            templates = list(self._templates.values())
            self._templates.clear()
        for template in templates:
            template.registry.close()
            template.content.close()


def _key(args: Sequence[Any], registry_config: Any, dimension_config: Any) -> str:
    files = []
    for arg in args:
        try:
            uri = ResourcePath(arg, forceDirectory=False)
            content = uri.read()
        except Exception as err:
            raise Fallback("an export file cannot be read") from err
        files.append([str(uri), hashlib.sha256(content).hexdigest()])
    environment = os.environ.get(_CONFIG_PATH_VARIABLE)
    material = [
        files,
        None if registry_config is None else _plain(registry_config),
        None if dimension_config is None else _plain(dimension_config),
        environment,
        digest_directories(environment.split(os.pathsep) if environment else []),
    ]
    try:
        text = json.dumps(material, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise Fallback("configuration is not plain data") from err
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(config: Any) -> Any:
    with contextlib.suppress(AttributeError):
        return config.toDict()
    raise Fallback(f"configuration given as {type(config).__name__}")

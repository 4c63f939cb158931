"""Open SQLite registries by cloning registry managers already loaded for the same schema."""

from __future__ import annotations

__all__ = ("RegistryTemplates",)

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from lsst.daf.butler.registry import RegistryConfig, RegistryDefaults
from lsst.daf.butler.registry.databases.sqlite import SqliteDatabase
from lsst.daf.butler.registry.sql_registry import SqlRegistry

from ._database import clone_managers, open_repository_database
from ._fallback import Fallback

# The table of a registry that records its manager versions and dimension
# universe: two files whose tables hold the same rows have the same static
# tables.
_ATTRIBUTES_TABLE = "butler_attributes"


class _LoadedTemplate:
    """A registry loaded, read-only, from a pristine file, never used but to be cloned."""

    def __init__(self, registry: SqlRegistry) -> None:
        self.registry = registry
        internals: Any = registry
        self.table_names: frozenset[str] = frozenset(internals._db._metadata._tables)


class RegistryTemplates:
    """Open a registry in milliseconds when one with the same schema has been loaded.

    Loading a registry describes its fifty-odd static tables to SQLAlchemy
    (most of what ``Butler.from_config`` costs). A repository made from a
    template has the template's static tables, so its registry can instead
    clone the managers of a registry loaded once from the template's pristine
    file, as ``SqlRegistry.copy`` clones them for another Butler on the same
    repository: fresh caches, the same table definitions, the new file.

    A file qualifies when its registry configuration (all but its location)
    equals the one the template was loaded with and its attributes table
    (manager versions and dimension universe) holds the same rows as the
    template's: then its static tables are the template's.

    Parameters
    ----------
    original_from_config : `~collections.abc.Callable`
        daf_butler's own ``SqlRegistry.fromConfig`` (bound to the class),
        used to load each template.
    """

    def __init__(self, original_from_config: Callable[..., SqlRegistry]) -> None:
        self._original_from_config = original_from_config
        self._pristine: dict[str, str] = {}  # attributes digest -> pristine file
        self._loaded: dict[tuple[str, str], _LoadedTemplate] = {}
        self._lock = threading.Lock()

    def add_pristine_file(self, path: str) -> None:
        """Offer a pristine registry file (never to be written) as a template.

        Parameters
        ----------
        path : `str`
            The file, kept unchanged for as long as this object lives.
        """
        digest = _attributes_digest(path)
        if digest is not None:
            with self._lock:
                self._pristine.setdefault(digest, path)

    def from_config(
        self,
        config: Any,
        butlerRoot: Any = None,
        writeable: bool = True,
        defaults: RegistryDefaults | None = None,
    ) -> SqlRegistry:
        """Open a registry as ``SqlRegistry.fromConfig`` does, by cloning a template.

        Parameters
        ----------
        config, butlerRoot, writeable, defaults
            As for ``SqlRegistry.fromConfig``.

        Returns
        -------
        registry : `~lsst.daf.butler.registry.sql_registry.SqlRegistry`
            The registry.

        Raises
        ------
        Fallback
            Raised, with nothing opened, if no template fits.
        """
        registry_config = SqlRegistry.forceRegistryConfig(config)
        registry_config.replaceRoot(butlerRoot)
        if registry_config.getDatabaseClass() is not SqliteDatabase:
            raise Fallback("registry is not SQLite")
        if registry_config.get("namespace") is not None:
            raise Fallback("registry has a namespace")
        filename = registry_config.connectionString.database
        if not filename or filename == ":memory:":
            raise Fallback("registry is in memory")
        digest = _attributes_digest(filename)
        if digest is None:
            raise Fallback("registry file has no readable attributes table")
        settings = _settings_key(registry_config)
        template = self._template(settings, digest, registry_config)
        return self._clone(template, filename, registry_config, writeable, defaults)

    def _template(self, settings: str, digest: str, registry_config: RegistryConfig) -> _LoadedTemplate:
        with self._lock:
            loaded = self._loaded.get((settings, digest))
            pristine = self._pristine.get(digest)
        if loaded is not None:
            return loaded
        if pristine is None:
            raise Fallback("no template has this registry's schema")
        template_config = RegistryConfig(registry_config)
        template_config["db"] = f"sqlite:///{pristine}"
        registry = self._original_from_config(template_config, writeable=False)
        loaded = _LoadedTemplate(registry)
        with self._lock:
            return self._loaded.setdefault((settings, digest), loaded)

    def _clone(
        self,
        template: _LoadedTemplate,
        filename: str,
        registry_config: RegistryConfig,
        writeable: bool,
        defaults: RegistryDefaults | None,
    ) -> SqlRegistry:
        template_internals: Any = template.registry
        db = open_repository_database(
            template_internals._db,
            filename,
            template.table_names,
            writeable=writeable,
            origin=registry_config.get("origin", 0),
            allow_temporary_tables=registry_config.areTemporaryTablesAllowed,
        )
        try:
            managers = clone_managers(template_internals._managers, db)
            managers.refresh()
            return SqlRegistry(db, defaults if defaults is not None else RegistryDefaults(), managers)
        except Exception:
            db.dispose()
            raise

    def discard(self) -> None:
        """Close the loaded templates and forget every file."""
        with self._lock:
            loaded = list(self._loaded.values())
            self._loaded.clear()
            self._pristine.clear()
        for template in loaded:
            template.registry.close()


def _settings_key(registry_config: RegistryConfig) -> str:
    """Everything in a registry configuration but the database's location."""
    settings = registry_config.toDict()
    settings.pop("db", None)
    return json.dumps(settings, sort_keys=True, default=repr)


def _attributes_digest(path: str) -> str | None:
    """Return the rows of a registry file's attributes table as text, or `None`."""
    if not os.path.isfile(path):
        return None
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection,
    ):
        rows = connection.execute(f"SELECT name, value FROM {_ATTRIBUTES_TABLE} ORDER BY name").fetchall()
        return json.dumps(rows)
    return None

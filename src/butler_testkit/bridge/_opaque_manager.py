"""`InMemoryOpaqueTableManager`: the registry's opaque tables, in memory."""

from __future__ import annotations

__all__ = ("InMemoryOpaqueTableManager",)

import contextlib
import copy
import types
from collections.abc import Iterator, Mapping

from lsst.daf.butler import ddl
from lsst.daf.butler.registry.interfaces import (
    Database,
    OpaqueTableStorageManager,
    StaticTablesContext,
    VersionTuple,
)

from ._errors import SchemaMismatchError
from ._journal import Journal
from ._opaque_table import InMemoryOpaqueTable
from ._schema import TableSchema


class InMemoryOpaqueTableManager(OpaqueTableStorageManager):
    """The opaque tables of an in-memory registry.

    Parameters
    ----------
    registry_schema_version : `~lsst.daf.butler.registry.interfaces.VersionTuple`, optional
        Recorded as every registry manager does; nothing depends on it.

    Notes
    -----
    `clone` returns a second handle on the same tables (as a SQL manager's
    clone reads the same database), so rows written through one are seen
    through the other. `register` returns the existing table when the name
    is known and the specification matches, and raises
    `SchemaMismatchError` when it does not (a database would report the
    conflict too), or inside a registry transaction, where a database cannot
    create tables.
    """

    def __init__(self, *, registry_schema_version: VersionTuple | None = None) -> None:
        super().__init__(registry_schema_version=registry_schema_version)
        self._journal = Journal()
        self._tables: dict[str, InMemoryOpaqueTable] = {}

    @classmethod
    def initialize(
        cls, db: Database, context: StaticTablesContext, registry_schema_version: VersionTuple | None = None
    ) -> InMemoryOpaqueTableManager:
        """Build a manager; ``db`` and ``context`` are not used.

        Parameters
        ----------
        db : `~lsst.daf.butler.registry.interfaces.Database`
            Ignored: nothing is stored in a database.
        context : `~lsst.daf.butler.registry.interfaces.StaticTablesContext`
            Ignored: there are no static tables to declare.
        registry_schema_version : `~lsst.daf.butler.registry.interfaces.VersionTuple`, optional
            Recorded on the manager.

        Returns
        -------
        manager : `InMemoryOpaqueTableManager`
            A new manager with no tables.
        """
        return cls(registry_schema_version=registry_schema_version)

    @classmethod
    def currentVersions(cls) -> list[VersionTuple]:
        """Return no schema versions: there is no database schema to version.

        Returns
        -------
        versions : `list` [`~lsst.daf.butler.registry.interfaces.VersionTuple`]
            An empty list.
        """
        return []

    def clone(self, db: Database | None = None) -> InMemoryOpaqueTableManager:
        """Return a manager on the same tables.

        Parameters
        ----------
        db : `~lsst.daf.butler.registry.interfaces.Database`, optional
            Ignored.

        Returns
        -------
        manager : `InMemoryOpaqueTableManager`
            Shares this manager's tables and registry transactions.
        """
        return copy.copy(self)

    def get(self, name: str) -> InMemoryOpaqueTable | None:
        """Return the table called ``name``, or `None` if it is not registered.

        Parameters
        ----------
        name : `str`
            Table name.

        Returns
        -------
        table : `InMemoryOpaqueTable` or `None`
            The table.

        Raises
        ------
        TypeError
            Raised if ``name`` is not a string.
        """
        if not isinstance(name, str):
            raise TypeError(f"Opaque table names are strings; got {type(name).__name__}: {name!r}")
        return self._tables.get(name)

    def __getitem__(self, name: str) -> InMemoryOpaqueTable:
        table = self.get(name)
        if table is None:
            raise LookupError(f"No opaque table {name!r}; registered: {sorted(self._tables)}.")
        return table

    def register(self, name: str, spec: ddl.TableSpec) -> InMemoryOpaqueTable:
        """Create the table ``name``, or return it if it already exists.

        Parameters
        ----------
        name : `str`
            Table name.
        spec : `lsst.daf.butler.ddl.TableSpec`
            Its specification.

        Returns
        -------
        table : `InMemoryOpaqueTable`
            The table.

        Raises
        ------
        SchemaMismatchError
            Raised if ``name`` exists with a different specification, or
            ``spec`` is not self-consistent.
        TypeError
            Raised if ``name`` is not a non-empty string or ``spec`` is not a
            `~lsst.daf.butler.ddl.TableSpec`.
        RuntimeError
            Raised inside a registry transaction: a database cannot create a
            table there.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"Opaque table names are non-empty strings; got {name!r}")
        if not isinstance(spec, ddl.TableSpec):
            raise TypeError(f"register() needs a ddl.TableSpec for table {name!r}; got {type(spec).__name__}")
        with self._journal.lock:
            existing = self._tables.get(name)
            if existing is not None:
                if existing._schema.signature != TableSchema(name, spec).signature:
                    raise SchemaMismatchError(
                        f"Opaque table {name!r} is already registered with a different specification."
                    )
                return existing
            if self._journal.in_transaction:
                raise RuntimeError(
                    f"Cannot create opaque table {name!r} inside a registry transaction; "
                    "a database cannot create tables there either."
                )
            table = InMemoryOpaqueTable(name, spec, self._journal)
            self._tables[name] = table
            return table

    @property
    def tables(self) -> Mapping[str, InMemoryOpaqueTable]:
        """A read-only snapshot of the registered tables, by name."""
        with self._journal.lock:
            return types.MappingProxyType(dict(self._tables))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Open a registry transaction around writes to these tables.

        Yields
        ------
        None
            Every table write in the block (``delete`` included) is undone if
            the block raises. The same transaction covers the persistent
            bridges of a bridge manager built on this opaque manager.
        """
        with self._journal.transaction():
            yield

"""The registry database of a test repository, sharing its template's tables."""

from __future__ import annotations

__all__ = ("RepositoryMetadata", "open_repository_database")

from collections.abc import Iterable
from typing import Any

import sqlalchemy
from lsst.daf.butler import ddl
from lsst.daf.butler.registry.databases.sqlite import SqliteDatabase
from lsst.daf.butler.registry.interfaces import Database, DatabaseMetadata


class RepositoryMetadata(DatabaseMetadata):
    """Table definitions of one test repository's database.

    A new repository starts with the definitions of its template's tables,
    shared: describing some fifty tables to SQLAlchemy takes longer than
    everything else a repository's setup does. Tables the repository creates
    later (daf_butler adds a pair per dimension group of the dataset types
    registered) are defined in its own SQLAlchemy ``MetaData``: their names
    come from per-database counters, so two repositories can give one name
    to different tables, and daf_butler takes a table it has a definition for
    to exist in the database.

    Parameters
    ----------
    template : `~lsst.daf.butler.registry.interfaces.DatabaseMetadata`
        The template database's definitions.
    existing_tables : `~collections.abc.Iterable` [`str`]
        Names of the tables in the template's file, hence in the copy.
    """

    def __init__(self, template: DatabaseMetadata, existing_tables: Iterable[str]) -> None:
        template_internals: Any = template
        super().__init__(namespace=template_internals._metadata.schema)
        internals: Any = self
        with template_internals._lock:
            internals._tables = {name: template_internals._tables[name] for name in existing_tables}

    def add_table(
        self, db: Database, name: str, spec: ddl.TableSpec, **kwargs: Any
    ) -> sqlalchemy.schema.Table:
        """Define a table of this database, reusing a shared definition if any.

        Parameters
        ----------
        db : `~lsst.daf.butler.registry.interfaces.Database`
            The database.
        name : `str`
            Table name.
        spec : `lsst.daf.butler.ddl.TableSpec`
            Its specification.
        **kwargs
            Passed to the `sqlalchemy.schema.Table` constructor.

        Returns
        -------
        table : `sqlalchemy.schema.Table`
            The definition.
        """
        internals: Any = self
        with internals._lock:
            if name not in internals._tables:
                # Foreign keys are resolved by name within one MetaData, so
                # the shared tables a new one refers to need a copy in ours.
                own = internals._metadata
                for foreign_key in spec.foreignKeys:
                    target = internals._tables.get(foreign_key.table)
                    if target is not None and target.metadata is not own and target.key not in own.tables:
                        target.to_metadata(own)
        table: sqlalchemy.schema.Table = super().add_table(db, name, spec, **kwargs)
        return table


def open_repository_database(
    template: SqliteDatabase,
    filename: str | None,
    existing_tables: Iterable[str],
    *,
    writeable: bool = True,
    origin: int | None = None,
    allow_temporary_tables: bool | None = None,
    engine: sqlalchemy.engine.Engine | None = None,
) -> SqliteDatabase:
    """Open ``filename``, whose tables are ``template``'s, with shared definitions.

    Parameters
    ----------
    template : `~lsst.daf.butler.registry.databases.sqlite.SqliteDatabase`
        The template's database.
    filename : `str` or `None`
        The database file to open: a copy of the template's, or any file
        with the same static tables; `None` for an in-memory database, whose
        ``engine`` must be given.
    existing_tables : `~collections.abc.Iterable` [`str`]
        Names of the tables in the template's file.
    writeable : `bool`, optional
        Whether to open it for writing.
    origin : `int`, optional
        Origin of the new database; the template's if `None`.
    allow_temporary_tables : `bool`, optional
        Whether queries may use temporary tables; as the template if `None`.
    engine : `sqlalchemy.engine.Engine`, optional
        The engine to use, made by ``SqliteDatabase.makeEngine``; one on
        ``filename`` if `None`.

    Returns
    -------
    database : `~lsst.daf.butler.registry.databases.sqlite.SqliteDatabase`
        The database. Its clones share its definitions, as they share its
        file.

    Notes
    -----
    This is what ``SqliteDatabase.clone`` does, with another file and its own
    metadata; it relies on daf_butler internals that are unchanged from 30.0
    to today.
    """
    template_internals: Any = template
    if engine is None:
        if filename is None:
            raise ValueError("An in-memory database needs its engine.")
        engine = SqliteDatabase.makeEngine(filename=filename, writeable=writeable)
    # Statements compile the same way for every copy (same dialect, shared
    # table definitions), so share the template's cache of compiled SQL:
    # otherwise every repository compiles its first queries afresh.
    engine_internals: Any = engine
    engine_internals._compiled_cache = template_internals._engine._compiled_cache
    database = SqliteDatabase.__new__(SqliteDatabase)
    database_internals: Any = database
    database_internals._init(
        engine=engine,
        origin=template.origin if origin is None else origin,
        namespace=template.namespace,
        writeable=writeable,
        filename=filename,
        metadata=RepositoryMetadata(template_internals._metadata, existing_tables),
        allow_temporary_tables=(
            template_internals._allow_temporary_tables
            if allow_temporary_tables is None
            else allow_temporary_tables
        ),
    )
    return database


def clone_managers(managers: Any, database: Database) -> Any:
    """Clone a registry's managers onto another database with the same static tables.

    Parameters
    ----------
    managers : `~lsst.daf.butler.registry.managers.RegistryManagerInstances`
        The managers of a registry whose static tables ``database`` has.
    database : `~lsst.daf.butler.registry.interfaces.Database`
        The other database, SQLite or PostgreSQL.

    Returns
    -------
    managers : `~lsst.daf.butler.registry.managers.RegistryManagerInstances`
        New managers on ``database``, with empty caches.

    Notes
    -----
    daf_butler's ``clone`` is meant for another connection to the same
    database, so clones share the caches of the tables created after the
    static ones (dataset tables, datastore records tables): here those belong
    to another database, so each clone gets empty ones.
    """
    clone = managers.clone(database)
    dataset_type_cache = clone.datasets._cache
    dataset_type_cache.tables = type(dataset_type_cache.tables)()
    clone.opaque._tables = type(clone.opaque._tables)()
    return clone

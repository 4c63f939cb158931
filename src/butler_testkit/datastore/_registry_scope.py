"""Which registry database a datastore was opened with, as a random identity stored in it."""

from __future__ import annotations

__all__ = ("SCOPE_TABLE", "registry_scope_id")

import logging
import uuid
from typing import TYPE_CHECKING

import sqlalchemy
from lsst.daf.butler import ddl

if TYPE_CHECKING:
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

_LOG = logging.getLogger(__name__)

SCOPE_TABLE = "butler_testkit_datastore_scope"
"""Opaque table holding one row: the identity of the registry database."""

_SPEC = ddl.TableSpec(
    fields=[ddl.FieldSpec(name="scope_id", dtype=sqlalchemy.String, length=32, primaryKey=True)]
)


def registry_scope_id(bridge_manager: DatastoreRegistryBridgeManager) -> str | None:
    """Return the identity of the registry database behind a bridge manager.

    Parameters
    ----------
    bridge_manager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
        The bridge manager a datastore is built with.

    Returns
    -------
    scope : `str` or `None`
        A random identity kept in an opaque table of the database, written
        by the first datastore that asks; every Butler on the same database
        reads the same one, and a new database (a quantum-backed Butler's)
        gets a new one. `None` if the manager has no opaque tables or the
        identity can be neither read nor written (a read-only registry
        where no datastore wrote one).

    Notes
    -----
    One table registration and one query per datastore construction: the
    records themselves stay in memory.
    """
    opaque = getattr(bridge_manager, "opaque", None)
    if opaque is None:
        return None
    try:
        table = opaque.register(SCOPE_TABLE, _SPEC)
        try:
            rows = sorted(str(row["scope_id"]) for row in table.fetch())
        except Exception:
            # Managers cloned onto another database (a test repository made
            # from a template) share the template's cache of opaque tables,
            # so registering may find the table without creating it here.
            db = getattr(opaque, "_db", None)
            if db is None:
                raise
            db.ensureTableExists(SCOPE_TABLE, _SPEC)
            rows = sorted(str(row["scope_id"]) for row in table.fetch())
        if rows:
            return rows[0]
        scope = uuid.uuid4().hex
        try:
            table.insert({"scope_id": scope})
        except Exception:
            # Another Butler wrote the first row meanwhile: the smallest wins.
            rows = sorted(str(row["scope_id"]) for row in table.fetch())
            if not rows:
                raise
            return rows[0]
        rows = sorted(str(row["scope_id"]) for row in table.fetch())
        return rows[0] if rows else scope
    except Exception as err:
        # A read-only registry cannot register a table it lacks the metadata
        # row of; read the identity straight from its database if it has one.
        found = _read_directly(opaque)
        if found is None:
            # Bridge managers without real opaque tables, read-only
            # registries where no datastore wrote an identity.
            _LOG.debug("No registry scope for datastore records (%s); records stay private.", err)
        return found


def _read_directly(opaque: object) -> str | None:
    """Return the identity kept in the database behind ``opaque``, without registering the table."""
    db = getattr(opaque, "_db", None)
    if db is None:
        return None
    try:
        table = db.getExistingTable(SCOPE_TABLE, _SPEC)
        if table is None:
            return None
        with db.query(table.select()) as result:
            rows = sorted(str(row.scope_id) for row in result)
    except Exception as err:
        _LOG.debug("Cannot read the registry scope directly (%s).", err)
        return None
    return rows[0] if rows else None

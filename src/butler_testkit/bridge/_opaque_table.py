"""`InMemoryOpaqueTable`: one opaque table, with real constraints and undo."""

from __future__ import annotations

__all__ = ("InMemoryOpaqueTable",)

import itertools
import math
import types
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Literal

from lsst.daf.butler import ddl
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.registry.interfaces import OpaqueTableStorage

from ._errors import ConstraintViolationError, SchemaMismatchError
from ._journal import Journal, Undo, check_transaction
from ._schema import Condition, Index, TableSchema, has_null

Row = dict[str, Any]
# (row id, the row before, the row after); None for "no row".
Change = tuple[int, Row | None, Row | None]
WriteMode = Literal["insert", "ensure", "replace"]


class InMemoryOpaqueTable(OpaqueTableStorage):
    """An opaque table kept in dictionaries, as strict as a SQL table.

    Datastores keep their own records in opaque tables (``FileDatastore``:
    one row per file, keyed by dataset ID and component). This one enforces
    what a database would and answers from dictionaries instead of scans.

    Parameters
    ----------
    name : `str`
        Table name.
    spec : `lsst.daf.butler.ddl.TableSpec`
        Columns (with types, ``NOT NULL`` and the primary key), unique
        constraints and indexes.
    journal : `Journal`, optional
        The registry transaction journal this table belongs to; a table made
        on its own gets its own.

    Raises
    ------
    SchemaMismatchError
        Raised if ``spec`` has no columns or names unknown columns in a
        constraint or index.

    Notes
    -----
    - **Constraints.** The primary key and every unique constraint are
      enforced: `insert` raises `ConstraintViolationError`, `ensure` skips the
      row, `replace` replaces the row with the same primary key (and raises
      if the new row collides with any *other* row); rows of one call are
      written in order, so of two rows with one key the last wins, as in
      SQL. Rows are checked against the column types: a ``NOT NULL`` column
      needs a value, an unknown column or a value of the wrong type raises
      `SchemaMismatchError`, and ``GUID`` columns accept what the SQL type
      accepts (a `uuid.UUID`, a hex string, 16 bytes or a 128-bit integer)
      and hold a `uuid.UUID`. What one supported database refuses is
      refused (an integer out of the column's range in PostgreSQL, a NUL
      character in text, an empty string in a short ``String`` column as in
      daf_butler's SQLite schema), so that rows the fake accepts are
      accepted by every registry. A failed write changes nothing, even when
      some of its rows were fine.
    - **Look-ups.** The primary key, unique constraints, declared indexes and
      the leading column of a composite primary key each have a dictionary;
      `fetch` and `delete` use the most selective one, so a look-up by
      dataset ID costs the same with a million rows as with ten. A condition
      no index covers scans the rows.
    - **Conditions.** `fetch` takes ``column=value``; a list, tuple or set
      means "one of"; a string ending in ``%`` is a prefix match, as daf_butler's
      SQL tables read it; `None` matches NULL. Rows come back in insertion
      order, as read-only mappings.
    - **Transactions.** A write given a
      `~lsst.daf.butler.datastore.DatastoreTransaction` is undone if that
      transaction rolls back; every write, `delete` included, is undone if
      the registry transaction open around it (see
      `InMemoryBridgeManager.transaction`) rolls back. An undo only reverts
      rows still as the write left them, so the two never undo one change
      twice.
    - **`delete`** constrains on exactly ``columns``, as a SQL ``DELETE``
      does (daf_butler's ``DummyRegistry`` matches every key of each row
      instead); with no columns it deletes every row, as the SQL
      implementation does.
    """

    batch_size: ClassVar[int] = 1000
    """Largest number of rows in one batch from `fetch_batches`."""

    def __init__(self, name: str, spec: ddl.TableSpec, journal: Journal | None = None) -> None:
        super().__init__(name)
        self._spec = spec
        self._schema = TableSchema(name, spec)
        self._journal = journal if journal is not None else Journal()
        self._rows: dict[int, Row] = {}
        self._row_ids = itertools.count()
        self._unique: list[tuple[Index, dict[Hashable, int]]] = [
            (index, {}) for index in self._schema.indexes if index.unique
        ]
        self._lookup: list[tuple[Index, dict[Hashable, dict[int, None]]]] = [
            (index, {}) for index in self._schema.indexes if not index.unique
        ]
        self._next_autoincrement = dict.fromkeys(self._schema.autoincrement, 1)

    # Inspection

    @property
    def spec(self) -> ddl.TableSpec:
        """The specification the table was registered with."""
        return self._spec

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names, in specification order."""
        return tuple(self._schema.columns)

    @property
    def rows(self) -> tuple[Mapping[str, Any], ...]:
        """A snapshot of every row, in insertion order, read-only."""
        with self._journal.lock:
            return tuple(types.MappingProxyType(self._rows[row_id]) for row_id in sorted(self._rows))

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"InMemoryOpaqueTable({self.name!r}, {len(self._rows)} rows)"

    # Writes

    def insert(self, *data: dict[str, Any], transaction: DatastoreTransaction | None = None) -> None:
        """Add rows; raise if any collides with a stored row or another new one.

        Parameters
        ----------
        *data : `dict`
            Rows, as mappings of column name to value.
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`, optional
            If given, its rollback removes the rows again.

        Raises
        ------
        ConstraintViolationError
            Raised if a row's primary key or unique key is already taken.
        SchemaMismatchError
            Raised if a row does not fit the schema.
        TypeError
            Raised if ``transaction`` is not a datastore transaction.
        """
        self._write(data, "insert", transaction)

    def ensure(self, *data: dict[str, Any], transaction: DatastoreTransaction | None = None) -> None:
        """Add rows, skipping those whose primary or unique key is taken.

        Parameters
        ----------
        *data : `dict`
            Rows, as mappings of column name to value.
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`, optional
            If given, its rollback removes the rows that were added.

        Raises
        ------
        SchemaMismatchError
            Raised if a row does not fit the schema.
        TypeError
            Raised if ``transaction`` is not a datastore transaction.
        """
        self._write(data, "ensure", transaction)

    def replace(self, *data: dict[str, Any], transaction: DatastoreTransaction | None = None) -> None:
        """Add rows, replacing any stored row with the same primary key.

        Parameters
        ----------
        *data : `dict`
            Rows, as mappings of column name to value.
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`, optional
            If given, its rollback removes the new rows and puts the replaced
            ones back.

        Raises
        ------
        ConstraintViolationError
            Raised if a row collides with a row other than the one it
            replaces.
        SchemaMismatchError
            Raised if a row does not fit the schema, or the table has no
            primary key to replace by.
        TypeError
            Raised if ``transaction`` is not a datastore transaction.
        """
        if not self._schema.primary_key:
            raise SchemaMismatchError(
                f"Opaque table {self.name!r} has no primary key, so replace() cannot tell which rows "
                "a new row replaces; use insert() or ensure()."
            )
        self._write(data, "replace", transaction)

    def delete(self, columns: Iterable[str], *rows: dict[str, Any]) -> None:
        """Delete the rows that match any of ``rows`` on ``columns``.

        Parameters
        ----------
        columns : `~collections.abc.Iterable` [`str`]
            Columns to match on. None at all deletes every row, as in SQL.
        *rows : `dict`
            Values to match, each holding at least ``columns``; other keys
            are ignored. A `None` value matches nothing, as ``= NULL`` in SQL.

        Raises
        ------
        SchemaMismatchError
            Raised if a column is unknown or a row lacks one of ``columns``.
        TypeError
            Raised if ``columns`` is a string rather than a collection of
            names.

        Notes
        -----
        The interface gives ``delete`` no transaction argument: only an open
        registry transaction (`InMemoryBridgeManager.transaction`) undoes it.
        """
        if isinstance(columns, str | bytes):
            raise TypeError(
                f"delete() on opaque table {self.name!r} takes an iterable of column names, not the "
                f"string {columns!r}; write [{columns!r}]."
            )
        names = tuple(columns)
        self._schema.require_columns(names, "delete()")
        conditions_per_row = self._delete_conditions(names, rows)
        with self._journal.lock:
            if not names:
                targets = list(self._rows)
            else:
                targets = list(
                    dict.fromkeys(
                        row_id for conditions in conditions_per_row for row_id in self._select(conditions)
                    )
                )
            changes: list[Change] = []
            for row_id in targets:
                row = self._rows[row_id]
                self._remove(row_id, row)
                changes.append((row_id, row, None))
            if changes:
                self._journal.record(self._undo(changes))

    def _delete_conditions(
        self, names: tuple[str, ...], rows: tuple[dict[str, Any], ...]
    ) -> list[list[Condition]]:
        for row in rows:
            if not isinstance(row, Mapping):
                raise SchemaMismatchError(
                    f"Opaque table {self.name!r}: delete() takes rows as mappings; got {type(row).__name__}."
                )
            missing = [name for name in names if name not in row]
            if missing:
                raise SchemaMismatchError(
                    f"Opaque table {self.name!r}: a row given to delete() has no value for column "
                    f"{missing[0]!r}, one of the columns {list(names)} it deletes by."
                )
        if not names or not rows:
            return []
        if len(names) == 1:
            # One column: a single "IN" over every value, as SQL batches it.
            (name,) = names
            return [self._schema.conditions({name: [row[name] for row in rows]}, "delete()")]
        conditions = []
        for row in rows:
            if any(row[name] is None for name in names):
                continue
            conditions.append(self._schema.conditions({name: [row[name]] for name in names}, "delete()"))
        return conditions

    def _write(self, data: tuple[dict[str, Any], ...], mode: WriteMode, transaction: object) -> None:
        operation = f"{mode}()"
        checked_transaction = check_transaction(transaction, f"{self.name}.{mode}")
        rows = [self._schema.make_row(item, operation) for item in data]
        with self._journal.lock:
            changes = self._apply_writes(rows, mode)
            if not changes:
                return
            undo = self._undo(changes)
            self._journal.record(undo)
        if checked_transaction is not None:
            checked_transaction.registerUndo(f"{mode} {len(changes)} rows into {self.name}", undo)

    def _apply_writes(self, rows: list[Row], mode: WriteMode) -> list[Change]:
        changes: list[Change] = []
        try:
            for row in rows:
                self._fill_autoincrement(row)
                conflicts = self._conflicts(row)
                target = None
                if conflicts:
                    if mode == "ensure":
                        continue
                    if mode == "replace":
                        target = next((rid for index, rid in conflicts if self._is_primary(index)), None)
                        others = [(index, rid) for index, rid in conflicts if rid != target]
                        if others:
                            raise self._violation(others[0][0], row, mode)
                    else:
                        raise self._violation(conflicts[0][0], row, mode)
                if target is None:
                    row_id = next(self._row_ids)
                    self._add(row_id, row)
                    changes.append((row_id, None, row))
                else:
                    old = self._rows[target]
                    self._remove(target, old)
                    self._add(target, row)
                    changes.append((target, old, row))
        except BaseException:
            self._revert(changes)
            raise
        return changes

    def _fill_autoincrement(self, row: Row) -> None:
        for name, next_value in self._next_autoincrement.items():
            value = row.get(name)
            if value is None:
                row[name] = next_value
                self._next_autoincrement[name] = next_value + 1
            elif isinstance(value, int):
                self._next_autoincrement[name] = max(next_value, value + 1)

    def _is_primary(self, index: Index) -> bool:
        return index.columns == self._schema.primary_key

    def _conflicts(self, row: Row) -> list[tuple[Index, int]]:
        conflicts = []
        for index, mapping in self._unique:
            key = index.key_of(row)
            if has_null(key, index.columns):
                continue
            row_id = mapping.get(key)
            if row_id is not None:
                conflicts.append((index, row_id))
        return conflicts

    def _key_text(self, index: Index, row: Row) -> str:
        return ", ".join(f"{column}={row[column]!r}" for column in index.columns)

    def _violation(self, index: Index, row: Row, mode: str) -> ConstraintViolationError:
        constraint = "primary key" if self._is_primary(index) else "unique constraint"
        return ConstraintViolationError(
            f"Opaque table {self.name!r}: {mode}() would break the {constraint} on "
            f"{list(index.columns)}: a row with {self._key_text(index, row)} is already stored."
        )

    # Row bookkeeping; callers hold the journal's lock.

    def _add(self, row_id: int, row: Row) -> None:
        self._rows[row_id] = row
        for index, unique_map in self._unique:
            key = index.key_of(row)
            if not has_null(key, index.columns):
                unique_map[key] = row_id
        for index, lookup_map in self._lookup:
            key = index.key_of(row)
            bucket = lookup_map.get(key)
            if bucket is None:
                lookup_map[key] = {row_id: None}
            else:
                bucket[row_id] = None

    def _remove(self, row_id: int, row: Row) -> None:
        del self._rows[row_id]
        for index, unique_map in self._unique:
            key = index.key_of(row)
            if not has_null(key, index.columns) and unique_map.get(key) == row_id:
                del unique_map[key]
        for index, lookup_map in self._lookup:
            key = index.key_of(row)
            bucket = lookup_map[key]
            del bucket[row_id]
            if not bucket:
                del lookup_map[key]

    def _revert(self, changes: Sequence[Change]) -> None:
        for row_id, before, after in reversed(changes):
            # Only revert a row that is still as this change left it: an undo
            # on a datastore transaction and one in the registry journal may
            # both exist for the same change.
            if self._rows.get(row_id) is not after:
                continue
            if after is not None:
                self._remove(row_id, after)
            if before is not None and not self._conflicts(before):
                self._add(row_id, before)

    def _undo(self, changes: list[Change]) -> Undo:
        def undo() -> None:
            with self._journal.lock:
                self._revert(changes)

        return undo

    # Reads

    def _select(self, conditions: list[Condition]) -> list[int]:
        """Return the ids of matching rows, in insertion order."""
        by_column = {condition.column: condition for condition in conditions}
        best: tuple[Index, Mapping[Hashable, Any], list[tuple[Any, ...]]] | None = None
        best_cost = math.inf
        indexes: list[tuple[Index, Mapping[Hashable, Any]]] = [*self._unique, *self._lookup]
        for index, mapping in indexes:
            parts = self._index_parts(index, by_column)
            if parts is None:
                continue
            cost = math.prod(len(part) for part in parts)
            if cost < best_cost:
                best, best_cost = (index, mapping, parts), cost
        if best is None:
            candidates: Iterable[int] = self._rows
            remaining = conditions
        else:
            index, mapping, parts = best
            candidates = self._candidates(index, mapping, parts)
            remaining = [condition for condition in conditions if condition.column not in index.columns]
        rows = self._rows
        matched = [
            row_id for row_id in candidates if all(condition.matches(rows[row_id]) for condition in remaining)
        ]
        matched.sort()
        return matched

    @staticmethod
    def _index_parts(index: Index, by_column: Mapping[str, Condition]) -> list[tuple[Any, ...]] | None:
        parts = []
        for column in index.columns:
            condition = by_column.get(column)
            if condition is None or condition.kind == "prefix":
                return None
            if condition.kind == "eq":
                # NULLs are never keys of a unique index.
                if condition.value is None and index.unique:
                    return None
                parts.append((condition.value,))
            else:
                parts.append(tuple(condition.value))
        return parts

    @staticmethod
    def _candidates(
        index: Index, mapping: Mapping[Hashable, Any], parts: list[tuple[Any, ...]]
    ) -> Iterator[int]:
        single = len(parts) == 1
        keys: Iterable[Any] = parts[0] if single else itertools.product(*parts)
        for key in keys:
            found = mapping.get(key)
            if found is None:
                continue
            if index.unique:
                yield found
            else:
                yield from found

    def fetch(self, **where: Any) -> Iterator[Mapping[Any, Any]]:
        """Return the rows matching every condition.

        Parameters
        ----------
        **where
            ``column=value``; a list, tuple or set of values matches any of
            them; a string ending in ``%`` matches by prefix.

        Returns
        -------
        rows : `~collections.abc.Iterator` [`~collections.abc.Mapping`]
            Read-only rows, in insertion order, as they were when called.

        Raises
        ------
        SchemaMismatchError
            Raised for an unknown column or a value of the wrong type.
        """
        return iter(self._fetch_rows(where, "fetch()"))

    def fetch_batches(self, **where: Any) -> Iterator[Sequence[Mapping[str, Any]]]:
        """Return the rows matching every condition, in lists.

        Parameters
        ----------
        **where
            As for `fetch`.

        Returns
        -------
        batches : `~collections.abc.Iterator` [`~collections.abc.Sequence` [`~collections.abc.Mapping`]]
            Lists of at most `batch_size` rows; none if nothing matches.

        Raises
        ------
        SchemaMismatchError
            Raised for an unknown column or a value of the wrong type.
        """
        rows = self._fetch_rows(where, "fetch_batches()")
        return iter([rows[start : start + self.batch_size] for start in range(0, len(rows), self.batch_size)])

    def _fetch_rows(self, where: Mapping[str, Any], operation: str) -> list[Mapping[str, Any]]:
        conditions = self._schema.conditions(where, operation)
        with self._journal.lock:
            rows = self._rows
            return [types.MappingProxyType(rows[row_id]) for row_id in self._select(conditions)]

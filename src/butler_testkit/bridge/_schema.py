"""What a `ddl.TableSpec` allows: checking rows and conditions against it."""

from __future__ import annotations

__all__ = ("IN_TYPES", "BeyondColumnLimitsError", "Condition", "Index", "TableSchema", "has_null")

import dataclasses
import numbers
import operator
import uuid
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from typing import Any, Literal

import sqlalchemy
from lsst.daf.butler import ddl

from ._errors import SchemaMismatchError

Coerce = Callable[[Any], Any]
KeyOf = Callable[[Mapping[str, Any]], Any]

# fetch() and delete() treat these as "column IN (...)"; daf_butler's SQL
# tables accept list, tuple and set, and a frozenset is a set too.
IN_TYPES = (list, tuple, set, frozenset)


def _as_uuid(value: Any) -> uuid.UUID:
    # The SQL GUID type binds UUIDs, hex strings, 128-bit integers and 16
    # bytes, and always reads back a UUID: so does the fake.
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return uuid.UUID(hex=value)
    if isinstance(value, bytes):
        return uuid.UUID(bytes=value)
    if isinstance(value, int) and not isinstance(value, bool):
        return uuid.UUID(int=value)
    raise TypeError(f"expected a UUID, got {type(value).__name__}")


class BeyondColumnLimitsError(ValueError):
    """A value of the column's type that the column cannot hold.

    Refused when stored; in a condition it matches nothing, as SQL compares
    it without complaint.
    """


def _integer_coercion(bits: int) -> Coerce:
    # The range of PostgreSQL's SMALLINT, INTEGER and BIGINT; SQLite stores
    # any 64-bit value in any integer column, and no more.
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def as_int(value: Any) -> int:
        # bool is an Integral, but a database would not take it for an integer.
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"expected an integer, got {type(value).__name__}")
        number = int(value)
        if not low <= number <= high:
            raise BeyondColumnLimitsError(f"{number} is out of the range of a {bits}-bit integer column")
        return number

    return as_int


def _as_float(value: Any) -> float:
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a bool, got {type(value).__name__}")


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"expected bytes, got {type(value).__name__}")


def _as_any(value: Any) -> Any:
    return value


def _string_coercion(length: int | None) -> Coerce:
    def as_str(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a str, got {type(value).__name__}")
        if "\x00" in value:
            # PostgreSQL text cannot hold one (SQLite can).
            raise ValueError("a NUL character cannot be stored in a text column")
        if length is not None and len(value) > length:
            raise BeyondColumnLimitsError(f"{len(value)} characters is longer than the column's {length}")
        if length is not None and not value:
            # daf_butler's SQLite schema checks that a short string has at
            # least one character (some databases store "" as NULL).
            raise BeyondColumnLimitsError(
                "a short String column cannot hold an empty string; use NULL or a value"
            )
        return value

    return as_str


def _coercion_for(field: ddl.FieldSpec) -> Coerce:
    dtype = field.dtype
    if issubclass(dtype, ddl.GUID):
        return _as_uuid
    if issubclass(dtype, sqlalchemy.String):
        # daf_butler creates a String longer than 32 characters as an
        # unbounded TEXT column, so only short strings have a limit that a
        # database enforces.
        return _string_coercion(field.length if field.isStringType() else None)
    if issubclass(dtype, sqlalchemy.Boolean):
        return _as_bool
    if issubclass(dtype, sqlalchemy.BigInteger):
        return _integer_coercion(64)
    if issubclass(dtype, sqlalchemy.SmallInteger):
        return _integer_coercion(16)
    if issubclass(dtype, sqlalchemy.Integer):
        return _integer_coercion(32)
    if issubclass(dtype, sqlalchemy.Float | sqlalchemy.Numeric):
        return _as_float
    if issubclass(dtype, sqlalchemy.LargeBinary):
        return _as_bytes
    # Encoded types (regions, hashes, times) are converted by their own
    # SQL type; take them as given.
    return _as_any


@dataclasses.dataclass(frozen=True)
class _Column:
    name: str
    coerce: Coerce
    nullable: bool
    default: Any
    autoincrement: bool


def _key_getter(columns: tuple[str, ...]) -> KeyOf:
    # One column keys by its value, several by a tuple: the cheapest key
    # operator.itemgetter can build.
    return operator.itemgetter(*columns)


@dataclasses.dataclass(frozen=True)
class Index:
    """Columns a table keeps a dictionary on.

    Attributes
    ----------
    columns : `tuple` [`str`, ...]
        The indexed columns, in key order.
    unique : `bool`
        Whether at most one row may have each key (primary key or unique
        constraint).
    key_of : `~collections.abc.Callable`
        Returns a row's key: the value for one column, a tuple for several.
    """

    columns: tuple[str, ...]
    unique: bool
    key_of: KeyOf


@dataclasses.dataclass(frozen=True)
class Condition:
    """One term of a ``WHERE`` clause, checked against the schema.

    Attributes
    ----------
    column : `str`
        The column.
    kind : `str`
        ``"eq"`` (equal to ``value``; `None` matches NULL), ``"in"`` (one of
        ``value``, a `frozenset`; NULL never matches) or ``"prefix"`` (a string
        starting with ``value``, from daf_butler's ``"text%"`` convention).
    value : `object`
        The coerced value, set of values or prefix.
    """

    column: str
    kind: Literal["eq", "in", "prefix"]
    value: Any

    def matches(self, row: Mapping[str, Any]) -> bool:
        """Return whether ``row`` satisfies this condition.

        Parameters
        ----------
        row : `~collections.abc.Mapping` [`str`, `object`]
            A stored row.

        Returns
        -------
        matches : `bool`
            The answer.
        """
        stored = row[self.column]
        if self.kind == "eq":
            return stored is None if self.value is None else stored == self.value
        if self.kind == "in":
            return stored is not None and stored in self.value
        return isinstance(stored, str) and stored.startswith(self.value)


class TableSchema:
    """The columns, constraints and indexes of one opaque table.

    Parameters
    ----------
    name : `str`
        Table name, used in error messages.
    spec : `lsst.daf.butler.ddl.TableSpec`
        The table's specification.

    Raises
    ------
    SchemaMismatchError
        Raised if the specification has no columns, or a unique constraint or
        an index names a column it does not have.
    """

    def __init__(self, name: str, spec: ddl.TableSpec) -> None:
        self.name = name
        self.columns: dict[str, _Column] = {
            field.name: _Column(
                field.name, _coercion_for(field), field.nullable, field.default, field.autoincrement
            )
            for field in spec.fields
        }
        if not self.columns:
            raise SchemaMismatchError(f"Opaque table {name!r}: its specification has no columns.")
        self.primary_key = tuple(field.name for field in spec.fields if field.primaryKey)
        self.autoincrement = tuple(field.name for field in spec.fields if field.autoincrement)
        unique = sorted({tuple(columns) for columns in spec.unique})
        declared = sorted({index.columns for index in spec.indexes})
        for columns in [*unique, *declared]:
            self._require_columns(columns, "its specification")
        unique_keys = ([self.primary_key] if self.primary_key else []) + [
            columns for columns in unique if columns != self.primary_key
        ]
        # A database answers a query on the leading column of a composite
        # primary key from the key's own index; keep a dictionary for it too.
        lookup_keys = [*declared]
        if len(self.primary_key) > 1:
            lookup_keys.append(self.primary_key[:1])
        self.indexes: tuple[Index, ...] = tuple(
            [Index(columns, True, _key_getter(columns)) for columns in unique_keys]
            + [
                Index(columns, False, _key_getter(columns))
                for columns in dict.fromkeys(lookup_keys)
                if columns not in unique_keys
            ]
        )
        self.signature = (
            tuple(
                (f.name, f.dtype, f.length, f.nbytes, f.primaryKey, f.nullable, f.autoincrement)
                for f in spec.fields
            ),
            frozenset(unique),
            frozenset(declared),
        )

    def _require_columns(self, columns: Iterable[str], where: str) -> None:
        unknown = [column for column in columns if column not in self.columns]
        if unknown:
            raise SchemaMismatchError(
                f"Opaque table {self.name!r} has no column {unknown[0]!r} (named in {where}); "
                f"its columns are {list(self.columns)}."
            )

    def _coerced(self, column: _Column, value: Any, where: str) -> Any:
        try:
            return column.coerce(value)
        except (TypeError, ValueError) as err:
            raise SchemaMismatchError(
                f"Opaque table {self.name!r}, column {column.name!r}: bad value {value!r} in {where}: {err}."
            ) from None

    def make_row(self, data: object, where: str) -> dict[str, Any]:
        """Return a new, complete row built from ``data``.

        Parameters
        ----------
        data : `object`
            What the caller gave as a row: a mapping from column name to value.
        where : `str`
            The operation, for error messages.

        Returns
        -------
        row : `dict` [`str`, `object`]
            Every column, in specification order: values coerced as the SQL
            type would (a hex string becomes a `uuid.UUID`), missing nullable
            columns set to their ``default`` or `None`. Autoincrement columns
            that are missing are left out for the table to fill.

        Raises
        ------
        SchemaMismatchError
            Raised if ``data`` is not a mapping, names an unknown column, lacks
            a value for a ``NOT NULL`` column, or has a value of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise SchemaMismatchError(
                f"Opaque table {self.name!r}: {where} takes rows as mappings of column to value; "
                f"got {type(data).__name__}."
            )
        self._require_columns(data, f"a row given to {where}")
        row: dict[str, Any] = {}
        for name, column in self.columns.items():
            if name not in data and column.default is not None:
                row[name] = self._default(column)
                continue
            value = data.get(name)
            if value is None:
                if column.autoincrement:
                    continue
                if not column.nullable:
                    raise SchemaMismatchError(
                        f"Opaque table {self.name!r}: column {name!r} is NOT NULL but a row given to "
                        f"{where} has no value for it."
                    )
                row[name] = None
            else:
                row[name] = self._coerced(column, value, f"a row given to {where}")
        return row

    @staticmethod
    def _default(column: _Column) -> Any:
        # A FieldSpec default is SQL text for the server; take it as the value
        # the database would store when it reads as one of the column's type.
        try:
            return column.coerce(column.default)
        except (TypeError, ValueError):
            return column.default

    def conditions(self, where: Mapping[str, Any], operation: str) -> list[Condition]:
        """Check and coerce the keyword conditions of ``fetch`` or ``delete``.

        Parameters
        ----------
        where : `~collections.abc.Mapping` [`str`, `object`]
            Column name to a value, to a list, tuple or set of values ("IN"),
            or to a string ending in ``%`` (a prefix, as daf_butler's SQL
            tables understand it).
        operation : `str`
            The method, for error messages.

        Returns
        -------
        conditions : `list` [`Condition`]
            One per column.

        Raises
        ------
        SchemaMismatchError
            Raised for an unknown column or a value of the wrong type.
        """
        self._require_columns(where, f"the conditions of {operation}")
        conditions = []
        context = f"the conditions of {operation}"
        for name, value in where.items():
            column = self.columns[name]
            if isinstance(value, IN_TYPES):
                values = frozenset(
                    coerced
                    for item in value
                    if item is not None
                    for coerced in self._comparable(column, item, context)
                )
                conditions.append(Condition(name, "in", values))
            elif isinstance(value, str) and value.endswith("%"):
                conditions.append(Condition(name, "prefix", value[:-1]))
            elif value is None:
                conditions.append(Condition(name, "eq", None))
            else:
                comparable = self._comparable(column, value, context)
                conditions.append(
                    Condition(name, "eq", comparable[0]) if comparable else Condition(name, "in", frozenset())
                )
        return conditions

    def _comparable(self, column: _Column, value: Any, context: str) -> tuple[Any, ...]:
        """Return ``(coerced value,)``, or ``()`` for one no row can hold (it matches nothing)."""
        try:
            return (column.coerce(value),)
        except BeyondColumnLimitsError:
            return ()
        except (TypeError, ValueError):
            return (self._coerced(column, value, context),)  # raises the schema error

    def require_columns(self, columns: Collection[str], operation: str) -> None:
        """Check that every name in ``columns`` is a column.

        Parameters
        ----------
        columns : `~collections.abc.Collection` [`str`]
            Column names.
        operation : `str`
            The method, for error messages.

        Raises
        ------
        SchemaMismatchError
            Raised for an unknown column.
        """
        self._require_columns(columns, operation)


def has_null(key: Hashable, columns: tuple[str, ...]) -> bool:
    """Return whether an index key holds a NULL.

    Parameters
    ----------
    key : `~collections.abc.Hashable`
        A key built by `Index.key_of`.
    columns : `tuple` [`str`, ...]
        The index's columns.

    Returns
    -------
    null : `bool`
        `True` if any part of the key is `None`; such rows never collide in a
        unique constraint, as in SQL.
    """
    if len(columns) == 1:
        return key is None
    return None in key  # type: ignore[operator]

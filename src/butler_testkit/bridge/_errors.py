"""The errors raised by the fake registry bridges and opaque tables."""

from __future__ import annotations

__all__ = ("ConstraintViolationError", "SchemaMismatchError")


class ConstraintViolationError(RuntimeError):
    """A write would break a primary-key or unique constraint.

    Raised by opaque tables (``insert``, a ``replace`` that would collide with
    a row other than the one it replaces) and by persistent bridges (a
    duplicate ``insert``, or trashing a dataset that is already in the trash),
    where a SQL registry would raise an integrity error. Nothing is changed.

    It derives from `RuntimeError`, which is what daf_butler's
    ``DummyRegistry`` raises, so tests written against it keep working.
    """


class SchemaMismatchError(ValueError):
    """A row, a condition or a table definition does not fit a table's schema.

    Raised for an unknown column, a missing or `None` value in a column that
    is ``NOT NULL``, a value of the wrong type for its column, a string too
    long for a short ``String`` column, and for registering a table name again
    with a different specification. Nothing is changed.
    """

"""The ``"stored"`` fault point: a check that a datastore runs midway through ``put``."""

from __future__ import annotations

__all__ = ("StoredCheck", "StoredPointHook", "checking_stored_point", "stored_point_check")

import contextlib
import contextvars
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol, TypeAlias, runtime_checkable

from lsst.daf.butler import DatasetRef

StoredCheck: TypeAlias = Callable[[DatasetRef], None]
"""Called with the reference of a dataset just stored; raises to make the put fail."""

# The checks in force for the current thread or asyncio task, by id() of the
# datastore (which need not be hashable) with the datastore itself: a check
# installed by one caller never reaches a call made by another.
_checks: contextvars.ContextVar[Mapping[int, tuple[object, StoredCheck]]] = contextvars.ContextVar(
    "butler_testkit_stored_point_checks", default=types.MappingProxyType({})
)


@runtime_checkable
class StoredPointHook(Protocol):
    """A datastore that can fail a ``put`` midway: stored, but not yet returned.

    `~butler_testkit.InstrumentedDatastore` injects faults at point
    ``"stored"`` through this hook when the datastore it wraps has one, and
    treats the point as ``"after"`` otherwise. `InMemoryDatastore` and
    `InstrumentedDatastore` have it; a datastore of your own gets it by
    implementing `at_stored_point` with `checking_stored_point` and calling
    `stored_point_check` in its ``put``.
    """

    def at_stored_point(self, check: StoredCheck) -> AbstractContextManager[None]:
        """Run ``check`` inside every ``put`` this caller makes in the block.

        Parameters
        ----------
        check : `~collections.abc.Callable`
            Called with the reference once the dataset is stored and before
            ``put`` returns. If it raises, the datastore removes the dataset
            again and the exception propagates from ``put``.

        Returns
        -------
        block : `contextlib.AbstractContextManager`
            The check is in force inside it, for the calling thread or
            asyncio task only; other callers, and calls after the block, are
            not affected. Checks installed by nested blocks all run.
        """
        ...


@contextlib.contextmanager
def checking_stored_point(datastore: object, check: StoredCheck) -> Iterator[None]:
    """Install ``check`` for ``datastore``'s puts by this caller, for one block.

    What a datastore's `StoredPointHook.at_stored_point` returns.

    Parameters
    ----------
    datastore : `object`
        The datastore whose ``put`` runs the check.
    check : `~collections.abc.Callable`
        The check; one installed already by an enclosing block runs after it.

    Yields
    ------
    None
        The block in which the check is in force.
    """
    installed = _checks.get()
    enclosing = stored_point_check(datastore)
    combined = check if enclosing is None else _both(check, enclosing)
    token = _checks.set(types.MappingProxyType({**installed, id(datastore): (datastore, combined)}))
    try:
        yield
    finally:
        _checks.reset(token)


def stored_point_check(datastore: object) -> StoredCheck | None:
    """Return the check a ``put`` on ``datastore`` must run once it has stored the dataset.

    Parameters
    ----------
    datastore : `object`
        The datastore doing the put.

    Returns
    -------
    check : `~collections.abc.Callable` or `None`
        The check installed by this caller, or `None` (the usual case, which
        costs one context-variable look-up).
    """
    found = _checks.get().get(id(datastore))
    return None if found is None or found[0] is not datastore else found[1]


def _both(first: StoredCheck, second: StoredCheck) -> StoredCheck:
    def check(ref: DatasetRef) -> None:
        first(ref)
        second(ref)

    return check

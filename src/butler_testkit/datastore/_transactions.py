"""Datastore transactions that nest correctly and belong to one thread."""

from __future__ import annotations

__all__ = ("ThreadTransactions",)

import contextlib
import threading
from collections.abc import Callable, Iterator

from lsst.daf.butler.datastore import DatastoreTransaction


class ThreadTransactions:
    """Mixin giving a `~lsst.daf.butler.datastore.Datastore` sound transactions.

    The base class's ``transaction()`` forgets to restore the enclosing
    transaction when its block raises. After one failed inner block the
    outer block then rolls back the dead inner transaction instead of its
    own, so the outer block's earlier work survives; and every later
    operation appends an undo to that dead log, which grows without bound.
    This mixin restores the parent on every path.

    It also keeps the current transaction per thread: two threads sharing a
    datastore each nest their own transactions, and one thread's rollback
    never undoes another thread's work.

    Notes
    -----
    Must come before `~lsst.daf.butler.datastore.Datastore` in the bases so
    that its ``_transaction`` property shadows the base class's plain
    attribute.
    """

    _transactions_by_thread: threading.local

    @property
    def _transaction(self) -> DatastoreTransaction | None:
        local = self.__dict__.get("_transactions_by_thread")
        return None if local is None else getattr(local, "current", None)

    @_transaction.setter
    def _transaction(self, value: DatastoreTransaction | None) -> None:
        # The base constructor assigns None before our own __init__ body
        # runs, so create the thread-local store lazily.
        local = self.__dict__.get("_transactions_by_thread")
        if local is None:
            local = self.__dict__.setdefault("_transactions_by_thread", threading.local())
        local.current = value

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DatastoreTransaction]:
        """Open a transaction, nested in the current one if there is one.

        On a clean exit the events join the enclosing transaction (or are
        forgotten at top level); if the block raises, they are undone in
        reverse order and the exception propagates. Either way the enclosing
        transaction becomes current again.

        Yields
        ------
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`
            The new transaction.
        """
        parent = self._transaction
        current = DatastoreTransaction(parent)
        self._transaction = current
        try:
            yield current
        except BaseException:
            current.rollback()
            raise
        else:
            current.commit()
        finally:
            self._transaction = parent

    def _register_undo(self, name: str, undo: Callable[[], object]) -> None:
        """Record ``undo`` in the current transaction, if there is one.

        Parameters
        ----------
        name : `str`
            Short description, used in debug logs of a rollback.
        undo : `~collections.abc.Callable`
            Called without arguments on rollback. It takes no arguments on
            purpose: the base class formats every argument into its debug
            message even when debug logging is off, which would cost a string
            of every dataset in a bulk operation.
        """
        current = self._transaction
        if current is not None:
            current.registerUndo(name, undo)

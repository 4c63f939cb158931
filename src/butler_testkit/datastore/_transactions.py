"""Datastore transactions that nest correctly and belong to one thread or asyncio task."""

from __future__ import annotations

__all__ = ("ContextTransactions",)

import contextlib
import contextvars
import types
from collections.abc import Callable, Iterator, Mapping

from lsst.daf.butler.datastore import DatastoreTransaction

# The open transactions of the current thread or asyncio task, by id() of the
# datastore, with the datastore itself (which keeps the id from being reused
# while the entry exists). One variable for every datastore: a context holds
# every variable set in it for its whole life, so a variable per datastore
# would outlive the datastore. A datastore without an open transaction has no
# entry, so nothing here keeps it alive.
_open: contextvars.ContextVar[Mapping[int, tuple[object, DatastoreTransaction]]] = contextvars.ContextVar(
    "butler_testkit_datastore_transactions", default=types.MappingProxyType({})
)


class ContextTransactions:
    """Mixin giving a `~lsst.daf.butler.datastore.Datastore` sound transactions.

    The base class's ``transaction()`` forgets to restore the enclosing
    transaction when its block raises. After one failed inner block the
    outer block then rolls back the dead inner transaction instead of its
    own, so the outer block's earlier work survives; and every later
    operation appends an undo to that dead log, which grows without bound.
    This mixin restores the parent on every path.

    It also keeps the current transaction per thread and per asyncio task (in
    a context variable, which both respect): two threads, or two tasks
    awaiting inside their ``with datastore.transaction():`` blocks, each
    nest their own transactions, and one's rollback never undoes another's
    work. Clones have their own transactions, as the base class's do.

    Notes
    -----
    Must come before `~lsst.daf.butler.datastore.Datastore` in the bases so
    that its ``_transaction`` property shadows the base class's plain
    attribute. Code that reads ``datastore._transaction`` (as daf_butler's
    datastores do) gets the transaction current in its own thread or task,
    and assigning it (as the base constructor does with `None`) sets it
    there.
    """

    @property
    def _transaction(self) -> DatastoreTransaction | None:
        found = _open.get().get(id(self))
        return None if found is None else found[1]

    @_transaction.setter
    def _transaction(self, value: DatastoreTransaction | None) -> None:
        current = _open.get()
        key = id(self)
        if value is None:
            if key in current:
                _open.set(types.MappingProxyType({k: v for k, v in current.items() if k != key}))
        else:
            _open.set(types.MappingProxyType({**current, key: (self, value)}))

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
            The new transaction, current in this thread or asyncio task only.
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
            of every dataset in a bulk operation. It must undo only the
            change it was registered for: by the stored entry that change
            made, never by dataset ID, so that it leaves alone whatever
            another thread, task or clone has stored since.
        """
        current = self._transaction
        if current is not None:
            current.registerUndo(name, undo)

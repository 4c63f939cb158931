"""The stand-in for the registry's database: one lock and its transactions."""

from __future__ import annotations

__all__ = ("Journal", "Undo", "check_transaction")

import contextlib
import threading
from collections.abc import Callable, Iterator

from lsst.daf.butler.datastore import DatastoreTransaction

Undo = Callable[[], None]


class Journal:
    """Serialise changes to registry-side state and undo them on rollback.

    In a SQL registry the bridges' tables and the opaque tables live in one
    database, and ``Registry.transaction()`` (which ``Butler.transaction()``
    and every Butler write open) rolls all of their changes back together.
    A journal is that database for the in-memory fakes: the opaque tables and
    the persistent bridges of one registry share it, record an undo for every
    change made while a `transaction` is open, and hold `lock` while they
    change.

    Notes
    -----
    Transactions belong to the thread that opened them, as a database
    connection does, and nest: an inner block that raises undoes its own
    changes; one that exits cleanly hands them to the enclosing block.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._local = threading.local()

    def _open_transactions(self) -> list[list[Undo]]:
        stack: list[list[Undo]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open (`bool`)."""
        return bool(getattr(self._local, "stack", None))

    def record(self, undo: Undo) -> None:
        """Remember ``undo`` in this thread's innermost open transaction.

        Parameters
        ----------
        undo : `~collections.abc.Callable`
            Called without arguments if the transaction rolls back. It must
            undo the change only if the state is still what the change left,
            so that it can meet an undo registered on a datastore transaction
            for the same change and do nothing.
        """
        stack = getattr(self._local, "stack", None)
        if stack:
            stack[-1].append(undo)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Open a transaction, nested in this thread's current one if any.

        Yields
        ------
        None
            Changes made in the block are undone, newest first, if it raises;
            the exception then propagates.
        """
        stack = self._open_transactions()
        undos: list[Undo] = []
        stack.append(undos)
        try:
            yield
        except BaseException:
            stack.pop()
            for undo in reversed(undos):
                undo()
            raise
        stack.pop()
        if stack:
            stack[-1].extend(undos)


def check_transaction(transaction: object, operation: str) -> DatastoreTransaction | None:
    """Check the ``transaction`` argument of a write before anything changes.

    Parameters
    ----------
    transaction : `object`
        What the caller passed as ``transaction``.
    operation : `str`
        The method it was passed to, for the error message.

    Returns
    -------
    transaction : `~lsst.daf.butler.datastore.DatastoreTransaction` or `None`
        The same object.

    Raises
    ------
    TypeError
        Raised if ``transaction`` is neither `None` nor a
        `~lsst.daf.butler.datastore.DatastoreTransaction`.
    """
    if transaction is None or isinstance(transaction, DatastoreTransaction):
        return transaction
    raise TypeError(
        f"{operation}() takes a DatastoreTransaction or None as transaction; got {type(transaction).__name__}"
    )

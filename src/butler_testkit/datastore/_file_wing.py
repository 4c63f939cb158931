"""What the file families of `InMemoryDatastore` need from it."""

from __future__ import annotations

__all__ = ("FileWing",)

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from lsst.daf.butler.datastore import Datastore

from ._transactions import ContextTransactions

if TYPE_CHECKING:
    from lsst.daf.butler import DimensionUniverse

    from ._constraints import ConstraintsCache
    from ._serialization import Formatters
    from ._shared import RecordScope
    from ._state import DatastoreState, StoredDataset
    from ._storage_policy import StoragePolicy


class FileWing(ContextTransactions, Datastore):
    """Base of the mixins that move `InMemoryDatastore`'s datasets in and out as files.

    Records, artifacts, zip files, ingest, export and transfers form one
    concept: a file gateway over the datastore's stored state. It is split
    into two families, as a fake server splits its commands: `FileExports`
    (datasets out as files) and `FileImports` (files in as datasets). Each
    family is a mixin of the datastore, so that its methods are the
    datastore's own ``Datastore`` API, documented where they are written,
    and the datastore's module keeps the in-memory contract (put, get,
    existence, URIs, deletion, transactions, snapshots).

    This base declares what the families use of the datastore beyond the
    ``Datastore`` API and its transactions: the attributes below, set by the
    datastore's constructor. A reader, and a type checker, sees the whole
    contract between the datastore and its file wing here. Being abstract
    ``Datastore`` subclasses, the families have their methods checked
    against the base class's signatures.
    """

    clock: Callable[[], float]
    """Clock of ``expire_after``."""

    _formatters: Formatters
    _universe: DimensionUniverse
    _constraints_cache: ConstraintsCache
    _storage: StoragePolicy
    _capacity: int | None
    _expire_after: float | None
    _scope: RecordScope | None
    """The records this datastore reads and writes: those of its registry
    database in a repository whose datasets it shares, or `None` for a
    private datastore, which knows exactly what it stores."""
    _trust: bool
    """Whether reads need the object alone, not a record (trust mode)."""

    def _knows_entry(self, entry: StoredDataset) -> bool:
        """Return whether a stored dataset is recorded for this datastore's registry."""
        scope = self._scope
        if scope is None:
            return True
        known_by = entry.known_by
        return known_by is scope or (type(known_by) is frozenset and scope in known_by)

    def _knows_key(self, key: int, datasets: Mapping[int, StoredDataset]) -> bool:
        """Return whether the dataset is known: stored, and recorded for this registry."""
        entry = datasets.get(key)
        return entry is not None and self._knows_entry(entry)

    def _reads_key(self, key: int, datasets: Mapping[int, StoredDataset]) -> bool:
        """Return whether the dataset can be read: known, or only stored in trust mode."""
        entry = datasets.get(key)
        return entry is not None and (self._trust or self._knows_entry(entry))

    def _record(self, entries: Iterable[StoredDataset]) -> Callable[[], None] | None:
        """Record stored datasets as known here; return what undoes it (`None` if nothing changed)."""
        scope = self._scope
        if scope is None:
            return None
        changed: list[tuple[StoredDataset, object, object]] = []
        with self._state.lock:
            for entry in entries:
                if self._knows_entry(entry):
                    continue
                before = entry.known_by
                after = scope if before is None else _union(before, scope)
                entry.known_by = after
                changed.append((entry, before, after))
        if not changed:
            return None

        def undo() -> None:
            for entry, before, after in changed:
                # Only our own change: a later one to the same entry stays.
                if entry.known_by is after:
                    entry.known_by = before

        return undo

    def _unrecord(self, entry: StoredDataset) -> bool:
        """Drop this registry's record of a stored dataset; return whether another registry knows it."""
        scope = self._scope
        known_by = entry.known_by
        if type(known_by) is frozenset:
            rest = known_by - {scope}
            entry.known_by = next(iter(rest)) if len(rest) == 1 else (rest or None)
            return bool(rest)
        if known_by is scope:
            entry.known_by = None
            return False
        return known_by is not None

    if TYPE_CHECKING:

        @property
        def _state(self) -> DatastoreState:
            """The stored state, with what has expired removed."""


def _union(known_by: object, scope: object) -> frozenset[object]:
    """Return the scopes of ``known_by`` (one scope or a frozenset of them) and ``scope``."""
    if type(known_by) is frozenset:
        return known_by | {scope}
    return frozenset((known_by, scope))

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
    from ._state import DatastoreState
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
    _records: set[int] | None
    """Integer IDs of the datasets this datastore knows, when they are not
    simply those whose objects are stored (a datastore sharing a repository's
    objects knows those its registry database knows)."""
    _trust: bool
    """Whether reads need the object alone, not a record (trust mode)."""

    def _knows_key(self, key: int, datasets: Mapping[int, object]) -> bool:
        """Return whether the dataset is known: stored, and recorded for this registry."""
        records = self._records
        return key in datasets and (records is None or key in records)

    def _reads_key(self, key: int, datasets: Mapping[int, object]) -> bool:
        """Return whether the dataset can be read: known, or only stored in trust mode."""
        records = self._records
        return key in datasets and (records is None or self._trust or key in records)

    def _record(self, keys: Iterable[int]) -> Callable[[], None] | None:
        """Record datasets as known; return what forgets them again (`None` if nothing to do)."""
        records = self._records
        if records is None:
            return None
        added = [key for key in keys if key not in records]
        records.update(added)
        return lambda: records.difference_update(added)

    def _forget_records(self, keys: Iterable[int]) -> None:
        """Drop the records of datasets that are no longer stored or known."""
        records = self._records
        if records is not None:
            records.difference_update(keys)

    if TYPE_CHECKING:

        @property
        def _state(self) -> DatastoreState:
            """The stored state, with what has expired removed."""

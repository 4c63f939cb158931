"""Back-door views of what a datastore holds, for tests the public API cannot answer."""

from __future__ import annotations

__all__ = ("InMemoryStateView", "StoredStateView", "UpstreamInMemoryStateView")

import uuid
from typing import Any, Protocol, runtime_checkable

from lsst.daf.butler.datastore import Datastore


@runtime_checkable
class StoredStateView(Protocol):
    """What a datastore holds, read behind its public API.

    An implementer may provide one (the ``stored_state_view`` fixture of
    `DatastoreConformance`) so that the suite can check bookkeeping the
    public API hides: a forgotten dataset that is still held, a trash that
    keeps IDs it should have dropped. Tests that need a view are skipped
    without one.
    """

    def stored_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return the IDs of every dataset the datastore holds anything for.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore under test.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            Datasets with stored data or bookkeeping, trashed or not.
        """
        ...

    def trashed_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return the IDs the datastore's trash holds.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore under test.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            Every ID in the trash, whether or not it is still stored.
        """
        ...


class InMemoryStateView:
    """The view of a `butler_testkit.InMemoryDatastore`, from its inspection methods."""

    def stored_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return the IDs of the stored datasets, trashed or not.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            A `butler_testkit.InMemoryDatastore`.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            From ``stored_refs()``.
        """
        return {ref.id for ref in _ours(datastore).stored_refs()}

    def trashed_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return the IDs in the trash.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            A `butler_testkit.InMemoryDatastore`.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            From ``trashed_refs()``.
        """
        return {ref.id for ref in _ours(datastore).trashed_refs()}


def _ours(datastore: Datastore) -> Any:
    from ..datastore import InMemoryDatastore

    if not isinstance(datastore, InMemoryDatastore):
        raise TypeError(f"InMemoryStateView reads a butler_testkit.InMemoryDatastore, not {datastore!r}.")
    return datastore


class UpstreamInMemoryStateView:
    """The view of daf_butler's own ``InMemoryDatastore``, from its attributes.

    Its stored objects live in ``datasets``, its records in ``records``,
    the IDs sharing a stored object in the sets of ``related``, and its
    trash in ``_trashedIds``; anything held in any of them counts as stored
    (an empty set left in ``related`` holds no ID).
    """

    def stored_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return every ID with a stored object, a record or a related entry.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            An upstream ``InMemoryDatastore``.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            Keys of ``datasets`` and ``records``, and members of the sets
            of ``related``.
        """
        state = _upstream(datastore)
        related = {dataset_id for ids in state.related.values() for dataset_id in ids}
        return set(state.datasets) | set(state.records) | related

    def trashed_ids(self, datastore: Datastore) -> set[uuid.UUID]:
        """Return the IDs in the trash.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            An upstream ``InMemoryDatastore``.

        Returns
        -------
        ids : `set` [`uuid.UUID`]
            ``_trashedIds``.
        """
        return set(_upstream(datastore)._trashedIds)


def _upstream(datastore: Datastore) -> Any:
    from lsst.daf.butler.datastores.inMemoryDatastore import InMemoryDatastore

    if not isinstance(datastore, InMemoryDatastore):
        raise TypeError(f"UpstreamInMemoryStateView reads upstream's InMemoryDatastore, not {datastore!r}.")
    return datastore

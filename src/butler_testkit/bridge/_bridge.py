"""`InMemoryBridge`: what both bridge flavours hold and how to inspect it."""

from __future__ import annotations

__all__ = ("InMemoryBridge",)

import uuid
from collections.abc import Collection, Container, Iterable
from typing import ClassVar

from lsst.daf.butler import DatasetId
from lsst.daf.butler.datastore.stored_file_info import StoredDatastoreItemInfo
from lsst.daf.butler.registry.interfaces import DatasetIdRef, DatastoreRegistryBridge, OpaqueTableStorage

from ._journal import Journal
from ._operations import BridgeOperation, OperationName


def _describe(candidate: object) -> str:
    shown = repr(candidate)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{type(candidate).__name__}: {shown}"


class InMemoryBridge(DatastoreRegistryBridge):
    """The records a registry keeps about one datastore's datasets.

    Use `InMemoryBridgeManager.register` to get one. The two flavours,
    `InMemoryEphemeralBridge` and `InMemoryPersistentBridge`, share this
    class's inspection API and differ where daf_butler's ephemeral and SQL
    bridges differ.

    Parameters
    ----------
    datastoreName : `str`
        Name of the datastore.
    journal : `Journal`
        Lock and registry transactions shared with the manager's other bridges
        and its opaque tables.
    log : `list` [`BridgeOperation`]
        The manager's operation log, appended to by every change.
    datasets : `~collections.abc.Container` [`~lsst.daf.butler.DatasetId`], optional
        The registry's dataset table: the IDs of the datasets it knows. The
        persistent flavour refuses to record any other, as the foreign key
        of the SQL bridge's table does; `None` takes every ID as known.
    """

    ephemeral: ClassVar[bool]
    """Whether this is the ephemeral flavour."""

    def __init__(
        self,
        datastoreName: str,
        *,
        journal: Journal,
        log: list[BridgeOperation],
        datasets: Container[DatasetId] | None = None,
    ) -> None:
        super().__init__(datastoreName)
        self._journal = journal
        self._log = log
        self._datasets = datasets
        # Dictionaries as ordered sets: inspection and emptyTrash see IDs in
        # the order they arrived.
        self._stored: dict[DatasetId, None] = {}
        self._trashed: dict[DatasetId, None] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.datastoreName!r}, {len(self._stored)} inserted, "
            f"{len(self._trashed)} trashed)"
        )

    # Inspection

    @property
    def inserted_ids(self) -> frozenset[DatasetId]:
        """A snapshot of the IDs the bridge records as held by the datastore.

        For the ephemeral flavour, trashed IDs stay here until the trash is
        emptied (as upstream's ephemeral bridge keeps them); for the persistent
        flavour, trashing moves an ID from here to `trashed_ids` (as the SQL
        bridge moves the row to its trash table).
        """
        with self._journal.lock:
            return frozenset(self._stored)

    @property
    def trashed_ids(self) -> frozenset[DatasetId]:
        """A snapshot of the IDs in the trash, waiting for ``emptyTrash``."""
        with self._journal.lock:
            return frozenset(self._trashed)

    def __contains__(self, ref: DatasetIdRef) -> bool:
        return self._is_present(self._id_of(ref, "__contains__"))

    def check(self, datasets: Iterable[DatasetId]) -> set[DatasetId]:
        """Return those of ``datasets`` the datastore holds and has not trashed.

        Parameters
        ----------
        datasets : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetId`]
            Dataset IDs.

        Returns
        -------
        present : `set` [`~lsst.daf.butler.DatasetId`]
            The IDs present.

        Raises
        ------
        TypeError
            Raised if an element is not a `uuid.UUID`.
        """
        ids = self._checked_ids(datasets, "check")
        with self._journal.lock:
            return {dataset_id for dataset_id in ids if self._is_present(dataset_id)}

    def _is_present(self, dataset_id: DatasetId) -> bool:
        raise NotImplementedError()

    # Argument checks, done before anything changes

    def _id_of(self, ref: object, operation: str) -> DatasetId:
        try:
            dataset_id = ref.id  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(
                f"Bridge {self.datastoreName!r}: {operation}() needs DatasetRef or FakeDatasetRef "
                f"objects; got {_describe(ref)}"
            ) from None
        if not isinstance(dataset_id, uuid.UUID):
            raise TypeError(
                f"Bridge {self.datastoreName!r}: {operation}() got a reference whose id is not a UUID: "
                f"{_describe(ref)}"
            )
        return dataset_id

    def _ids_of(self, refs: object, operation: str) -> list[DatasetId]:
        if isinstance(refs, str | bytes) or not isinstance(refs, Iterable):
            raise TypeError(
                f"Bridge {self.datastoreName!r}: {operation}() needs an iterable of DatasetRef or "
                f"FakeDatasetRef; got {_describe(refs)}"
            )
        return [self._id_of(ref, operation) for ref in refs]

    def _checked_ids(self, datasets: object, operation: str) -> list[DatasetId]:
        if isinstance(datasets, str | bytes) or not isinstance(datasets, Iterable):
            raise TypeError(
                f"Bridge {self.datastoreName!r}: {operation}() needs an iterable of dataset IDs; "
                f"got {_describe(datasets)}"
            )
        ids = list(datasets)
        for dataset_id in ids:
            if not isinstance(dataset_id, uuid.UUID):
                raise TypeError(
                    f"Bridge {self.datastoreName!r}: {operation}() needs dataset IDs (UUIDs); "
                    f"got {_describe(dataset_id)}"
                )
        return ids

    def _selected_trash(
        self, selected_ids: Collection[DatasetId] | None, *, empty_means_all: bool
    ) -> list[DatasetId]:
        """Return the trashed IDs an ``emptyTrash`` call applies to.

        Callers hold the lock. Walks the selection, not the whole trash, so
        emptying a few datasets out of a large trash stays cheap.
        """
        if selected_ids is None or (empty_means_all and not selected_ids):
            return list(self._trashed)
        trashed = self._trashed
        return [dataset_id for dataset_id in dict.fromkeys(selected_ids) if dataset_id in trashed]

    def _check_empty_trash_arguments(
        self,
        records_table: object,
        record_class: type[StoredDatastoreItemInfo] | None,
        selected_ids: object,
    ) -> OpaqueTableStorage | None:
        if records_table is not None and not isinstance(records_table, OpaqueTableStorage):
            raise TypeError(
                f"Bridge {self.datastoreName!r}: emptyTrash() needs an OpaqueTableStorage as "
                f"records_table; got {_describe(records_table)}"
            )
        if records_table is not None and record_class is None:
            raise ValueError(
                f"Bridge {self.datastoreName!r}: emptyTrash() was given a records table but no "
                "record_class to read its rows with."
            )
        if selected_ids is not None:
            self._checked_ids(selected_ids, "emptyTrash")
        return records_table

    # The log

    def _record(self, operation: OperationName, ids: Iterable[DatasetId], *, rollback: bool = False) -> None:
        self._log.append(BridgeOperation(self.datastoreName, operation, tuple(ids), self.ephemeral, rollback))

"""`InMemoryEphemeralBridge`: the bridge of a datastore that dies with the process."""

from __future__ import annotations

__all__ = ("InMemoryEphemeralBridge",)

import contextlib
from collections.abc import Collection, Iterable, Iterator
from typing import Literal

from lsst.daf.butler import DatasetId
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import StoredDatastoreItemInfo
from lsst.daf.butler.registry.interfaces import DatasetIdRef, FakeDatasetRef, OpaqueTableStorage

from ._bridge import InMemoryBridge
from ._journal import check_transaction

TrashContents = tuple[list[tuple[DatasetIdRef, StoredDatastoreItemInfo | None]], set[str] | None]


class InMemoryEphemeralBridge(InMemoryBridge):
    """A bridge that behaves as daf_butler's ephemeral bridge.

    What it records lives in memory only, as upstream's does, so an open
    registry transaction does not cover it; only ``moveToTrash`` is undone,
    by the datastore transaction it must be given.

    Notes
    -----
    As upstream:

    - ``insert`` and ``ensure`` both accept IDs that are already recorded.
    - ``moveToTrash`` raises `RuntimeError` without a transaction, and trashes
      any ID it is given, recorded or not. A trashed ID stays in
      `inserted_ids` until the trash is emptied, but ``check`` and ``in`` no
      longer report it.
    - ``emptyTrash`` needs ``record_class`` when given a records table
      (`ValueError`), yields the table's rows for the trashed IDs (or
      ``(ref, None)`` without a table), never reports artifacts to keep
      (yields `None`, so the datastore works that out itself), treats
      ``selected_ids=set()`` as "nothing", and after a clean exit deletes
      the rows of every selected ID and forgets the IDs.

    Where upstream is defective, this one is correct:

    - A rollback of ``moveToTrash`` untrashes only the IDs that call trashed:
      upstream's also untrashes IDs that were trashed before, and fails if
      the trash was emptied in between.
    - A records table that is not an ``OpaqueTableStorage`` raises
      `TypeError` instead of being ignored.
    """

    ephemeral = True

    def _is_present(self, dataset_id: DatasetId) -> bool:
        return dataset_id in self._stored and dataset_id not in self._trashed

    def insert(self, refs: Iterable[DatasetIdRef]) -> None:
        """Record datasets as held by the datastore; repeats are fine.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets.

        Raises
        ------
        TypeError
            Raised if an element is not a dataset reference.
        """
        self._add(refs, "insert")

    def ensure(self, refs: Iterable[DatasetIdRef]) -> None:
        """Record datasets as held by the datastore; repeats are fine.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets.

        Raises
        ------
        TypeError
            Raised if an element is not a dataset reference.
        """
        self._add(refs, "ensure")

    def _add(self, refs: Iterable[DatasetIdRef], operation: Literal["insert", "ensure"]) -> None:
        ids = dict.fromkeys(self._ids_of(refs, operation))
        with self._journal.lock:
            self._stored.update(ids)
            self._record(operation, ids)

    def forget(self, refs: Iterable[DatasetIdRef]) -> None:
        """Stop recording datasets, without trashing them.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets; unknown ones are ignored. A trashed ID stays in the
            trash, as upstream.

        Raises
        ------
        TypeError
            Raised if an element is not a dataset reference.
        """
        ids = dict.fromkeys(self._ids_of(refs, "forget"))
        with self._journal.lock:
            for dataset_id in ids:
                self._stored.pop(dataset_id, None)
            self._record("forget", ids)

    def moveToTrash(self, refs: Iterable[DatasetIdRef], transaction: DatastoreTransaction | None) -> None:
        """Trash datasets; a rollback of ``transaction`` untrashes them.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets, recorded or not.
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`
            Required.

        Raises
        ------
        RuntimeError
            Raised if ``transaction`` is `None`.
        TypeError
            Raised if ``transaction`` is not a datastore transaction or an
            element of ``refs`` is not a dataset reference.
        """
        if transaction is None:
            raise RuntimeError(
                f"Bridge {self.datastoreName!r}: the ephemeral moveToTrash() must be given a "
                "transaction, so that a rollback can untrash the datasets."
            )
        checked = check_transaction(transaction, "moveToTrash")
        assert checked is not None
        ids = dict.fromkeys(self._ids_of(refs, "moveToTrash"))
        with self._journal.lock:
            newly_trashed = [dataset_id for dataset_id in ids if dataset_id not in self._trashed]
            self._trashed.update(dict.fromkeys(newly_trashed))
            self._record("moveToTrash", ids)

        def untrash() -> None:
            with self._journal.lock:
                restored = [dataset_id for dataset_id in newly_trashed if dataset_id in self._trashed]
                for dataset_id in restored:
                    del self._trashed[dataset_id]
                self._record("moveToTrash", restored, rollback=True)

        checked.registerUndo(f"moveToTrash {len(newly_trashed)} datasets in {self.datastoreName}", untrash)

    @contextlib.contextmanager
    def emptyTrash(
        self,
        records_table: OpaqueTableStorage | None = None,
        record_class: type[StoredDatastoreItemInfo] | None = None,
        record_column: str | None = None,
        selected_ids: Collection[DatasetId] | None = None,
        dry_run: bool = False,
    ) -> Iterator[TrashContents]:
        """Yield what is in the trash; forget it if the block exits cleanly.

        Parameters
        ----------
        records_table : `~lsst.daf.butler.registry.interfaces.OpaqueTableStorage`, optional
            The datastore's records, keyed by a ``dataset_id`` column.
        record_class : `type`, optional
            Reads a row of ``records_table``; required with it.
        record_column : `str`, optional
            Ignored: the ephemeral flavour never reports artifacts to keep.
        selected_ids : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetId`], optional
            Only these trashed IDs; an empty collection selects nothing.
        dry_run : `bool`, optional
            Report, but delete nothing.

        Yields
        ------
        contents : `tuple`
            A list of ``(FakeDatasetRef, record or None)`` and `None` (no
            knowledge of artifacts to keep).

        Raises
        ------
        ValueError
            Raised if ``records_table`` is given without ``record_class``.
        TypeError
            Raised if ``records_table`` is not an opaque table or
            ``selected_ids`` holds something other than dataset IDs.
        """
        table = self._check_empty_trash_arguments(records_table, record_class, selected_ids)
        with self._journal.lock:
            selection = self._selected_trash(selected_ids, empty_means_all=False)
        matches: list[tuple[DatasetIdRef, StoredDatastoreItemInfo | None]]
        if table is None:
            matches = [(FakeDatasetRef(dataset_id), None) for dataset_id in selection]
        else:
            assert record_class is not None
            rows = table.fetch(dataset_id=selection) if selection else ()
            matches = [(FakeDatasetRef(row["dataset_id"]), record_class.from_record(row)) for row in rows]
        yield matches, None
        if dry_run:
            return
        with self._journal.lock:
            removed = [dataset_id for dataset_id in selection if dataset_id in self._trashed]
            if table is not None and removed:
                table.delete(["dataset_id"], *({"dataset_id": dataset_id} for dataset_id in removed))
            for dataset_id in removed:
                del self._trashed[dataset_id]
                self._stored.pop(dataset_id, None)
            self._record("emptyTrash", removed)

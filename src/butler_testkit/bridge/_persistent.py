"""`InMemoryPersistentBridge`: the bridge a SQL registry gives a file datastore."""

from __future__ import annotations

__all__ = ("InMemoryPersistentBridge",)

import contextlib
from collections.abc import Collection, Iterable, Iterator
from typing import Literal

from lsst.daf.butler import DatasetId
from lsst.daf.butler.datastore import DatastoreTransaction
from lsst.daf.butler.datastore.stored_file_info import StoredDatastoreItemInfo
from lsst.daf.butler.registry.interfaces import DatasetIdRef, FakeDatasetRef, OpaqueTableStorage

from ._bridge import InMemoryBridge
from ._ephemeral import TrashContents
from ._errors import ConstraintViolationError, SchemaMismatchError
from ._journal import check_transaction
from ._opaque_table import InMemoryOpaqueTable


class InMemoryPersistentBridge(InMemoryBridge):
    """A bridge that behaves as daf_butler's SQL (monolithic) bridge.

    Its records stand for rows of the registry's ``dataset_location`` and
    ``dataset_location_trash`` tables, so, like them, every change is undone
    when an enclosing registry transaction (`InMemoryBridgeManager.transaction`)
    rolls back, and only then.

    Notes
    -----
    As the SQL bridge:

    - ``insert`` of an ID that is already recorded (or twice in one call)
      raises `ConstraintViolationError` and records nothing; ``ensure`` skips
      recorded IDs.
    - Given the registry's dataset table (``datasets``), ``insert`` and
      ``ensure`` of an ID the registry does not know raise
      `ConstraintViolationError` and record nothing, as the SQL table's
      foreign key does.
    - ``moveToTrash`` moves recorded IDs to the trash, ignores unknown ones
      and ignores its ``transaction`` argument: the database transaction is
      what undoes it. Trashing an ID that is already in the trash (recorded
      again after an earlier trash) breaks the trash table's primary key:
      `ConstraintViolationError`.
    - ``check`` and ``in`` report recorded IDs; trashed ones have moved out.
    - ``emptyTrash`` requires a records table (`ValueError`) and
      ``record_class``; it yields the table's rows for the selected trashed
      IDs and, given ``record_column``, the set of artifacts (values of that
      column) still referenced by datasets this datastore holds, which must
      be kept. A trashed ID without rows in the table is neither yielded nor
      removed. An empty ``selected_ids`` selects the whole trash, as the SQL
      bridge does. After a clean exit (and unless ``dry_run``) it deletes the
      yielded rows and their trash entries.

    The SQL bridge needs daf_butler's own SQL table class for ``emptyTrash``;
    this one works with any ``OpaqueTableStorage`` whose rows have a
    ``dataset_id`` column.
    """

    ephemeral = False

    def _is_present(self, dataset_id: DatasetId) -> bool:
        return dataset_id in self._stored

    def insert(self, refs: Iterable[DatasetIdRef]) -> None:
        """Record datasets as held by the datastore.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets.

        Raises
        ------
        ConstraintViolationError
            Raised if an ID is already recorded, given twice, or unknown to
            the registry's dataset table.
        TypeError
            Raised if an element is not a dataset reference.
        """
        ids = self._ids_of(refs, "insert")
        self._check_known(ids, "insert")
        with self._journal.lock:
            seen: set[DatasetId] = set()
            for dataset_id in ids:
                if dataset_id in self._stored or dataset_id in seen:
                    raise ConstraintViolationError(
                        f"Bridge {self.datastoreName!r}: insert() of dataset {dataset_id}, which is "
                        f"{'already recorded' if dataset_id in self._stored else 'given twice'}; "
                        "use ensure() to accept recorded datasets."
                    )
                seen.add(dataset_id)
            self._store(ids, "insert")

    def ensure(self, refs: Iterable[DatasetIdRef]) -> None:
        """Record datasets as held by the datastore, skipping recorded ones.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets.

        Raises
        ------
        ConstraintViolationError
            Raised if an ID is unknown to the registry's dataset table.
        TypeError
            Raised if an element is not a dataset reference.
        """
        ids = self._ids_of(refs, "ensure")
        self._check_known(ids, "ensure")
        with self._journal.lock:
            self._store([dataset_id for dataset_id in ids if dataset_id not in self._stored], "ensure")

    def _check_known(self, ids: list[DatasetId], operation: str) -> None:
        datasets = self._datasets
        if datasets is None:
            return
        unknown = next((dataset_id for dataset_id in ids if dataset_id not in datasets), None)
        if unknown is not None:
            raise ConstraintViolationError(
                f"Bridge {self.datastoreName!r}: {operation}() of dataset {unknown}, which the registry "
                "does not know (the foreign key to its dataset table); nothing was recorded."
            )

    def _store(self, new_ids: list[DatasetId], operation: Literal["insert", "ensure"]) -> None:
        added = list(dict.fromkeys(new_ids))
        self._stored.update(dict.fromkeys(added))
        self._record(operation, added)

        def unstore() -> None:
            with self._journal.lock:
                undone = [dataset_id for dataset_id in added if dataset_id in self._stored]
                for dataset_id in undone:
                    del self._stored[dataset_id]
                self._record(operation, undone, rollback=True)

        self._journal.record(unstore)

    def forget(self, refs: Iterable[DatasetIdRef]) -> None:
        """Stop recording datasets, without trashing them.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets; unknown ones are ignored, and the trash is untouched.

        Raises
        ------
        TypeError
            Raised if an element is not a dataset reference.
        """
        ids = dict.fromkeys(self._ids_of(refs, "forget"))
        with self._journal.lock:
            forgotten = [dataset_id for dataset_id in ids if dataset_id in self._stored]
            for dataset_id in forgotten:
                del self._stored[dataset_id]
            self._record("forget", ids)

            def unforget() -> None:
                with self._journal.lock:
                    undone = [dataset_id for dataset_id in forgotten if dataset_id not in self._stored]
                    self._stored.update(dict.fromkeys(undone))
                    self._record("forget", undone, rollback=True)

            self._journal.record(unforget)

    def moveToTrash(self, refs: Iterable[DatasetIdRef], transaction: DatastoreTransaction | None) -> None:
        """Move recorded datasets to the trash.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef` or ``FakeDatasetRef``]
            The datasets; those not recorded are ignored.
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction` or `None`
            Ignored, as by the SQL bridge: a registry transaction undoes this.

        Raises
        ------
        ConstraintViolationError
            Raised if a recorded ID is also still in the trash.
        TypeError
            Raised if ``transaction`` is not a datastore transaction or an
            element of ``refs`` is not a dataset reference.
        """
        check_transaction(transaction, "moveToTrash")
        ids = dict.fromkeys(self._ids_of(refs, "moveToTrash"))
        with self._journal.lock:
            moving = [dataset_id for dataset_id in ids if dataset_id in self._stored]
            clash = next((dataset_id for dataset_id in moving if dataset_id in self._trashed), None)
            if clash is not None:
                raise ConstraintViolationError(
                    f"Bridge {self.datastoreName!r}: moveToTrash() of dataset {clash}, which is "
                    "recorded and also still in the trash from an earlier trash; empty the trash first."
                )
            for dataset_id in moving:
                del self._stored[dataset_id]
                self._trashed[dataset_id] = None
            self._record("moveToTrash", ids)

            def untrash() -> None:
                with self._journal.lock:
                    undone = [
                        dataset_id
                        for dataset_id in moving
                        if dataset_id in self._trashed and dataset_id not in self._stored
                    ]
                    for dataset_id in undone:
                        del self._trashed[dataset_id]
                        self._stored[dataset_id] = None
                    self._record("moveToTrash", undone, rollback=True)

            self._journal.record(untrash)

    @contextlib.contextmanager
    def emptyTrash(
        self,
        records_table: OpaqueTableStorage | None = None,
        record_class: type[StoredDatastoreItemInfo] | None = None,
        record_column: str | None = None,
        selected_ids: Collection[DatasetId] | None = None,
        dry_run: bool = False,
    ) -> Iterator[TrashContents]:
        """Yield what is in the trash; delete it if the block exits cleanly.

        Parameters
        ----------
        records_table : `~lsst.daf.butler.registry.interfaces.OpaqueTableStorage`
            The datastore's records, keyed by a ``dataset_id`` column. Required.
        record_class : `type`
            Reads a row of ``records_table``. Required.
        record_column : `str`, optional
            Column naming the artifact; if given, artifacts that datasets still
            held by the datastore also use are reported, to be kept.
        selected_ids : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetId`], optional
            Only these trashed IDs; `None` or an empty collection means all.
        dry_run : `bool`, optional
            Report, but delete nothing.

        Yields
        ------
        contents : `tuple`
            A list of ``(FakeDatasetRef, record)``, and the set of artifacts
            to keep (`None` without ``record_column``).

        Raises
        ------
        ValueError
            Raised if ``records_table`` or ``record_class`` is missing.
        TypeError
            Raised if ``records_table`` is not an opaque table or
            ``selected_ids`` holds something other than dataset IDs.
        SchemaMismatchError
            Raised if ``record_column`` is not a column of the table.
        """
        if records_table is None:
            raise ValueError(
                f"Bridge {self.datastoreName!r}: the persistent emptyTrash() needs the datastore's "
                "records table."
            )
        table = self._check_empty_trash_arguments(records_table, record_class, selected_ids)
        assert table is not None
        assert record_class is not None
        if (
            record_column is not None
            and isinstance(table, InMemoryOpaqueTable)
            and record_column not in table.columns
        ):
            raise SchemaMismatchError(
                f"Bridge {self.datastoreName!r}: record_column {record_column!r} is not a column of "
                f"opaque table {table.name!r}; its columns are {list(table.columns)}."
            )
        with self._journal.lock:
            selection = self._selected_trash(selected_ids, empty_means_all=True)
        rows = list(table.fetch(dataset_id=selection)) if selection else []
        to_keep: set[str] | None = None
        if record_column is not None:
            artifacts = list(dict.fromkeys(row[record_column] for row in rows))
            with self._journal.lock:
                stored = self._stored
                to_keep = (
                    {
                        row[record_column]
                        for row in table.fetch(**{record_column: artifacts})
                        if row["dataset_id"] in stored
                    }
                    if artifacts
                    else set()
                )
        matches: list[tuple[DatasetIdRef, StoredDatastoreItemInfo | None]] = [
            (FakeDatasetRef(row["dataset_id"]), record_class.from_record(row)) for row in rows
        ]
        yield matches, to_keep
        if dry_run:
            return
        with self._journal.lock:
            trashed = self._trashed
            removed = [
                dataset_id
                for dataset_id in dict.fromkeys(row["dataset_id"] for row in rows)
                if dataset_id in trashed
            ]
            if removed:
                table.delete(["dataset_id"], *({"dataset_id": dataset_id} for dataset_id in removed))
            for dataset_id in removed:
                del trashed[dataset_id]
            self._record("emptyTrash", removed)

            def retrash() -> None:
                with self._journal.lock:
                    undone = [dataset_id for dataset_id in removed if dataset_id not in self._trashed]
                    self._trashed.update(dict.fromkeys(undone))
                    self._record("emptyTrash", undone, rollback=True)

            self._journal.record(retrash)

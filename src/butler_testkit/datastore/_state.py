"""The stored state of an in-memory datastore, shared by all of its clones."""

from __future__ import annotations

__all__ = ("DatastoreState", "StateSnapshot", "StoredDataset")

import collections
import errno
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from lsst.daf.butler import DatasetRef

from ._artifacts import ArtifactDirectory
from ._listing import first_few
from ._refs import dataset_key

if TYPE_CHECKING:
    from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
    from lsst.resources import ResourcePath

    from ._serialization import SerializedDataset


class StoredDataset:
    """One stored dataset: the object, its reference, and its trash flag.

    Parameters
    ----------
    obj : `object`
        The stored Python object (a private copy under ``copy`` isolation,
        a `SerializedDataset` under ``serialize`` isolation).
    ref : `~lsst.daf.butler.DatasetRef`
        The reference given to ``put``; its storage class is the write
        storage class and it names the dataset in URIs.
    stored_at : `float`, optional
        When it was stored, on the datastore's clock; only kept when
        datasets expire.
    size : `int`, optional
        Its serialized size in bytes, counted against a capacity; 0 when
        not measured.
    """

    # Slots keep the per-dataset bookkeeping at one small object; every
    # extra object per dataset would cost memory and, at 100k datasets, a
    # cache miss on every removal.
    __slots__ = ("obj", "ref", "size", "stored_at", "trashed")

    def __init__(self, obj: Any, ref: DatasetRef, stored_at: float | None = None, size: int = 0) -> None:
        self.obj = obj
        self.ref = ref
        self.stored_at = stored_at
        self.size = size
        self.trashed = False

    def __repr__(self) -> str:
        return f"StoredDataset({self.ref}{', trashed' if self.trashed else ''})"


class StateSnapshot:
    """The whole stored state of a datastore at one moment.

    Made by `DatastoreState.snapshot`; opaque, and safe to keep while the
    datastore changes.

    Parameters
    ----------
    origin : `DatastoreState`
        The state the snapshot was taken of.
    datasets : `dict` [`int`, `StoredDataset`]
        The stored datasets (the entries are shared, not copied).
    trashed : `list` [`int`]
        Keys of the trashed datasets, in trash order.
    used_bytes : `int`, optional
        Sum of the measured sizes of the datasets.
    """

    __slots__ = ("_datasets", "_origin", "_trashed", "_used_bytes")

    def __init__(
        self,
        origin: DatastoreState,
        datasets: dict[int, StoredDataset],
        trashed: list[int],
        used_bytes: int = 0,
    ) -> None:
        self._origin = weakref.ref(origin)
        self._datasets = datasets
        self._trashed = trashed
        self._used_bytes = used_bytes

    def __len__(self) -> int:
        return len(self._datasets)

    def __repr__(self) -> str:
        return f"<StateSnapshot of {len(self._datasets)} datasets, {len(self._trashed)} trashed>"


# Compact the trash log once it holds this many more keys than it needs.
_COMPACTION_SLACK = 1024


class DatastoreState:
    """What an in-memory datastore holds, behind one lock.

    A datastore and all of its clones share one instance for their whole
    life, trash included, so every clone sees the same datasets. Readers use
    single dictionary look-ups, which are atomic; every change, and every walk
    over the collections, holds `lock`.

    Attributes
    ----------
    lock : `threading.RLock`
        Serialises changes.
    datasets : `dict` [`int`, `StoredDataset`]
        Stored datasets keyed by the integer value of their dataset ID.

    Notes
    -----
    Whether a dataset is trashed is a flag on its entry; the trash itself is
    a log of keys in the order they were trashed, which may also hold keys
    that have since been removed, untrashed or trashed twice. Trashing is
    then one dictionary look-up and a list append per dataset, and emptying
    the trash walks the log in order, usually the order the datasets were
    stored and allocated in. At 100k datasets this is twice as fast as a
    trash kept in a hash set or dict, whose inserts and hash-order walks
    miss the CPU cache at every step, and its cost per dataset stays the
    same as the datastore grows. Stale log entries are dropped as soon as
    they outnumber the live ones, so the log stays proportional to the
    trash.
    """

    __slots__ = (
        "__weakref__",
        "_by_age",
        "_trash_log",
        "_trashed_count",
        "artifacts",
        "datasets",
        "lock",
        "used_bytes",
    )

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.datasets: dict[int, StoredDataset] = {}
        self._trash_log: list[int] = []
        self._trashed_count = 0
        # Entries with a stored_at time, oldest first, for expiry; entries
        # removed otherwise are skipped when they come up.
        self._by_age: collections.deque[tuple[int, StoredDataset]] = collections.deque()
        self.used_bytes = 0
        """Sum of the measured sizes of the stored datasets."""
        self.artifacts = ArtifactDirectory()
        """Files written on demand for the stored datasets."""

    def add(self, key: int, entry: StoredDataset, capacity: int | None = None) -> None:
        """Store a new dataset.

        Parameters
        ----------
        key : `int`
            Integer dataset ID.
        entry : `StoredDataset`
            What to store.
        capacity : `int`, optional
            Byte limit that the stored sizes must stay within.

        Raises
        ------
        FileExistsError
            Raised if a dataset with this ID is already stored; nothing is
            changed.
        OSError
            Raised with ``errno.ENOSPC`` if storing the dataset would exceed
            ``capacity``; nothing is changed.
        """
        with self.lock:
            existing = self.datasets.get(key)
            if existing is not None:
                raise FileExistsError(
                    f"Dataset {entry.ref} is already stored (as {existing.ref}); "
                    "remove it before putting it again."
                )
            if capacity is not None:
                self._check_space(entry.size, capacity, f"dataset {entry.ref}")
            self.datasets[key] = entry
            self.used_bytes += entry.size
            if entry.stored_at is not None:
                self._by_age.append((key, entry))

    def add_all(
        self, entries: Iterable[StoredDataset], capacity: int | None = None, *, dry_run: bool = False
    ) -> list[StoredDataset]:
        """Store several new datasets, all or none.

        Parameters
        ----------
        entries : `~collections.abc.Iterable` [`StoredDataset`]
            What to store, with distinct dataset IDs.
        capacity : `int`, optional
            Byte limit that the stored sizes must stay within.
        dry_run : `bool`, optional
            Check everything, store nothing.

        Returns
        -------
        added : `list` [`StoredDataset`]
            The entries, in order.

        Raises
        ------
        FileExistsError
            Raised if any of the dataset IDs is already stored (or given
            twice), naming them; nothing is changed.
        OSError
            Raised with ``errno.ENOSPC`` if they do not all fit within
            ``capacity``; nothing is changed.
        """
        added = list(entries)
        with self.lock:
            datasets = self.datasets
            seen: set[int] = set()
            clashes = []
            for entry in added:
                key = dataset_key(entry.ref)
                if key in datasets or key in seen:
                    clashes.append(entry.ref)
                seen.add(key)
            if clashes:
                raise FileExistsError(
                    f"{len(clashes)} dataset(s) are already stored: {first_few(clashes)}; nothing was stored."
                )
            total = sum(entry.size for entry in added)
            if capacity is not None:
                self._check_space(total, capacity, f"{len(added)} dataset(s)")
            if dry_run:
                return added
            for entry in added:
                key = dataset_key(entry.ref)
                datasets[key] = entry
                if entry.stored_at is not None:
                    self._by_age.append((key, entry))
            self.used_bytes += total
        return added

    def _check_space(self, size: int, capacity: int, what: str) -> None:
        if self.used_bytes + size > capacity:
            raise OSError(
                errno.ENOSPC,
                f"No space left for {what} ({size} bytes): {self.used_bytes} of the datastore's "
                f"capacity_bytes={capacity} are in use; nothing was stored",
            )

    def artifact_for(
        self, key: int, entry: StoredDataset, produce: Callable[[], SerializedDataset]
    ) -> tuple[StoredFileInfo, ResourcePath]:
        """Return the file record of a stored dataset, writing its file if needed.

        Parameters
        ----------
        key : `int`
            Integer dataset ID.
        entry : `StoredDataset`
            The stored dataset.
        produce : `~collections.abc.Callable`
            Returns the dataset's serialized form, if the file must be
            written.

        Returns
        -------
        info : `~lsst.daf.butler.datastore.stored_file_info.StoredFileInfo`
            Formatter, path relative to the artifact directory, storage
            class and size.
        uri : `~lsst.resources.ResourcePath`
            The file's absolute URI (marked temporary).

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is no longer stored.
        """
        # Under the lock, so that no file is ever written for a dataset
        # that a concurrent removal has already dropped, and the URI names
        # the directory the file was written to even if another thread
        # releases the artifacts right after.
        with self.lock:
            if self.datasets.get(key) is not entry:
                raise FileNotFoundError(f"Dataset {entry.ref} is no longer stored.")
            info = self.artifacts.file_for(key, entry, produce)
            return info, self.artifacts.root.join(info.path, forceDirectory=False)

    def artifact_root(self) -> ResourcePath:
        """Return the directory of the files written on demand, creating it if needed.

        Returns
        -------
        root : `~lsst.resources.ResourcePath`
            The directory (a temporary resource).
        """
        with self.lock:
            return self.artifacts.root

    def release_artifacts(self) -> None:
        """Delete every file written on demand (they are written again when needed)."""
        with self.lock:
            self.artifacts.release()

    def expire(self, cutoff: float) -> int:
        """Remove every dataset stored at or before ``cutoff``.

        Parameters
        ----------
        cutoff : `float`
            Time on the clock the ``stored_at`` times were read from.

        Returns
        -------
        expired : `int`
            How many datasets were removed.

        Notes
        -----
        Puts come in time order, so this only looks at the oldest entries:
        constant time when nothing has expired.
        """
        expired = 0
        with self.lock:
            by_age = self._by_age
            while by_age:
                key, entry = by_age[0]
                if entry.stored_at is not None and entry.stored_at > cutoff:
                    break
                by_age.popleft()
                if self.datasets.get(key) is entry:
                    self._drop(key, entry)
                    expired += 1
            if expired:
                self._compact_if_stale()
        return expired

    def discard(self, key: int, entry: StoredDataset) -> None:
        """Drop ``entry`` if it is still the one stored under ``key``.

        Parameters
        ----------
        key : `int`
            Integer dataset ID.
        entry : `StoredDataset`
            The entry to drop. If another entry has since taken the key (the
            dataset was removed and put again) it is left alone, so undoing an
            old put can never delete newer data.
        """
        with self.lock:
            if self.datasets.get(key) is entry:
                self._drop(key, entry)
                self._compact_if_stale()

    def _drop(self, key: int, entry: StoredDataset) -> None:
        del self.datasets[key]
        self.used_bytes -= entry.size
        if entry.trashed:
            self._trashed_count -= 1
        if self.artifacts:
            self.artifacts.discard((key,))

    def move_to_trash(self, keys: Iterable[int]) -> list[int]:
        """Trash the stored datasets among ``keys``.

        Parameters
        ----------
        keys : `~collections.abc.Iterable` [`int`]
            Integer dataset IDs; unknown and already trashed ones are skipped.

        Returns
        -------
        newly_trashed : `list` [`int`]
            The keys this call trashed: what undoing it must restore.
        """
        with self.lock:
            get = self.datasets.get
            log = self._trash_log
            start = len(log)
            for key in keys:
                entry = get(key)
                if entry is not None and not entry.trashed:
                    entry.trashed = True
                    log.append(key)
            newly_trashed = log[start:]
            self._trashed_count += len(newly_trashed)
            return newly_trashed

    def restore_from_trash(self, keys: Iterable[int]) -> None:
        """Take ``keys`` out of the trash (the undo of `move_to_trash`).

        Parameters
        ----------
        keys : `~collections.abc.Iterable` [`int`]
            Integer dataset IDs; those not in the trash are skipped.
        """
        with self.lock:
            get = self.datasets.get
            for key in keys:
                entry = get(key)
                if entry is not None and entry.trashed:
                    entry.trashed = False
                    self._trashed_count -= 1
            self._compact_if_stale()

    def trashed(self, selected: Iterable[int] | None = None) -> list[StoredDataset]:
        """Return the trashed datasets, optionally narrowed to ``selected``.

        Parameters
        ----------
        selected : `~collections.abc.Iterable` [`int`], optional
            Keys to consider; `None` means the whole trash.

        Returns
        -------
        trashed : `list` [`StoredDataset`]
            The entries, in trash order (or selection order), each once.
        """
        with self.lock:
            candidates = self._trash_log if selected is None else selected
            return [entry for _, entry in self._live_trash(candidates)]

    def pop_trash(self, selected: Iterable[int] | None) -> list[StoredDataset]:
        """Delete trashed datasets for good.

        Parameters
        ----------
        selected : `~collections.abc.Iterable` [`int`] or `None`
            Keys to delete; `None` means the whole trash. Keys that are not in
            the trash are ignored.

        Returns
        -------
        removed : `list` [`StoredDataset`]
            The entries that were deleted.
        """
        with self.lock:
            datasets = self.datasets
            get = datasets.get
            removed = []
            # Walk the smaller side: the whole log, or just the selection, so
            # that emptying the trash a chunk at a time stays linear however
            # much else is in the trash. A key seen twice is gone the second
            # time.
            freed = 0
            for key in self._trash_log if selected is None else selected:
                entry = get(key)
                if entry is not None and entry.trashed:
                    del datasets[key]
                    freed += entry.size
                    removed.append(entry)
            self._trashed_count -= len(removed)
            self.used_bytes -= freed
            if self.artifacts:
                self.artifacts.discard(dataset_key(entry.ref) for entry in removed)
            if selected is None:
                self._trash_log = []
            else:
                self._compact_if_stale()
            return removed

    def pop(self, keys: Iterable[int]) -> list[tuple[int, StoredDataset]]:
        """Delete the stored datasets among ``keys``, trashed or not.

        Parameters
        ----------
        keys : `~collections.abc.Iterable` [`int`]
            Integer dataset IDs; unknown ones are skipped.

        Returns
        -------
        removed : `list` [`tuple` [`int`, `StoredDataset`]]
            Keys and entries that were deleted (entries keep their trash
            flag), for an undo to put back.
        """
        with self.lock:
            get = self.datasets.get
            removed = []
            for key in keys:
                entry = get(key)
                if entry is not None:
                    self._drop(key, entry)
                    removed.append((key, entry))
            self._compact_if_stale()
            return removed

    def put_back(self, removed: Iterable[tuple[int, StoredDataset]]) -> list[StoredDataset]:
        """Reinstate entries returned by `pop` (the undo of ``forget``).

        Parameters
        ----------
        removed : `~collections.abc.Iterable` [`tuple` [`int`, `StoredDataset`]]
            Keys and entries to reinstate, trashed ones into the trash.

        Returns
        -------
        conflicts : `list` [`StoredDataset`]
            Entries that were not reinstated because their ID has been stored
            again since; the newer data wins.

        Notes
        -----
        An undo never fails for want of space: reinstating may leave the
        state over a datastore's ``capacity_bytes`` until something is
        removed: a rollback restores what was there before.
        """
        with self.lock:
            datasets = self.datasets
            conflicts = []
            for key, entry in removed:
                if key in datasets:
                    conflicts.append(entry)
                    continue
                datasets[key] = entry
                self.used_bytes += entry.size
                if entry.trashed:
                    self._trashed_count += 1
                    self._trash_log.append(key)
                if entry.stored_at is not None:
                    self._by_age.append((key, entry))
            if any(entry.stored_at is not None for _, entry in removed):
                self._sort_by_age()
            return conflicts

    def _sort_by_age(self) -> None:
        live = ((key, entry) for key, entry in self._by_age if self.datasets.get(key) is entry)
        self._by_age = collections.deque(sorted(live, key=lambda item: item[1].stored_at or 0.0))

    def snapshot(self) -> StateSnapshot:
        """Capture every stored dataset and the trash.

        Returns
        -------
        snapshot : `StateSnapshot`
            The state now. It shares the stored objects, which nothing in the
            datastore ever modifies; it costs a dictionary copy.
        """
        with self.lock:
            trashed = [key for key, _ in self._live_trash(self._trash_log)]
            return StateSnapshot(self, dict(self.datasets), trashed, self.used_bytes)

    def restore(self, snapshot: StateSnapshot) -> None:
        """Make the state what it was when ``snapshot`` was taken.

        Parameters
        ----------
        snapshot : `StateSnapshot`
            A snapshot of this state, or of another one (whose entries are
            then copied, since an entry's trash flag belongs to one state).
        """
        with self.lock:
            datasets = self.datasets
            datasets.clear()
            if snapshot._origin() is self:
                datasets.update(snapshot._datasets)
                for entry in datasets.values():
                    entry.trashed = False
            else:
                datasets.update(
                    (key, StoredDataset(entry.obj, entry.ref, entry.stored_at, entry.size))
                    for key, entry in snapshot._datasets.items()
                )
            self.used_bytes = snapshot._used_bytes
            if self.artifacts:
                self.artifacts.discard_stale(datasets)
            self._by_age = collections.deque(
                (key, entry) for key, entry in datasets.items() if entry.stored_at is not None
            )
            self._sort_by_age()
            for key in snapshot._trashed:
                datasets[key].trashed = True
            self._trash_log = list(snapshot._trashed)
            self._trashed_count = len(snapshot._trashed)

    def trash_log_length(self) -> int:
        """Return the length of the trash log (for tests of its compaction).

        Returns
        -------
        length : `int`
            Keys in the log, stale ones included.
        """
        return len(self._trash_log)

    def _compact_if_stale(self) -> None:
        log = self._trash_log
        if len(log) > 2 * self._trashed_count + _COMPACTION_SLACK:
            self._trash_log = [key for key, _ in self._live_trash(log)]

    def _live_trash(self, keys: Iterable[int]) -> list[tuple[int, StoredDataset]]:
        """Return each trashed dataset among ``keys`` once, in order."""
        get = self.datasets.get
        pairs = ((key, get(key)) for key in dict.fromkeys(keys))
        return [(key, entry) for key, entry in pairs if entry is not None and entry.trashed]

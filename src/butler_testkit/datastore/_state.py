"""The stored state of an in-memory datastore, shared by all of its clones."""

from __future__ import annotations

__all__ = ("DatastoreState", "StateSnapshot", "StoredDataset", "TrashChange")

import collections
import errno
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from lsst.daf.butler import DatasetRef

from ._artifacts import ArtifactDirectory
from ._listing import first_few
from ._refs import dataset_key

if TYPE_CHECKING:
    from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
    from lsst.resources import ResourcePath

    from ._serialization import SerializedDataset


class StoredDataset:
    """One stored dataset: the object, its reference, and its trash mark.

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
    known_by : `object`, optional
        The record scopes (registry databases) that know the dataset: `None`,
        one scope, or a `frozenset` of them; only read by datastores that
        share a repository's datasets (see ``InMemoryDatastore``).

    Notes
    -----
    ``trash_mark`` is `None`, or the mark of the `TrashChange` that put the
    dataset in the trash: undoing that change takes the dataset out of the
    trash only if the mark is still its own.
    """

    # Slots keep the per-dataset bookkeeping at one small object; every
    # extra object per dataset would cost memory and, at 100k datasets, a
    # cache miss on every removal.
    __slots__ = ("known_by", "obj", "ref", "size", "stored_at", "trash_mark")

    def __init__(
        self,
        obj: Any,
        ref: DatasetRef,
        stored_at: float | None = None,
        size: int = 0,
        known_by: object = None,
    ) -> None:
        self.known_by = known_by
        self.obj = obj
        self.ref = ref
        self.stored_at = stored_at
        self.size = size
        self.trash_mark: object | None = None

    @property
    def trashed(self) -> bool:
        """Whether the dataset is in the trash (`bool`)."""
        return self.trash_mark is not None

    def __repr__(self) -> str:
        return f"StoredDataset({self.ref}{', trashed' if self.trash_mark is not None else ''})"


class TrashChange(NamedTuple):
    """What one `DatastoreState.move_to_trash` call did, for its undo."""

    keys: list[int]
    """Integer dataset IDs it put in the trash."""

    mark: object
    """The mark it left on their entries."""


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
    """

    __slots__ = ("_datasets", "_origin", "_trashed")

    def __init__(
        self, origin: DatastoreState, datasets: dict[int, StoredDataset], trashed: list[int]
    ) -> None:
        self._origin = weakref.ref(origin)
        self._datasets = datasets
        self._trashed = trashed

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
    Beside `datasets` the state keeps indexes: the bytes used, the trash
    count and log, the datasets by age (for expiry) and the files written
    for them. Every entry enters through one private method and leaves
    through one, which update every index, so an index never holds a
    dataset the state no longer stores (`index_problems` checks this).

    Whether a dataset is trashed is a mark on its entry; the trash itself is
    a log of keys in the order they were trashed, which may also hold keys
    that have since been removed, untrashed or trashed twice. Trashing is
    then one dictionary look-up and a list append per dataset, and emptying
    the trash walks the log in order, usually the order the datasets were
    stored and allocated in. At 100k datasets this is twice as fast as a
    trash kept in a hash set or dict, whose inserts and hash-order walks
    miss the CPU cache at every step, and its cost per dataset stays the
    same as the datastore grows. The log holds keys, never entries, and
    stale keys are dropped as soon as they outnumber the live ones, so it
    stays proportional to the trash.
    """

    __slots__ = (
        "__weakref__",
        "_ages_unsorted",
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
        # Exactly the entries with a stored_at time, oldest first once
        # sorted: puts come in time order, so sorting is rarely needed.
        self._by_age: collections.OrderedDict[int, StoredDataset] = collections.OrderedDict()
        self._ages_unsorted = False
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
            self._insert(key, entry)

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
            Raised if any of the dataset IDs is already stored, or given
            more than once, naming them; nothing is changed.
        OSError
            Raised with ``errno.ENOSPC`` if they do not all fit within
            ``capacity``; nothing is changed.
        """
        added = list(entries)
        with self.lock:
            datasets = self.datasets
            seen: set[int] = set()
            stored: list[DatasetRef] = []
            repeated: list[DatasetRef] = []
            for entry in added:
                key = dataset_key(entry.ref)
                if key in seen:
                    repeated.append(entry.ref)
                elif key in datasets:
                    stored.append(entry.ref)
                seen.add(key)
            if stored or repeated:
                problems = []
                if stored:
                    problems.append(f"{len(stored)} dataset(s) are already stored: {first_few(stored)}")
                if repeated:
                    problems.append(
                        f"{len(repeated)} dataset(s) are given more than once: {first_few(repeated)}"
                    )
                raise FileExistsError("; ".join(problems) + "; nothing was stored.")
            total = sum(entry.size for entry in added)
            if capacity is not None:
                self._check_space(total, capacity, f"{len(added)} dataset(s)")
            if dry_run:
                return added
            for entry in added:
                self._insert(dataset_key(entry.ref), entry)
        return added

    def _check_space(self, size: int, capacity: int, what: str, in_use: int | None = None) -> None:
        used = self.used_bytes if in_use is None else in_use
        if used + size > capacity:
            raise OSError(
                errno.ENOSPC,
                f"No space left for {what} ({size} bytes): {used} of the datastore's "
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
        The age index holds exactly the datasets with a storage time, oldest
        first, so this looks only at those that expire and one more:
        constant time when nothing has expired.
        """
        with self.lock:
            by_age = self._by_age
            if not by_age:
                return 0
            if self._ages_unsorted:
                self._by_age = by_age = collections.OrderedDict(
                    sorted(by_age.items(), key=lambda item: item[1].stored_at or 0.0)
                )
                self._ages_unsorted = False
            expired = []
            for key, entry in by_age.items():
                stored_at = entry.stored_at
                if stored_at is not None and stored_at > cutoff:
                    break
                expired.append((key, entry))
            if expired:
                self._remove(expired)
            return len(expired)

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
                self._remove([(key, entry)])

    def _insert(self, key: int, entry: StoredDataset) -> None:
        """Store ``entry`` under a free ``key`` and index it (lock held)."""
        self.datasets[key] = entry
        self.used_bytes += entry.size
        if entry.trash_mark is not None:
            self._trashed_count += 1
            self._trash_log.append(key)
        stored_at = entry.stored_at
        if stored_at is not None:
            by_age = self._by_age
            if by_age and not self._ages_unsorted:
                newest = by_age[next(reversed(by_age))].stored_at
                if newest is not None and stored_at < newest:
                    self._ages_unsorted = True
            by_age[key] = entry

    def _unindex(self, removed: list[tuple[int, StoredDataset]]) -> None:
        """Drop entries just deleted from `datasets` from every index (lock held)."""
        freed = trashed = 0
        by_age = self._by_age
        for key, entry in removed:
            freed += entry.size
            if entry.trash_mark is not None:
                trashed += 1
            if entry.stored_at is not None:
                del by_age[key]
        self.used_bytes -= freed
        self._trashed_count -= trashed
        if self.artifacts:
            self.artifacts.discard(key for key, _ in removed)
        self._compact_if_stale()

    def _remove(self, removed: list[tuple[int, StoredDataset]]) -> None:
        """Take stored entries out of the store and every index (lock held)."""
        datasets = self.datasets
        for key, _ in removed:
            del datasets[key]
        self._unindex(removed)

    def move_to_trash(self, keys: Iterable[int]) -> TrashChange:
        """Trash the stored datasets among ``keys``.

        Parameters
        ----------
        keys : `~collections.abc.Iterable` [`int`]
            Integer dataset IDs; unknown and already trashed ones are skipped.

        Returns
        -------
        change : `TrashChange`
            The keys this call trashed and the mark it left on their
            entries: what `restore_from_trash` needs to undo this call, and
            only this call.
        """
        mark = object()
        with self.lock:
            get = self.datasets.get
            log = self._trash_log
            start = len(log)
            for key in keys:
                entry = get(key)
                if entry is not None and entry.trash_mark is None:
                    entry.trash_mark = mark
                    log.append(key)
            newly_trashed = log[start:]
            self._trashed_count += len(newly_trashed)
            return TrashChange(newly_trashed, mark)

    def restore_from_trash(self, change: TrashChange) -> None:
        """Undo one `move_to_trash` call.

        Parameters
        ----------
        change : `TrashChange`
            What the call returned. Only entries that still carry its mark
            leave the trash: a dataset removed and stored again since, or
            trashed again by someone else, is left alone.
        """
        mark = change.mark
        with self.lock:
            get = self.datasets.get
            for key in change.keys:
                entry = get(key)
                if entry is not None and entry.trash_mark is mark:
                    entry.trash_mark = None
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
            for key in self._trash_log if selected is None else selected:
                entry = get(key)
                if entry is not None and entry.trash_mark is not None:
                    del datasets[key]
                    removed.append((key, entry))
            if selected is None:
                self._trash_log = []
            self._unindex(removed)
            return [entry for _, entry in removed]

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
            mark), for an undo to put back.
        """
        with self.lock:
            datasets = self.datasets
            removed = []
            for key in keys:
                entry = datasets.pop(key, None)
                if entry is not None:
                    removed.append((key, entry))
            self._unindex(removed)
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
                else:
                    self._insert(key, entry)
            return conflicts

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
            return StateSnapshot(self, dict(self.datasets), trashed)

    def restore(
        self,
        snapshot: StateSnapshot,
        *,
        capacity: int | None = None,
        measure: Callable[[StoredDataset], int] | None = None,
        now: float | None = None,
    ) -> None:
        """Make the state what it was when ``snapshot`` was taken.

        The datasets are taken in as the restoring datastore would store
        them: measured against its capacity and timed for its expiry,
        whatever the datastore the snapshot came from did.

        Parameters
        ----------
        snapshot : `StateSnapshot`
            A snapshot of this state, or of another one (whose entries are
            then copied, since an entry's trash mark belongs to one state).
        capacity : `int`, optional
            Byte limit that the restored datasets must fit within.
        measure : `~collections.abc.Callable`, optional
            Returns the size of a dataset that was never measured (size 0);
            needed with ``capacity``.
        now : `float`, optional
            If the restoring datastore expires datasets, the time to give
            those that have none (a dataset keeps the time it was stored at,
            on the datastore's clock); if `None`, restored datasets have no
            storage time and never expire.

        Raises
        ------
        OSError
            Raised with ``errno.ENOSPC`` if the datasets do not fit within
            ``capacity``; nothing is changed.
        Exception
            Whatever ``measure`` raises; nothing is changed.
        """
        own = snapshot._origin() is self
        # Entries are made outside the lock: measuring may serialize.
        entries: dict[int, StoredDataset] = {}
        for key, entry in snapshot._datasets.items():
            stored_at = None if now is None else (now if entry.stored_at is None else entry.stored_at)
            size = entry.size
            if measure is not None and not size:
                size = measure(entry)
            if own and stored_at == entry.stored_at and size == entry.size:
                entries[key] = entry
            else:
                entries[key] = StoredDataset(entry.obj, entry.ref, stored_at, size, entry.known_by)
        total = sum(entry.size for entry in entries.values())
        with self.lock:
            if capacity is not None:
                self._check_space(total, capacity, f"a snapshot of {len(entries)} dataset(s)", in_use=0)
            self.datasets.clear()
            self._by_age.clear()
            self._ages_unsorted = False
            self._trash_log = []
            self._trashed_count = 0
            self.used_bytes = 0
            mark = object()
            trashed = set(snapshot._trashed)
            for key, entry in entries.items():
                entry.trash_mark = mark if key in trashed else None
            for key, entry in entries.items():
                self._insert(key, entry)
            # The trash in its own order, not the order of the datasets.
            self._trash_log = list(snapshot._trashed)
            if self.artifacts:
                self.artifacts.discard_stale(self.datasets)

    def trash_log_length(self) -> int:
        """Return the length of the trash log (for tests of its compaction).

        Returns
        -------
        length : `int`
            Keys in the log, stale ones included.
        """
        return len(self._trash_log)

    def index_problems(self) -> list[str]:
        """Return every way the indexes disagree with the stored datasets (for tests).

        Returns
        -------
        problems : `list` [`str`]
            Empty when every index holds exactly what `datasets` holds: the
            age index the datasets with a storage time, the files only
            stored datasets, the byte and trash counts their sums, and the
            trash log every trashed dataset within its size bound.
        """
        with self.lock:
            datasets = self.datasets
            problems = []
            aged = {key for key, entry in datasets.items() if entry.stored_at is not None}
            if set(self._by_age) != aged or any(datasets.get(k) is not e for k, e in self._by_age.items()):
                extra = len(set(self._by_age) - aged)
                problems.append(
                    f"the age index holds {len(self._by_age)} entries ({extra} not stored) "
                    f"for {len(aged)} stored datasets with a storage time"
                )
            stale_files = self.artifacts.stale(datasets)
            if stale_files:
                problems.append(f"{len(stale_files)} files are kept for datasets no longer stored")
            used = sum(entry.size for entry in datasets.values())
            if used != self.used_bytes:
                problems.append(f"used_bytes is {self.used_bytes}; the stored sizes add up to {used}")
            trashed = {key for key, entry in datasets.items() if entry.trash_mark is not None}
            if len(trashed) != self._trashed_count:
                problems.append(f"the trash count is {self._trashed_count}; {len(trashed)} are trashed")
            if not trashed <= set(self._trash_log):
                problems.append(f"{len(trashed - set(self._trash_log))} trashed datasets are not in the log")
            if len(self._trash_log) > 2 * len(trashed) + _COMPACTION_SLACK:
                problems.append(f"the trash log holds {len(self._trash_log)} keys for {len(trashed)} trashed")
            return problems

    def _compact_if_stale(self) -> None:
        log = self._trash_log
        if len(log) > 2 * self._trashed_count + _COMPACTION_SLACK:
            self._trash_log = [key for key, _ in self._live_trash(log)]

    def _live_trash(self, keys: Iterable[int]) -> list[tuple[int, StoredDataset]]:
        """Return each trashed dataset among ``keys`` once, in order."""
        get = self.datasets.get
        pairs = ((key, get(key)) for key in dict.fromkeys(keys))
        return [(key, entry) for key, entry in pairs if entry is not None and entry.trash_mark is not None]

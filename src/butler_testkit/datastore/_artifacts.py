"""Datasets as files: their paths, and the private directory of files written on demand."""

from __future__ import annotations

__all__ = (
    "WRITING_TRANSFER_MODES",
    "ArtifactDirectory",
    "check_writing_mode",
    "whole_file_info",
)

import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from lsst.daf.butler import DatasetRef
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.resources import ResourcePath

from ._artifact_paths import artifact_path
from ._writing import remove_file, write_atomically

if TYPE_CHECKING:
    from ._serialization import SerializedDataset


class StoredDataset(Protocol):
    """What the artifact directory needs of a stored dataset: its reference.

    Files are kept per stored entry (compared by identity), so the state's
    own entry type fits without this module importing the state.
    """

    @property
    def ref(self) -> DatasetRef:
        """The reference the dataset was stored with."""
        ...


WRITING_TRANSFER_MODES = ("auto", "copy", "link", "symlink", "hardlink", "relsymlink")
"""Modes in which datasets are written out as files: every one of them writes
an independent file, since there is no file in the datastore to link to."""


class ArtifactDirectory:
    """Files written on demand for the datasets of one datastore state.

    Another datastore or Butler can only read a dataset from a file: records
    exported for it name one, and so does what a transfer is given. This
    directory holds those files, written the first time one is needed,
    through the dataset's formatter. A file is deleted when its dataset
    leaves the state (removed, forgotten, emptied from the trash, expired,
    replaced by a restore) and the whole directory when the state is
    garbage-collected, released, or the interpreter exits.

    Notes
    -----
    Not locked: the owning `DatastoreState` calls every method and `root`
    under its own lock, so that a file is never written for a dataset that
    is being removed and the directory is created once.
    """

    __slots__ = ("__weakref__", "_cleanup", "_files", "_root")

    def __init__(self) -> None:
        self._root: ResourcePath | None = None
        self._cleanup: weakref.finalize[..., ArtifactDirectory] | None = None
        self._files: dict[int, tuple[StoredDataset, StoredFileInfo, str]] = {}

    def __len__(self) -> int:
        return len(self._files)

    @property
    def root(self) -> ResourcePath:
        """The directory, created on first use (a temporary resource).

        Marked temporary so that a receiver transferring with ``auto`` copies
        its files rather than linking to them.
        """
        if self._root is None:
            path = tempfile.mkdtemp(prefix="butler-testkit-artifacts-")
            # The finalizer must not refer to self, or self would never be
            # collected.
            self._cleanup = weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)
            self._root = ResourcePath(path, forceDirectory=True, isTemporary=True)
        return self._root

    @property
    def exists(self) -> bool:
        """Whether the directory has been created (and not released)."""
        return self._root is not None

    def file_for(
        self, key: int, entry: StoredDataset, produce: Callable[[], SerializedDataset]
    ) -> StoredFileInfo:
        """Return the file record of a dataset, writing its file if needed.

        Parameters
        ----------
        key : `int`
            Integer dataset ID.
        entry : `StoredDataset`
            The stored dataset; a file written for another entry under the
            same key is replaced.
        produce : `~collections.abc.Callable`
            Returns the dataset's serialized form, when the file must be
            written.

        Returns
        -------
        info : `~lsst.daf.butler.datastore.stored_file_info.StoredFileInfo`
            Formatter, path relative to `root`, storage class and size.
        """
        known = self._files.get(key)
        if known is not None and known[0] is entry and os.path.exists(known[2]):
            return known[1]
        serialized = produce()
        relative = artifact_path(entry.ref, serialized.extension)
        target = self.root.join(relative)
        write_atomically(target.ospath, serialized.data)
        info = whole_file_info(serialized, relative, entry.ref)
        if known is not None and known[2] != target.ospath:
            remove_file(known[2])
        self._files[key] = (entry, info, target.ospath)
        return info

    def discard(self, keys: Iterable[int]) -> None:
        """Delete the files of these datasets.

        Parameters
        ----------
        keys : `~collections.abc.Iterable` [`int`]
            Integer dataset IDs; those without a file are skipped.
        """
        files = self._files
        for key in keys:
            known = files.pop(key, None)
            if known is not None:
                remove_file(known[2])

    def discard_stale(self, datasets: Mapping[int, StoredDataset]) -> None:
        """Delete the files of datasets that are no longer the ones stored.

        Parameters
        ----------
        datasets : `~collections.abc.Mapping` [`int`, `StoredDataset`]
            What is stored now.
        """
        self.discard(self.stale(datasets))

    def stale(self, datasets: Mapping[int, StoredDataset]) -> list[int]:
        """Return the keys of the files whose datasets are no longer the ones stored.

        Parameters
        ----------
        datasets : `~collections.abc.Mapping` [`int`, `StoredDataset`]
            What is stored now.

        Returns
        -------
        keys : `list` [`int`]
            Integer dataset IDs of files that `discard_stale` would delete.
        """
        return [key for key, known in self._files.items() if datasets.get(key) is not known[0]]

    def release(self) -> None:
        """Delete the directory and everything in it; it is made again if needed."""
        self._files.clear()
        cleanup, self._cleanup, self._root = self._cleanup, None, None
        if cleanup is not None:
            cleanup()


def check_writing_mode(transfer: str | None, operation: str) -> None:
    """Refuse a transfer mode in which datasets cannot be written out as files.

    Parameters
    ----------
    transfer : `str` or `None`
        The mode asked for.
    operation : `str`
        Name of the datastore method, for the message.

    Raises
    ------
    ValueError
        Raised for ``move`` (a datastore keeps its datasets) or an unknown
        mode.
    """
    if transfer == "move":
        raise ValueError(f"{operation} cannot move datasets out of the datastore; use 'copy'.")
    if transfer not in WRITING_TRANSFER_MODES:
        raise ValueError(
            f"{operation}: unknown transfer mode {transfer!r}; use one of "
            f"{', '.join(repr(mode) for mode in WRITING_TRANSFER_MODES)}."
        )


def whole_file_info(serialized: SerializedDataset, path: str, ref: DatasetRef) -> StoredFileInfo:
    """Return the record a file datastore keeps for a file holding a whole dataset.

    Parameters
    ----------
    serialized : `SerializedDataset`
        The file's contents and formatter.
    path : `str`
        Where the file is.
    ref : `~lsst.daf.butler.DatasetRef`
        The dataset, with the storage class it was written with.

    Returns
    -------
    info : `~lsst.daf.butler.datastore.stored_file_info.StoredFileInfo`
        The record (no checksum).
    """
    return StoredFileInfo(
        formatter=serialized.formatter,
        path=path,
        storageClass=ref.datasetType.storageClass,
        component=None,
        checksum=None,
        file_size=len(serialized.data),
    )

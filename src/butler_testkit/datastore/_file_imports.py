"""Files in as datasets: ingest, zip files, transfers and imported records of `InMemoryDatastore`."""

from __future__ import annotations

__all__ = ("FileImports",)

import functools
import logging
import os
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lsst.daf.butler import (
    DatasetRef,
    DatasetTypeNotSupportedError,
    FileDataset,
    Formatter,
    FormatterV2,
)
from lsst.daf.butler.datastore import Datastore, FileTransferRecord
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.resources import ResourcePath
from lsst.utils.introspection import get_class_of

from ._file_wing import FileWing
from ._incoming import (
    READABLE_TRANSFER_MODES,
    Incoming,
    assemble,
    check_transfer_mode,
    open_zip,
    read_file,
    read_member,
)
from ._records import parse_records
from ._refs import dataset_key, require_refs
from ._state import StoredDataset
from ._writing import write_atomically

if TYPE_CHECKING:
    from lsst.daf.butler.datastore import FileTransferMap

_LOG = logging.getLogger(__name__)


class _IngestPrepData(Datastore.IngestPrepData):  # type: ignore[misc]
    """What ``_prepIngest`` read, for ``_finishIngest`` to store."""

    def __init__(
        self,
        refs: Iterable[DatasetRef],
        entries: list[StoredDataset],
        sources: list[tuple[ResourcePath, bytes]],
    ) -> None:
        super().__init__(refs)
        self.entries = entries
        self.sources = sources


class FileImports(FileWing):
    """Mixin of `InMemoryDatastore`: datasets read in from files.

    Every file is read through its formatter before anything is stored, and
    the datasets are then stored all or none; inside a transaction a
    rollback removes them again.
    """

    def ingest(
        self, *datasets: FileDataset, transfer: str | None = None, record_validation_info: bool = True
    ) -> None:
        """Read files into memory through their formatters.

        Parameters
        ----------
        *datasets : `~lsst.daf.butler.FileDataset`
            The files (a relative path is relative to the current directory)
            and the datasets each holds; a file's ``formatter`` if given,
            otherwise the one configured for its first dataset.
        transfer : `str` or `None`, optional
            ``copy`` or ``auto`` (read the files), or ``move`` (read them,
            then delete them).
        record_validation_info : `bool`, optional
            Accepted for compatibility; the files are read, not recorded.

        Raises
        ------
        UnsupportedTransferModeError
            Raised for any other ``transfer``: ``None`` (the default, which
            means the files are already in the datastore), ``direct`` and the
            link modes cannot hold a dataset in memory.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if the constraints reject any of the datasets.
        FileNotFoundError
            Raised if a file does not exist.
        FileExistsError
            Raised if a dataset is already stored.
        ValueError
            Raised if a formatter fails to read its file, for a component
            reference, or for a dataset given more than once.
        TypeError
            Raised for a non-`~lsst.daf.butler.FileDataset` argument, a
            non-reference, or a formatter that is not one.
        OSError
            Raised with ``errno.ENOSPC`` if the datasets exceed
            ``capacity_bytes``.

        Notes
        -----
        Every file is read before anything is stored, and on any error
        nothing is. Inside a transaction a rollback removes the datasets and
        writes moved files back.
        """
        super().ingest(*datasets, transfer=transfer, record_validation_info=record_validation_info)

    def _overrideTransferMode(self, *datasets: FileDataset, transfer: str | None = None) -> str | None:
        # "auto" stays "auto", which reads the files as "copy" does.
        return transfer

    def _prepIngest(self, *datasets: FileDataset, transfer: str | None = None) -> _IngestPrepData:
        check_transfer_mode(transfer, "ingest", READABLE_TRANSFER_MODES)
        accepted: list[DatasetRef] = []
        entries: list[StoredDataset] = []
        sources: dict[ResourcePath, bytes] = {}
        given: set[int] = set()
        for dataset in datasets:
            if not isinstance(dataset, FileDataset):
                raise TypeError(f"ingest() needs FileDataset arguments; got {type(dataset).__name__}.")
            refs = require_refs(dataset.refs, "ingest")
            for ref in refs:
                key = dataset_key(ref)
                if key in given:
                    raise ValueError(
                        f"ingest: dataset {ref} is given more than once (one file per dataset); nothing "
                        "was ingested."
                    )
                given.add(key)
            acceptable = [ref for ref in refs if self._constraints_cache.accepts(ref)]
            if not acceptable:
                continue
            formatter = self._ingest_formatter(dataset, acceptable[0])
            uri = ResourcePath(dataset.path, forceAbsolute=True, forceDirectory=False)
            data = sources.get(uri)
            if data is None:
                data = sources[uri] = read_file(uri)
            for ref in acceptable:
                info = StoredFileInfo(
                    formatter=formatter,
                    path=str(uri),
                    storageClass=ref.datasetType.storageClass,
                    component=None,
                    checksum=None,
                    file_size=len(data),
                )
                entries.append(self._entry_from(assemble(self._formatters, ref, [(info, data)])))
            accepted.extend(acceptable)
        stored = [entry.ref for entry in entries if dataset_key(entry.ref) in self._state.datasets]
        if stored:
            raise FileExistsError(
                f"ingest: {len(stored)} dataset(s) are already stored in datastore {self.name}, e.g. "
                f"{stored[0]}; nothing was ingested."
            )
        return _IngestPrepData(accepted, entries, list(sources.items()))

    def _ingest_formatter(self, dataset: FileDataset, ref: DatasetRef) -> str:
        """Return the name of the formatter to read an ingested file with."""
        if dataset.formatter is None:
            formatter, _ = self._formatters.formatter_class(ref)
        else:
            given = dataset.formatter
            try:
                formatter = get_class_of(given) if isinstance(given, str | type) else type(given)
            except ImportError as err:
                raise TypeError(
                    f"ingest: formatter {given!r} (for {dataset.path}) cannot be imported: {err}"
                ) from err
            if not (isinstance(formatter, type) and issubclass(formatter, Formatter | FormatterV2)):
                raise TypeError(f"ingest: {given!r} (for {dataset.path}) is not a formatter.")
        return f"{formatter.__module__}.{formatter.__qualname__}"

    def _finishIngest(
        self, prepData: Any, *, transfer: str | None = None, record_validation_info: bool = True
    ) -> None:
        assert isinstance(prepData, _IngestPrepData), "prepData comes from _prepIngest"
        self._store_all(prepData.entries, f"ingest {len(prepData.entries)} datasets")
        if transfer == "move":
            self._remove_sources(prepData.entries, prepData.sources)

    def ingest_zip(self, zip_path: ResourcePath, transfer: str | None, *, dry_run: bool = False) -> None:
        """Store the datasets of a zip made by ``Butler.retrieve_artifacts_zip``.

        Works with zips of any datastore's datasets, including a
        ``FileDatastore``'s composites written one file per component.

        Parameters
        ----------
        zip_path : `lsst.resources.ResourcePath`
            The zip file, with its index.
        transfer : `str` or `None`
            ``auto`` or ``copy`` (read the zip), or ``move`` (read it, then
            delete it).
        dry_run : `bool`, optional
            Read and check everything, store nothing.

        Raises
        ------
        UnsupportedTransferModeError
            Raised for any other ``transfer`` (``None``, ``direct``, links).
        FileNotFoundError
            Raised if the zip does not exist.
        ValueError
            Raised if the zip has no valid index, a member cannot be read
            (corrupt or truncated; the message names the zip and the member),
            or a file cannot be read by its formatter.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if the constraints reject any of the datasets, as a file
            datastore does.
        FileExistsError
            Raised if any of the datasets is already stored.
        OSError
            Raised with ``errno.ENOSPC`` if they exceed ``capacity_bytes``.

        Notes
        -----
        All or nothing: on any error nothing is stored, and a ``move`` leaves
        the zip in place. Inside a transaction a rollback removes the
        datasets and puts a moved zip back.
        """
        from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ZipIndex

        check_transfer_mode(transfer, "ingest_zip", READABLE_TRANSFER_MODES)
        zip_path = ResourcePath(zip_path, forceDirectory=False)
        payload = read_file(zip_path)
        with open_zip(payload, zip_path) as archive:
            try:
                index = ZipIndex.from_open_zip(archive)
            except Exception as err:  # missing, corrupt or not an index
                raise ValueError(
                    f"{zip_path} has no valid index ({ZipIndex.index_name}); it was not made by "
                    f"Butler.retrieve_artifacts_zip: {err}"
                ) from err
            refs = {ref.id: ref for ref in index.refs.to_refs(universe=self._universe)}
            rejected = [ref for ref in refs.values() if not self._constraints_cache.accepts(ref)]
            if rejected:
                raise DatasetTypeNotSupportedError(
                    f"The constraints of datastore {self.name} reject {len(rejected)} dataset(s) of "
                    f"{zip_path}, e.g. {rejected[0]}; nothing was ingested."
                )
            files: dict[uuid.UUID, list[tuple[StoredFileInfo, bytes]]] = {}
            for member, artifact in index.artifact_map.items():
                info = StoredFileInfo.from_simple(artifact.info).update(path=member)
                try:
                    data = read_member(archive, member, zip_path)
                except KeyError as err:
                    raise ValueError(f"{zip_path}: its index names {member}, which the zip lacks.") from err
                for dataset_id in artifact.ids:
                    if dataset_id not in refs:
                        raise ValueError(f"{zip_path}: {member} is indexed for unknown dataset {dataset_id}.")
                    files.setdefault(dataset_id, []).append((info, data))
        unread = [ref for dataset_id, ref in refs.items() if dataset_id not in files]
        if unread:
            raise ValueError(f"{zip_path} indexes {len(unread)} dataset(s) without files, e.g. {unread[0]}.")
        entries = [
            self._entry_from(assemble(self._formatters, refs[dataset_id], contents))
            for dataset_id, contents in files.items()
        ]
        if dry_run:
            self._state.add_all(entries, self._capacity, dry_run=True)
            _LOG.info("Dry run: would ingest %d datasets from %s into %s.", len(entries), zip_path, self.name)
            return
        self._store_all(entries, f"ingest_zip {zip_path}")
        if transfer == "move":
            self._remove_sources(entries, [(zip_path, payload)])

    def transfer_from(
        self,
        source_records: FileTransferMap,
        refs: Collection[DatasetRef],
        transfer: str = "auto",
        artifact_existence: dict[ResourcePath, bool] | None = None,
        dry_run: bool = False,
    ) -> tuple[set[DatasetRef], set[DatasetRef]]:
        """Read datasets from another datastore's files.

        The source may be any datastore that describes its files
        (``get_file_info_for_transfer``): a ``FileDatastore`` (whole files,
        one file per component, or files inside an ingested zip) or another
        in-memory datastore.

        Parameters
        ----------
        source_records : `~lsst.daf.butler.datastore.FileTransferMap`
            The source's files of each dataset.
        refs : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetRef`]
            The datasets, as this datastore's Butler knows them.
        transfer : `str`, optional
            ``auto`` or ``copy``: the files are read and stay the source's.
        artifact_existence : `dict`, optional
            Unused: every file is read.
        dry_run : `bool`, optional
            Read and check everything, store nothing.

        Returns
        -------
        accepted : `set` [`~lsst.daf.butler.DatasetRef`]
            The datasets now stored here, including those already stored.
        rejected : `set` [`~lsst.daf.butler.DatasetRef`]
            Those the constraints reject, not stored.

        Raises
        ------
        UnsupportedTransferModeError
            Raised for any other ``transfer``: ``move`` would leave the source
            with records of nothing, and ``direct``, ``split``,
            ``unsafe_direct`` and the links cannot hold a dataset in memory.
        TypeError
            Raised if ``source_records`` is not a mapping of
            `~lsst.daf.butler.datastore.FileTransferRecord` lists, or a
            reference is not a `~lsst.daf.butler.DatasetRef`.
        FileNotFoundError
            Raised if an accepted dataset has no files in ``source_records``,
            or a file does not exist.
        ValueError
            Raised if a formatter fails to read a file.
        OSError
            Raised with ``errno.ENOSPC`` if the datasets exceed
            ``capacity_bytes``.

        Notes
        -----
        All or nothing: on any error nothing is stored. A dataset given more
        than once is transferred once.
        """
        check_transfer_mode(transfer, "transfer_from", ("auto", "copy"))
        refs = require_refs(refs, "transfer_from")
        if not isinstance(source_records, Mapping):
            raise TypeError(
                "transfer_from() needs the source's files by dataset ID (a get_file_info_for_transfer "
                f"result); got {type(source_records).__name__}."
            )
        accepted: set[DatasetRef] = set()
        rejected: set[DatasetRef] = set()
        entries = []
        missing = []
        datasets = self._state.datasets
        read: set[int] = set()
        adopted: list[StoredDataset] = []
        for ref in refs:
            if not self._constraints_cache.accepts(ref):
                rejected.add(ref)
                continue
            accepted.add(ref)
            key = dataset_key(ref)
            # A dataset given twice is transferred once, as a file datastore does.
            if key in read or self._knows_key(key, datasets):
                continue
            read.add(key)
            stored = datasets.get(key)
            if stored is not None:
                # Stored in the repository by a datastore of another registry
                # (a quantum-backed Butler's): only the record is new here.
                adopted.append(stored)
                continue
            records = source_records.get(ref.id)
            if not records:
                missing.append(ref)
                continue
            contents = [_file_of(record, ref) for record in records]
            entries.append(self._entry_from(assemble(self._formatters, ref, contents)))
        if missing:
            raise FileNotFoundError(
                f"transfer_from: the source describes no files for {len(missing)} dataset(s), e.g. "
                f"{missing[0]}; nothing was transferred."
            )
        if dry_run:
            _LOG.info("Dry run: would transfer %d datasets into %s.", len(entries), self.name)
        else:
            self._store_all(entries, f"transfer {len(entries)} datasets", adopted)
        return accepted, rejected

    def import_records(self, data: Mapping[str, DatastoreRecordData]) -> None:
        """Store the datasets named by records exported by an in-memory datastore.

        Parameters
        ----------
        data : `~collections.abc.Mapping` [`str`, `DatastoreRecordData`]
            Records by datastore name. Only the entry for this datastore's
            name is read, as every datastore does; records travel between
            datastores of the same name (configure ``name``).

        Raises
        ------
        TypeError
            Raised if ``data`` is not a mapping, or its entry for this
            datastore is not a `DatastoreRecordData`.
        ValueError
            Raised if a dataset's records do not hold its reference and an
            absolute file path (only records exported by an in-memory
            datastore do), or a file cannot be read by its formatter.
        FileNotFoundError
            Raised if a file named by the records no longer exists.
        FileExistsError
            Raised if a dataset is already stored here.
        OSError
            Raised with ``errno.ENOSPC`` if the datasets exceed
            ``capacity_bytes``.

        Notes
        -----
        Unlike a file datastore, which keeps the records and reads the files
        when asked for the datasets, this reads every file at once: the
        dataset then lives in memory whatever happens to the file. All or
        nothing: on any error nothing is stored.
        """
        if not isinstance(data, Mapping):
            raise TypeError(
                "import_records() needs records by datastore name (an export_records result); got "
                f"{type(data).__name__}."
            )
        mine = data.get(self.name)
        if mine is None:
            return
        if not isinstance(mine, DatastoreRecordData):
            raise TypeError(
                f"import_records(): the records of datastore {self.name} must be a DatastoreRecordData; got "
                f"{type(mine).__name__}: {mine!r}"
            )
        if not mine.records:
            return
        entries = []
        adopted: list[StoredDataset] = []
        datasets = self._state.datasets
        for dataset_id, ref, files in parse_records(mine, self._universe):
            stored = datasets.get(dataset_id.int)
            if stored is not None and self._scope is not None and not self._knows_entry(stored):
                # Its object is in the repository already (written through
                # another registry's datastore, as a quantum-backed Butler's
                # outputs are): the records make it known here.
                adopted.append(stored)
                continue
            contents = []
            for info in files:
                uri = ResourcePath(info.path, forceAbsolute=False, forceDirectory=False)
                if not uri.isabs():
                    raise ValueError(
                        f"The file record of dataset {dataset_id} has a relative path ({info.path!r}), which "
                        "only the datastore that wrote it can locate."
                    )
                contents.append((info, read_file(uri)))
            entries.append(self._entry_from(assemble(self._formatters, ref, contents)))
        self._store_all(entries, f"import {len(entries)} datasets", adopted)

    # Storing what was read

    def _entry_from(self, incoming: Incoming) -> StoredDataset:
        """Make the entry of a dataset read from files, stored and measured as a put's."""
        stored, size = self._storage.adopt(incoming)
        stored_at = None if self._expire_after is None else self.clock()
        return StoredDataset(stored, incoming.ref, stored_at, size)

    def _store_all(
        self, entries: list[StoredDataset], description: str, adopted: Iterable[StoredDataset] = ()
    ) -> None:
        """Store entries all or none and record ``adopted`` as known; a rollback undoes both."""
        state = self._state
        for entry in entries:
            # The record travels with the entry: it goes when the dataset goes.
            entry.known_by = self._scope
        state.add_all(entries, self._capacity)
        forget = self._record(adopted)
        if (entries or forget is not None) and self._transaction is not None:
            added = [(dataset_key(entry.ref), entry) for entry in entries]

            def undo() -> None:
                if forget is not None:
                    forget()
                for key, entry in added:
                    state.discard(key, entry)

            self._register_undo(description, undo)

    def _remove_sources(
        self, entries: list[StoredDataset], sources: list[tuple[ResourcePath, bytes]]
    ) -> None:
        """Delete the files just moved in as ``entries``; a rollback writes them back.

        If a file cannot be deleted, the files already deleted are written
        back and the entries dropped before the error propagates, so that a
        failed move changes nothing.
        """
        removed: list[tuple[ResourcePath, bytes]] = []
        try:
            for uri, data in sources:
                uri.remove()
                removed.append((uri, data))
        except Exception:
            for uri, data in removed:
                _put_file_back(uri, data)
            for entry in entries:
                self._state.discard(dataset_key(entry.ref), entry)
            raise
        if self._transaction is not None:
            for uri, data in removed:
                self._register_undo(f"move {uri}", functools.partial(_put_file_back, uri, data))


def _put_file_back(uri: ResourcePath, data: bytes) -> None:
    """Write a moved file back where it was, unless something has taken its place since.

    The newer file wins, and a link put there is never written through.
    """
    try:
        if uri.scheme == "file":
            if os.path.lexists(uri.ospath):
                raise FileExistsError(uri.ospath)
            write_atomically(uri.ospath, data)
        else:
            uri.write(data, overwrite=False)
    except FileExistsError:
        _LOG.warning("Cannot put the moved file %s back: something else is there now.", uri)


def _file_of(record: object, ref: DatasetRef) -> tuple[StoredFileInfo, bytes]:
    """Read one file a transfer's source describes."""
    if not isinstance(record, FileTransferRecord):
        raise TypeError(
            f"transfer_from(): the source's files of dataset {ref.id} must be FileTransferRecords; got "
            f"{type(record).__name__}."
        )
    return record.file_info, read_file(record.location.uri)

"""Datasets out as files: records, artifacts, exports and transfers out of `InMemoryDatastore`."""

from __future__ import annotations

__all__ = ("FileExports",)

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lsst.daf.butler import DatasetRef, FileDataset, Location
from lsst.daf.butler.datastore import FileTransferRecord
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.resources import ResourcePath, ResourcePathExpression

from ._artifact_paths import artifact_path
from ._artifacts import check_writing_mode, whole_file_info
from ._file_wing import FileWing
from ._listing import first_few
from ._records import records_of
from ._refs import dataset_key, require_id_refs, require_refs
from ._serialization import SerializedDataset
from ._state import StoredDataset
from ._writing import write_files

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetId
    from lsst.daf.butler.datastore import FileTransferMap
    from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ArtifactIndexInfo
    from lsst.daf.butler.registry.interfaces import DatasetIdRef


class FileExports(FileWing):
    """Mixin of `InMemoryDatastore`: its datasets written out as the files a file datastore would hold.

    Every file is written through the formatter a ``FileDatastore`` would
    use (under ``serialize`` isolation, the stored bytes as they are), either
    where the caller asks (`retrieveArtifacts`, `export`) or, for records and
    transfers, in the private directory of the state, on demand.
    """

    # Records

    def export_records(self, refs: Iterable[DatasetIdRef]) -> Mapping[str, DatastoreRecordData]:
        """Export the records of stored datasets, naming files that hold them.

        Parameters
        ----------
        refs : `~collections.abc.Iterable`
            `~lsst.daf.butler.DatasetRef` or
            `~lsst.daf.butler.registry.interfaces.FakeDatasetRef` of the
            datasets; those not stored here, or in the trash, are skipped (as
            a file datastore skips them).

        Returns
        -------
        records : `~collections.abc.Mapping` [`str`, `DatastoreRecordData`]
            This datastore's name mapped to the records: for each dataset its
            reference and a file record (formatter, absolute path, storage
            class, size), the file written on demand.

        Raises
        ------
        TypeError
            Raised if something given is not a dataset reference.

        Notes
        -----
        The files are this datastore's own (see ``get_file_info_for_transfer``):
        they last while the dataset is stored here and the datastore's state
        lives.
        """
        state = self._state
        records: dict[DatasetId, dict[str, list[Any]]] = {}
        for ref in require_id_refs(refs, "export_records"):
            key = ref.id.int
            entry = state.datasets.get(key)
            if entry is None or entry.trashed or not self._knows_key(key, state.datasets):
                continue
            artifact = self._artifact(key, entry)
            if artifact is not None:
                info, uri = artifact
                records[ref.id] = records_of(entry.ref, info.update(path=str(uri)))
        return {self.name: DatastoreRecordData(records=records)}

    def export_predicted_records(self, refs: Iterable[DatasetRef]) -> dict[str, DatastoreRecordData]:
        """Return the records datasets would have if they were stored here.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            Datasets that would be written; those the constraints reject are
            skipped.

        Returns
        -------
        records : `dict` [`str`, `DatastoreRecordData`]
            This datastore's name mapped to the records, naming the files
            that `export_records` would write (size unknown, ``-1``).

        Raises
        ------
        TypeError
            Raised if something given is not a `~lsst.daf.butler.DatasetRef`.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for a dataset.
        """
        root = self._state.artifact_root()
        records: dict[DatasetId, dict[str, list[Any]]] = {}
        for ref in require_refs(refs, "export_predicted_records"):
            if ref.isComponent():
                ref = ref.makeCompositeRef()
            if not self._constraints_cache.accepts(ref):
                continue
            formatter, _ = self._formatters.formatter_class(ref)
            path = artifact_path(ref, self._formatters.write_extension(ref))
            info = StoredFileInfo(
                formatter=f"{formatter.__module__}.{formatter.__qualname__}",
                path=str(root.join(path)),
                storageClass=ref.datasetType.storageClass,
                component=None,
                checksum=None,
                file_size=-1,
            )
            records[ref.id] = records_of(ref, info)
        return {self.name: DatastoreRecordData(records=records)}

    # Files

    def retrieveArtifacts(
        self,
        refs: Iterable[DatasetRef],
        destination: ResourcePath,
        transfer: str = "auto",
        preserve_path: bool = True,
        overwrite: bool = False,
        write_index: bool = True,
        add_prefix: bool = False,
    ) -> dict[ResourcePath, ArtifactIndexInfo]:
        """Write datasets out as the files a file datastore would hold.

        Each dataset is written through its formatter (under ``serialize``
        isolation, its stored bytes as they are), with an index that
        daf_butler reads: ``Butler.retrieve_artifacts_zip`` on a Butler using
        this datastore makes a zip that a ``FileDatastore`` can ingest.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            Datasets to write (a component reference writes its parent).
        destination : `lsst.resources.ResourcePath`
            Directory to write to.
        transfer : `str`, optional
            ``auto``, ``copy``, or a link mode; the files are written, so
            every mode gives independent files. ``move`` is refused.
        preserve_path : `bool`, optional
            Write each file at its path in this datastore
            (``<run>/<dataset type>/<name>``) rather than directly in
            ``destination``.
        overwrite : `bool`, optional
            Replace existing files; otherwise an existing file is an error
            and nothing is written.
        write_index : `bool`, optional
            Write the index (``_butler_zip_index.json``) of what was written.
        add_prefix : `bool`, optional
            Without ``preserve_path``, prefix each file name with the start of
            its dataset ID.

        Returns
        -------
        artifacts : `dict` [`lsst.resources.ResourcePath`, `ArtifactIndexInfo`]
            Each file written, with its record and dataset ID.

        Raises
        ------
        ValueError
            Raised if ``destination`` is not a directory, ``transfer`` is
            ``move`` or unknown, or a file would land outside
            ``destination`` (through a symbolic link to a directory
            elsewhere).
        FileNotFoundError
            Raised if a dataset is not stored here.
        FileExistsError
            Raised if a file exists and ``overwrite`` is `False`; a symbolic
            link counts, dangling or not.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for a dataset.
        UnserializableDatasetError
            Raised if a formatter cannot write its dataset.

        Notes
        -----
        Nothing is written unless every dataset, and the index, can be.
        Every file lands inside ``destination``: with ``overwrite`` a
        symbolic link at a file's path is replaced by the file, never written
        through.
        """
        from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import (
            ArtifactIndexInfo,
            ZipIndex,
            determine_destination_for_retrieved_artifact,
        )

        destination = ResourcePath(destination)
        if not destination.isdir():
            raise ValueError(f"retrieveArtifacts needs a directory to write to; got {destination}.")
        check_writing_mode(transfer, "retrieveArtifacts")
        found = self._stored_entries(refs, "retrieveArtifacts")
        planned: list[tuple[ResourcePath, bytes]] = []
        artifacts: dict[ResourcePath, ArtifactIndexInfo] = {}
        # Sorted as a file datastore sorts, so that prefixes and the index
        # are the same on every run.
        for ref, entry in sorted(found, key=lambda pair: pair[0]):
            serialized = self._serialized_form(entry)
            relative = artifact_path(entry.ref, serialized.extension)
            target = determine_destination_for_retrieved_artifact(
                destination,
                ResourcePath(relative, forceAbsolute=False, forceDirectory=False),
                preserve_path,
                f"{str(ref.id)[:8]}-" if add_prefix else "",
            )
            info = whole_file_info(serialized, relative, entry.ref)
            planned.append((target, serialized.data))
            artifacts[target] = ArtifactIndexInfo.from_single(info.to_simple(), ref.id)
        index = []
        if write_index:
            # Written with the files, all or none; like a file datastore's,
            # it replaces an index already there.
            contents = ZipIndex.from_artifact_map([ref for ref, _ in found], artifacts, destination)
            index_path = destination.join(ZipIndex.index_name, forceDirectory=False)
            index.append((index_path, f"{contents.model_dump_json()}\n".encode()))
        write_files(destination, planned, overwrite, replacing=index)
        return artifacts

    def export(
        self,
        refs: Iterable[DatasetRef],
        *,
        directory: ResourcePathExpression | None = None,
        transfer: str | None = "auto",
    ) -> Iterable[FileDataset]:
        """Export datasets as files, for ``Butler.export``.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            Datasets to export (a component reference exports its parent).
        directory : `lsst.resources.ResourcePathExpression`, optional
            Existing directory to write the files in.
        transfer : `str` or `None`, optional
            ``auto`` or ``copy`` (or a link mode): write each file in
            ``directory``, at its path in this datastore. ``None`` (or
            ``auto`` without a directory) and ``direct``: write nothing there
            and name this datastore's own files by absolute URI (they last
            while the datasets are stored here).

        Returns
        -------
        datasets : `~collections.abc.Iterable` [`~lsst.daf.butler.FileDataset`]
            One per dataset: its reference, path and formatter.

        Raises
        ------
        TypeError
            Raised for ``move``, or a writing ``transfer`` without a
            ``directory``, as a file datastore does.
        ValueError
            Raised for an unknown ``transfer``, or if a file would land
            outside ``directory`` (through a symbolic link to a directory
            elsewhere); nothing is written.
        FileNotFoundError
            Raised if ``directory`` does not exist or a dataset is not stored
            here.
        FileExistsError
            Raised if a file exists already (a symbolic link counts, dangling
            or not); nothing is written.
        """
        if transfer == "auto" and directory is None:
            transfer = None
        if transfer == "move":
            raise TypeError(
                "Cannot export with transfer mode 'move': an export leaves the datastore as it is."
            )
        if transfer is not None and transfer != "direct":
            if directory is None:
                raise TypeError(f"Cannot export with transfer mode {transfer!r} without a directory.")
            check_writing_mode(transfer, "export")
        found = self._stored_entries(refs, "export")
        exported = []
        if transfer is None or transfer == "direct":
            for ref, entry in found:
                artifact = self._artifact(dataset_key(entry.ref), entry)
                if artifact is None:
                    raise FileNotFoundError(f"Dataset {ref} was removed during the export.")
                info, uri = artifact
                exported.append(FileDataset(refs=[ref], path=str(uri), formatter=info.formatter))
            return exported
        assert directory is not None
        directory_uri = ResourcePath(directory, forceDirectory=True)
        if not directory_uri.exists():
            raise FileNotFoundError(f"Export directory {directory_uri} does not exist.")
        planned = []
        for ref, entry in found:
            serialized = self._serialized_form(entry)
            relative = artifact_path(entry.ref, serialized.extension)
            planned.append((directory_uri.join(relative), serialized.data))
            exported.append(FileDataset(refs=[ref], path=relative, formatter=serialized.formatter))
        write_files(directory_uri, planned, overwrite=False)
        return exported

    def get_file_info_for_transfer(self, dataset_ids: Iterable[DatasetId]) -> FileTransferMap:
        """Describe the files of stored datasets, writing them on demand.

        What another datastore's ``transfer_from`` reads: a
        ``Butler.transfer_from`` out of a Butler using this datastore.

        Parameters
        ----------
        dataset_ids : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetId`]
            The datasets; those not stored here are left out.

        Returns
        -------
        files : `~lsst.daf.butler.datastore.FileTransferMap`
            For each stored dataset, one file: written through its formatter
            in a private directory of this datastore's state, with a path
            relative to that directory (as a file datastore's records have),
            so that the receiver names its copy as it would its own.

        Raises
        ------
        TypeError
            Raised if something given is not a `uuid.UUID`.

        Notes
        -----
        Each file is written once and kept while its dataset is stored: it is
        deleted when the dataset is removed, forgotten, emptied from the
        trash, expired or replaced by a ``restore``, and the whole directory
        goes with the state (when it is garbage-collected, when
        ``release_shared_state`` releases it, or at exit). The directory is
        marked temporary, so a receiver transferring with ``auto`` copies the
        files; ask for ``copy`` or ``hardlink`` explicitly, never a symbolic
        link, which would outlive its target.
        """
        state = self._state
        files: FileTransferMap = {}
        for dataset_id in dataset_ids:
            if not isinstance(dataset_id, uuid.UUID):
                raise TypeError(
                    f"get_file_info_for_transfer() needs dataset IDs (uuid.UUID); got "
                    f"{type(dataset_id).__name__}: {dataset_id!r}"
                )
            key = dataset_id.int
            entry = state.datasets.get(key)
            if entry is None or not self._reads_key(key, state.datasets):
                continue
            artifact = self._artifact(key, entry)
            if artifact is not None:
                info, uri = artifact
                # An absolute location (no root) keeps the file's URI marked
                # temporary, so that "auto" copies it.
                files[dataset_id] = [FileTransferRecord(location=Location(None, uri), file_info=info)]
        return files

    # The state seen as files

    def _serialized_form(self, entry: StoredDataset) -> SerializedDataset:
        """Return a stored dataset as its formatter writes it."""
        return self._storage.serialized(entry)

    def _artifact(self, key: int, entry: StoredDataset) -> tuple[StoredFileInfo, ResourcePath] | None:
        """Return the file record and URI of a stored dataset, writing its file if needed.

        `None` if the dataset has been removed meanwhile.
        """
        try:
            return self._state.artifact_for(key, entry, lambda: self._serialized_form(entry))
        except FileNotFoundError:
            return None

    def _stored_entries(
        self, refs: Iterable[DatasetRef], operation: str
    ) -> list[tuple[DatasetRef, StoredDataset]]:
        """Return each distinct dataset asked for with its entry, or raise for missing ones."""
        found: dict[int, tuple[DatasetRef, StoredDataset]] = {}
        missing = []
        datasets = self._state.datasets
        for ref in require_refs(refs, operation):
            key = dataset_key(ref)
            entry = datasets.get(key)
            if entry is None or not self._reads_key(key, datasets):
                missing.append(ref)
            elif key not in found:
                found[key] = (ref.makeCompositeRef() if ref.isComponent() else ref, entry)
        if missing:
            raise FileNotFoundError(
                f"{operation}: {len(missing)} dataset(s) are not stored in datastore {self.name}: "
                f"{first_few(missing)}."
            )
        return list(found.values())

"""`InMemoryDatastore`: a faithful, fast, thread-safe in-memory Datastore."""

from __future__ import annotations

__all__ = ("InMemoryDatastore",)

import functools
import io
import itertools
import logging
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from lsst.daf.butler import (
    Config,
    DatasetRef,
    DatasetType,
    DatasetTypeNotSupportedError,
    FileDataset,
    Formatter,
    FormatterV2,
    Location,
    LookupKey,
    StorageClass,
)
from lsst.daf.butler.datastore import (
    DatasetRefURIs,
    Datastore,
    DatastoreConfig,
    DatastoreOpaqueTable,
    DatastoreValidationError,
    FileTransferRecord,
)
from lsst.daf.butler.datastore.record_data import DatastoreRecordData
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.resources import ResourcePath, ResourcePathExpression
from lsst.utils.introspection import get_class_of

from ._artifacts import artifact_path, check_writing_mode, whole_file_info, write_files
from ._constraints import ConstraintsCache, constraint_lookup_keys
from ._faults import FaultPlan
from ._incoming import READABLE_TRANSFER_MODES, Incoming, assemble, check_transfer_mode, read_file
from ._isolation import Isolation, isolated_copy
from ._reading import read_stored
from ._records import parse_records, records_of
from ._refs import dataset_key, require_id_refs, require_ref, require_refs
from ._serialization import Formatters, SerializedDataset
from ._shared import shared_state_for
from ._state import DatastoreState, StateSnapshot, StoredDataset
from ._transactions import ThreadTransactions
from ._uris import DatasetUris

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetId, DatasetProvenance
    from lsst.daf.butler.datastore import FileTransferMap
    from lsst.daf.butler.datastores.file_datastore.get import DatasetLocationInformation
    from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ArtifactIndexInfo
    from lsst.daf.butler.registry.interfaces import DatasetIdRef, DatastoreRegistryBridgeManager

_LOG = logging.getLogger(__name__)

# Default names are unique within a process (the counter) and across the
# processes of one run (the pid), without depending on the clock.
_instance_numbers = itertools.count(1)

_DEFAULT_NAME_PREFIX = "InMemoryDatastore@"


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


class InMemoryDatastore(ThreadTransactions, Datastore):
    """A datastore that keeps every dataset in memory.

    A drop-in replacement for
    ``lsst.daf.butler.datastores.inMemoryDatastore.InMemoryDatastore``: point a
    datastore configuration's ``cls`` at ``butler_testkit.InMemoryDatastore``.
    It behaves like the production ``FileDatastore`` wherever upstream's
    in-memory datastore takes a shortcut, and is faster.

    Parameters
    ----------
    config : `~lsst.daf.butler.datastore.DatastoreConfig`
        Datastore configuration. Keys read: ``name`` (default
        ``InMemoryDatastore@<suffix>``, unique per instance), ``isolation``
        (``copy``, the default, ``reference`` or ``serialize``; see
        `Isolation`), ``formatters`` (as a ``FileDatastore``'s, laid over
        daf_butler's defaults and the catalogue's), ``capacity_bytes`` (a
        byte limit), ``shared``, ``expire_after`` and ``constraints``
        (``accept`` / ``reject`` lists, as for every datastore).
    bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
        Only its ``universe`` is used: the datastore keeps its records and its
        trash in its own state.
    state : `DatastoreState`, optional
        State to share; used by `clone`.

    Raises
    ------
    lsst.daf.butler.datastore.DatastoreValidationError
        Raised if ``isolation``, ``name``, ``shared``, ``expire_after``,
        ``capacity_bytes`` or ``formatters`` has an invalid value.
    lsst.daf.butler.datastore.constraints.ConstraintsValidationError
        Raised if the constraints both accept and reject everything.

    Notes
    -----
    Differences from upstream's in-memory datastore, each deliberate:

    - ``copy`` isolation: ``get`` never returns the stored object itself, and
      mutating a retrieved or a put object never changes what is stored.
    - Putting a dataset ID that is already stored raises `FileExistsError`
      and leaves the stored dataset alone.
    - Transactions nest correctly, belong to the thread that opened them, log
      nothing on an ordinary rollback and record nothing outside a
      transaction. ``forget`` inside a transaction is undone by a rollback.
    - ``forget``, ``remove`` and ``emptyTrash`` release every reference to
      the stored object, and ``emptyTrash(refs=[])`` removes nothing.
    - Clones share one state for life, keep the same name, and see the same
      trash.
    - URIs are stable: ``mem://<name>/<run>/<dataset type>/<id>?<data ID>``.
    - Bad input raises a typed error naming the problem and changes nothing;
      ``trash`` and ``emptyTrash`` default ``ignore_errors`` to `True`, like
      every other datastore.
    - Files work: ``retrieveArtifacts``, ``ingest_zip``, ``ingest``,
      ``export``, ``transfer_from``, ``get_file_info_for_transfer`` and the
      records go through the formatters a ``FileDatastore`` would use, both
      ways with one; ``serialize`` isolation and ``capacity_bytes`` use the
      same formatters.
    """

    defaultConfigFile: ClassVar[str | None] = None
    isEphemeral: bool = True

    def __init__(
        self,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        *,
        state: DatastoreState | None = None,
    ) -> None:
        super().__init__(config, bridgeManager)
        self.name = self._name_from_config(config)
        self.isolation = Isolation.from_config(config.get("isolation"))
        self._copies = self.isolation is Isolation.COPY
        self._serializes = self.isolation is Isolation.SERIALIZE
        self._state = state if state is not None else DatastoreState()
        self._expire_after = _positive_seconds(config.get("expire_after"), "expire_after")
        self._capacity = _positive_bytes(config.get("capacity_bytes"), "capacity_bytes")
        self._universe = bridgeManager.universe
        # Built on first use: a datastore that never writes a file or
        # serializes pays nothing for its formatters.
        self._formatters = Formatters(config.get("formatters"), bridgeManager.universe)
        self.clock: Callable[[], float] = time.monotonic
        """Clock of ``expire_after``, in seconds; replace it to control time in tests."""
        # Faults to inject midway through a put (point "stored"); installed by
        # InstrumentedDatastore, which handles every other point itself.
        self.fault_plan: FaultPlan | None = None
        constraints_config = config.get("constraints")
        self._constraints_cache = ConstraintsCache(self.constraints, constraints_config)
        self._lookup_keys = constraint_lookup_keys(constraints_config, bridgeManager.universe)

    def expire(self) -> int:
        """Remove the datasets older than ``expire_after`` now.

        Every operation does this first, so calling it is only needed to
        release memory early.

        Returns
        -------
        expired : `int`
            How many datasets were removed (0 without ``expire_after``).
        """
        if self._expire_after is None:
            return 0
        return self._state.expire(self.clock() - self._expire_after)

    @property
    def name(self) -> str:
        """Name of the datastore, unique per instance unless configured.

        Clones keep their original's name, as they hold the same datasets.
        """
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value
        self._uris = DatasetUris(value)

    @staticmethod
    def _name_from_config(config: DatastoreConfig) -> str:
        name = config.get("name")
        if name is None:
            return f"{_DEFAULT_NAME_PREFIX}{os.getpid()}.{next(_instance_numbers)}"
        if not isinstance(name, str) or not name.strip():
            raise DatastoreValidationError(f"Datastore 'name' must be a non-empty string; got {name!r}.")
        return name

    @classmethod
    def _create_from_config(
        cls,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        butlerRoot: ResourcePathExpression | None,
    ) -> InMemoryDatastore:
        shared = config.get("shared", False)
        if not isinstance(shared, bool):
            raise DatastoreValidationError(f"Datastore 'shared' must be true or false; got {shared!r}.")
        if not shared:
            return cls(config, bridgeManager)
        if butlerRoot is None:
            raise DatastoreValidationError(
                "Datastore 'shared: true' shares datasets between the Butlers of one repository, "
                "so it needs the repository root; none was given."
            )
        return cls(config, bridgeManager, state=shared_state_for(butlerRoot))

    def clone(self, bridgeManager: DatastoreRegistryBridgeManager) -> InMemoryDatastore:
        """Return a datastore sharing this one's stored state.

        Parameters
        ----------
        bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
            Bridge manager of the new instance (only its universe is used).

        Returns
        -------
        clone : `InMemoryDatastore`
            A datastore with the same configuration and name that sees, for
            its whole life, the same datasets and trash as this one. It has
            its own transactions.
        """
        clone = type(self)(self.config, bridgeManager, state=self._state)
        clone.name = self.name
        return clone

    @classmethod
    def setConfigRoot(cls, root: str, config: Config, full: Config, overwrite: bool = True) -> None:
        """Leave the configuration alone: nothing is written under a root.

        Parameters
        ----------
        root : `str`
            Root of a new repository.
        config : `~lsst.daf.butler.Config`
            Configuration that a file-backed datastore would update.
        full : `~lsst.daf.butler.Config`
            The complete configuration; read-only.
        overwrite : `bool`, optional
            Whether existing values may be replaced.
        """
        return

    @property
    def roots(self) -> dict[str, ResourcePath | None]:
        """Map this datastore's name to `None`: it has no root URI."""
        return {self.name: None}

    # Existence

    def knows(self, ref: DatasetRef) -> bool:
        """Return whether the dataset is stored here (trashed or not).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset; only its ID matters, so a component reference
            answers for its parent.

        Returns
        -------
        known : `bool`
            `True` if the dataset is stored. An in-memory datastore has no
            records apart from its artifacts, so this equals `exists`.
        """
        if self._expire_after is not None:
            self.expire()
        return dataset_key(require_ref(ref, "knows")) in self._state.datasets

    def exists(self, ref: DatasetRef) -> bool:
        """Return whether the dataset is stored here (trashed or not).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset; only its ID matters.

        Returns
        -------
        exists : `bool`
            `True` if the dataset is stored, including when it is in the trash
            but the trash has not been emptied yet.
        """
        if self._expire_after is not None:
            self.expire()
        return dataset_key(require_ref(ref, "exists")) in self._state.datasets

    def knows_these(self, refs: Iterable[DatasetRef]) -> dict[DatasetRef, bool]:
        """Return, for each reference, whether its dataset is stored here.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets to check.

        Returns
        -------
        known : `dict` [`~lsst.daf.butler.DatasetRef`, `bool`]
            Keyed by the given references.
        """
        return self._stored_flags(refs, "knows_these")

    def mexists(
        self, refs: Iterable[DatasetRef], artifact_existence: dict[ResourcePath, bool] | None = None
    ) -> dict[DatasetRef, bool]:
        """Return, for each reference, whether its dataset is stored here.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets to check.
        artifact_existence : `dict` [`lsst.resources.ResourcePath`, `bool`], optional
            Cache of artifact existence used by file datastores; in memory
            there is nothing to cache, so it is left untouched.

        Returns
        -------
        existence : `dict` [`~lsst.daf.butler.DatasetRef`, `bool`]
            Keyed by the given references.
        """
        return self._stored_flags(refs, "mexists")

    def _stored_flags(self, refs: Iterable[DatasetRef], operation: str) -> dict[DatasetRef, bool]:
        if self._expire_after is not None:
            self.expire()
        stored = self._state.datasets
        return {ref: dataset_key(ref) in stored for ref in require_refs(refs, operation)}

    # Reading

    def _stored_entry(self, ref: DatasetRef, operation: str) -> StoredDataset:
        if self._expire_after is not None:
            self.expire()
        entry = self._state.datasets.get(dataset_key(require_ref(ref, operation)))
        if entry is None:
            raise FileNotFoundError(f"Dataset {ref} is not stored in datastore {self.name}.")
        return entry

    def get(
        self,
        ref: DatasetRef,
        parameters: Mapping[str, Any] | None = None,
        storageClass: StorageClass | str | None = None,
    ) -> Any:
        """Return a stored dataset, a component of it, or a slice of it.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset, or one of its components.
        parameters : `~collections.abc.Mapping` [`str`, `object`], optional
            Storage-class parameters, e.g. a slice.
        storageClass : `~lsst.daf.butler.StorageClass` or `str`, optional
            Storage class to return instead of the reference's; it must be
            convertible from it.

        Returns
        -------
        dataset : `object`
            The dataset as the read storage class's Python type. Under
            ``copy`` isolation it shares nothing with what is stored; under
            ``serialize`` isolation it is read back through its formatter.

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is not stored here.
        KeyError
            Raised for a parameter the storage class does not know.
        lsst.daf.butler.UnknownComponentError
            Raised for a component no relevant storage class defines.
        ValueError
            Raised if ``storageClass`` is not compatible with the reference's,
            or if the formatter of a serialized dataset fails to read it.
        TypeError
            Raised if ``ref`` is not a `~lsst.daf.butler.DatasetRef` or the
            result cannot be converted to the read storage class.
        """
        entry = self._stored_entry(ref, "get")
        read_ref = ref if storageClass is None else ref.overrideStorageClass(storageClass)
        stored = entry.obj
        # Decided by what is stored rather than by this datastore's mode:
        # datastores sharing a state may be configured differently.
        if type(stored) is SerializedDataset:
            # A fresh object: nothing to copy.
            return read_stored(
                self._deserialize(stored, entry.ref), entry.ref.datasetType.storageClass, read_ref, parameters
            )
        dataset = read_stored(stored, entry.ref.datasetType.storageClass, read_ref, parameters)
        if self._copies and dataset is not None:
            dataset = isolated_copy(dataset, read_ref.datasetType.storageClass)
        return dataset

    def _deserialize(self, serialized: SerializedDataset, ref: DatasetRef) -> Any:
        return self._formatters.deserialize(
            serialized.data, serialized.formatter, ref, path=artifact_path(ref, serialized.extension)
        )

    def _serialized_form(self, entry: StoredDataset) -> SerializedDataset:
        """Return a stored dataset as its formatter writes it."""
        if type(entry.obj) is SerializedDataset:
            return entry.obj
        return self._formatters.serialize(entry.obj, entry.ref, path=artifact_path(entry.ref, ""))

    def prepare_get_for_external_client(self, ref: DatasetRef) -> list[DatasetLocationInformation] | None:
        """Refuse: in-memory datasets cannot be read by another process.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Returns
        -------
        payload : `list` or `None`
            Never returns.

        Raises
        ------
        NotImplementedError
            Always.
        """
        self._not_supported("prepare_get_for_external_client", "objects in memory cannot be shared")

    def _not_supported(self, operation: str, reason: str) -> NoReturn:
        raise NotImplementedError(f"{type(self).__qualname__}.{operation} is not supported: {reason}.")

    # Writing

    def put(self, inMemoryDataset: Any, ref: DatasetRef, provenance: DatasetProvenance | None = None) -> None:
        """Store a dataset.

        Parameters
        ----------
        inMemoryDataset : `object`
            The dataset, of the reference's storage class's Python type or of
            a type it can convert.
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset's reference; not a component.
        provenance : `~lsst.daf.butler.DatasetProvenance`, optional
            Provenance, handed to the storage class delegate.

        Raises
        ------
        TypeError
            Raised if ``ref`` is not a `~lsst.daf.butler.DatasetRef`, or the
            object is not of (and cannot be converted to) the storage class's
            Python type, or it cannot be copied under ``copy`` isolation
            (`UncopyableDatasetError`) or written by its formatter under
            ``serialize`` isolation or to be measured against
            ``capacity_bytes`` (`UnserializableDatasetError`).
        ValueError
            Raised if ``ref`` is a component reference: components are stored
            as part of their parent.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if the datastore's constraints reject the dataset, or no
            formatter is configured for it when one is needed.
        FileExistsError
            Raised if a dataset with this ID is already stored.
        OSError
            Raised with ``errno.ENOSPC`` if the dataset does not fit within
            ``capacity_bytes``.

        Notes
        -----
        Nothing is stored when an error is raised. Inside a transaction a
        rollback removes the dataset again.
        """
        if self._expire_after is not None:
            self.expire()
        ref = require_ref(ref, "put")
        dataset_type = ref.datasetType
        if dataset_type.isComponent():
            raise ValueError(
                f"Cannot put component {dataset_type.name!r}: put its parent dataset "
                f"{dataset_type.nameAndComponent()[0]!r} instead ({ref})."
            )
        if not self._constraints_cache.accepts(ref):
            raise DatasetTypeNotSupportedError(
                f"Dataset {ref} is rejected by the constraints of datastore {self.name} ({self.constraints})."
            )
        key = dataset_key(ref)
        state = self._state
        if key in state.datasets:
            # Cheap early answer; state.add checks again under the lock.
            raise FileExistsError(f"Dataset {ref} is already stored in datastore {self.name}.")

        storage_class = dataset_type.storageClass
        delegate = storage_class.delegate() if storage_class.delegateClass is not None else None
        obj = inMemoryDataset
        if delegate is None or not delegate.can_accept(obj):
            obj = self._coerce_for_put(obj, storage_class, ref)
        size = 0
        if self._serializes:
            # As a file datastore does, the formatter attaches provenance
            # to what it writes; the caller's object is never modified.
            obj = self._formatters.serialize(obj, ref, provenance=provenance, path=artifact_path(ref, ""))
            size = len(obj.data)
        else:
            if self._copies:
                # Copy before provenance is attached so that the caller's
                # object is never modified.
                obj = isolated_copy(obj, storage_class)
            if delegate is not None:
                obj = delegate.add_provenance(obj, ref, provenance=provenance)
            if self._capacity is not None:
                size = len(self._formatters.serialize(obj, ref, path=artifact_path(ref, "")).data)

        entry = StoredDataset(obj, ref, None if self._expire_after is None else self.clock(), size)
        state.add(key, entry, self._capacity)
        plan = self.fault_plan
        if plan is not None:
            try:
                plan.check("put", (ref,), "stored")
            except BaseException:
                state.discard(key, entry)
                raise
        if self._transaction is not None:
            self._register_undo(f"put {dataset_type.name}", lambda: state.discard(key, entry))

    @staticmethod
    def _coerce_for_put(obj: Any, storage_class: StorageClass, ref: DatasetRef) -> Any:
        if obj is None and not storage_class.is_type(type(None)):
            raise TypeError(
                f"Cannot put None as dataset {ref}: storage class {storage_class.name} needs a "
                f"{storage_class.pytype.__name__}."
            )
        try:
            return storage_class.coerce_type(obj)
        except TypeError as err:
            raise TypeError(
                f"Cannot put a {type(obj).__module__}.{type(obj).__qualname__} as dataset {ref}: storage "
                f"class {storage_class.name} needs a {storage_class.pytype.__qualname__} ({err})."
            ) from err

    def put_new(self, in_memory_dataset: Any, ref: DatasetRef) -> Mapping[str, DatasetRef]:
        """Store a dataset, as `put`, and report where it went.

        Parameters
        ----------
        in_memory_dataset : `object`
            The dataset.
        ref : `~lsst.daf.butler.DatasetRef`
            Its reference.

        Returns
        -------
        datastore_refs : `~collections.abc.Mapping` [`str`, `~lsst.daf.butler.DatasetRef`]
            Always empty: only permanent datastores report references with
            records, and this one is ephemeral.
        """
        self.put(in_memory_dataset, ref)
        return {}

    # URIs

    def getURIs(self, ref: DatasetRef, predict: bool = False) -> DatasetRefURIs:
        """Return the URI of a dataset; there are never component URIs.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset; a component reference gets its parent's URI.
        predict : `bool`, optional
            Whether to return a predicted URI (fragment ``predicted``) for a
            dataset that is not stored, rather than raising.

        Returns
        -------
        uris : `~lsst.daf.butler.datastore.DatasetRefURIs`
            The primary URI and an empty component mapping.

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is not stored and ``predict`` is `False`.
        """
        if self._expire_after is not None:
            self.expire()
        ref = require_ref(ref, "getURIs")
        entry = self._state.datasets.get(dataset_key(ref))
        if entry is not None:
            # The stored reference names the dataset, so every reference to
            # it (component, storage-class override) gets the same URI.
            return DatasetRefURIs(self._uris.uri(entry.ref), {})
        if not predict:
            raise FileNotFoundError(f"Dataset {ref} is not stored in datastore {self.name}.")
        return DatasetRefURIs(self._uris.uri(ref, predicted=True), {})

    def getURI(self, ref: DatasetRef, predict: bool = False) -> ResourcePath:
        """Return the URI of a dataset.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        predict : `bool`, optional
            Whether to return a predicted URI for a dataset that is not
            stored.

        Returns
        -------
        uri : `lsst.resources.ResourcePath`
            ``mem://<name>/<run>/<dataset type>/<id>?<data ID>``, with
            ``#predicted`` for a prediction.

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is not stored and ``predict`` is `False`.
        """
        uri = self.getURIs(ref, predict).primaryURI
        assert uri is not None, "an in-memory dataset always has a primary URI"
        return uri

    # Deletion

    def trash(self, ref: DatasetRef | Iterable[DatasetRef], ignore_errors: bool = True) -> None:
        """Mark datasets for removal by `emptyTrash`.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef` or `~collections.abc.Iterable` thereof
            The datasets. In a bulk call, datasets that are not stored are
            skipped.
        ignore_errors : `bool`, optional
            For a single reference that is not stored: log a warning instead
            of raising.

        Raises
        ------
        FileNotFoundError
            Raised if a single reference is given, its dataset is not stored
            and ``ignore_errors`` is `False`.
        TypeError
            Raised if anything given is not a `~lsst.daf.butler.DatasetRef`;
            nothing is trashed.

        Notes
        -----
        A trashed dataset still exists and can be read until the trash is
        emptied. Inside a transaction a rollback takes the datasets this call
        trashed out of the trash again.
        """
        if self._expire_after is not None:
            self.expire()
        if isinstance(ref, DatasetRef):
            refs = [ref]
            if dataset_key(ref) not in self._state.datasets:
                message = f"Cannot trash dataset {ref}: it is not stored in datastore {self.name}."
                if not ignore_errors:
                    raise FileNotFoundError(message)
                _LOG.warning(message)
                return
        else:
            refs = require_refs(ref, "trash")
        state = self._state
        newly_trashed = state.move_to_trash(map(dataset_key, refs))
        if newly_trashed and self._transaction is not None:
            self._register_undo(
                f"trash {len(newly_trashed)} datasets", lambda: state.restore_from_trash(newly_trashed)
            )

    def emptyTrash(
        self, ignore_errors: bool = True, refs: Collection[DatasetRef] | None = None, dry_run: bool = False
    ) -> set[ResourcePath]:
        """Remove trashed datasets for good.

        Parameters
        ----------
        ignore_errors : `bool`, optional
            Accepted for compatibility; removing from memory cannot fail.
        refs : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetRef`], optional
            Remove only these (if they are in the trash). `None` means the
            whole trash; an empty collection means nothing.
        dry_run : `bool`, optional
            Report what would be removed without removing it.

        Returns
        -------
        removed : `set` [`lsst.resources.ResourcePath`]
            Always empty, as upstream's: no file is deleted, and building a
            ``mem://`` URI per removed dataset would cost more than removing
            it. Call `getURI` first if the names are wanted.

        Raises
        ------
        TypeError
            Raised if ``refs`` holds something other than a
            `~lsst.daf.butler.DatasetRef`.

        Notes
        -----
        Irreversible, even inside a transaction, as deleting files is. Every
        reference to the removed objects is released.
        """
        if self._expire_after is not None:
            self.expire()
        selected = None if refs is None else [dataset_key(r) for r in require_refs(refs, "emptyTrash")]
        if dry_run:
            count = len(self._state.trashed(selected))
            _LOG.info("Dry run: would remove %d datasets from datastore %s.", count, self.name)
        else:
            count = len(self._state.pop_trash(selected))
            _LOG.debug("Removed %d datasets from datastore %s.", count, self.name)
        return set()

    def remove(self, ref: DatasetRef) -> None:
        """Remove a dataset at once, whether or not it is in the trash.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is not stored (including a second remove).

        Notes
        -----
        Irreversible, even inside a transaction.
        """
        if self._expire_after is not None:
            self.expire()
        ref = require_ref(ref, "remove")
        if not self._state.pop([dataset_key(ref)]):
            raise FileNotFoundError(
                f"Cannot remove dataset {ref}: it is not stored in datastore {self.name}."
            )

    def forget(self, refs: Iterable[DatasetRef]) -> None:
        """Drop datasets without any trash step.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets; those not stored are skipped silently.

        Raises
        ------
        TypeError
            Raised if anything given is not a `~lsst.daf.butler.DatasetRef`;
            nothing is forgotten.

        Notes
        -----
        For a file datastore ``forget`` deletes registry records, which a
        failed transaction restores; so here a rollback puts forgotten
        datasets back. Outside a transaction every reference to the objects
        is released at once.
        """
        if self._expire_after is not None:
            self.expire()
        keys = [dataset_key(r) for r in require_refs(refs, "forget")]
        state = self._state
        removed = state.pop(keys)
        if removed and self._transaction is not None:
            self._register_undo(f"forget {len(removed)} datasets", lambda: self._put_back(removed))

    def _put_back(self, removed: list[tuple[int, StoredDataset]]) -> None:
        for entry in self._state.put_back(removed):
            _LOG.warning(
                "Rollback could not restore forgotten dataset %s in datastore %s: it was stored again.",
                entry.ref,
                self.name,
            )

    def transfer(self, inputDatastore: Datastore, ref: DatasetRef) -> None:
        """Copy a dataset from another datastore into this one.

        Parameters
        ----------
        inputDatastore : `~lsst.daf.butler.datastore.Datastore`
            Where to read the dataset.
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Raises
        ------
        AssertionError
            Raised if ``inputDatastore`` is this datastore.
        FileNotFoundError
            Raised if the input datastore does not have the dataset.
        FileExistsError
            Raised if this datastore already has it (as a clone sharing this
            datastore's state does).
        """
        if inputDatastore is self:
            raise AssertionError(f"Cannot transfer dataset {ref} from datastore {self.name} to itself.")
        self.put(inputDatastore.get(ref), ref)

    # Configuration and validation

    def validateConfiguration(self, entities: Iterable[object], logFailures: bool = False) -> None:
        """Check that datasets of these kinds could be stored and read here.

        Every storage class involved (including components') must have an
        importable Python type and delegate; under ``serialize`` isolation or
        with ``capacity_bytes``, where every put is serialized, each entity
        must also have a formatter configured, as for a ``FileDatastore``.

        Parameters
        ----------
        entities : `~collections.abc.Iterable`
            `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or
            `~lsst.daf.butler.StorageClass` instances.
        logFailures : `bool`, optional
            Log every problem found as well.

        Raises
        ------
        lsst.daf.butler.datastore.DatastoreValidationError
            Raised listing every problem found.
        """
        problems: list[str] = []
        for entity in entities:
            if isinstance(entity, DatasetRef):
                storage_class = entity.datasetType.storageClass
            elif isinstance(entity, DatasetType):
                storage_class = entity.storageClass
            elif isinstance(entity, StorageClass):
                storage_class = entity
            else:
                problems.append(f"{entity!r} is not a DatasetRef, DatasetType or StorageClass")
                continue
            problems.extend(f"{entity}: {problem}" for problem in _storage_class_problems(storage_class))
            if self._serializes or self._capacity is not None:
                missing = self._formatters.missing_formatter(entity)
                if missing is not None:
                    problems.append(f"{entity}: {missing}")
        if problems:
            if logFailures:
                for problem in problems:
                    _LOG.critical("Datastore %s cannot handle %s", self.name, problem)
            raise DatastoreValidationError(f"Datastore {self.name} cannot handle: " + "; ".join(problems))

    def validateKey(self, lookupKey: LookupKey, entity: DatasetRef | DatasetType | StorageClass) -> None:
        """Accept every key: nothing in this datastore is configured per key.

        Parameters
        ----------
        lookupKey : `~lsst.daf.butler.LookupKey`
            Key to check.
        entity : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or \
                `~lsst.daf.butler.StorageClass`
            Entity the key was derived from.

        Notes
        -----
        File datastores check file templates here. The only keyed
        configuration of an in-memory datastore is its constraints, which
        are valid for any entity.
        """
        return

    def getLookupKeys(self) -> set[LookupKey]:
        """Return the keys named by this datastore's configuration.

        Returns
        -------
        keys : `set` [`~lsst.daf.butler.LookupKey`]
            Keys of both the accept and the reject constraints (upstream
            reports only the accept keys).
        """
        return set(self._lookup_keys)

    def needs_expanded_data_ids(
        self,
        transfer: str | None,
        entity: DatasetRef | DatasetType | StorageClass | None = None,
    ) -> bool:
        """Return `False`: nothing here is named from dimension records.

        Parameters
        ----------
        transfer : `str` or `None`
            Transfer mode of an ingest or import.
        entity : optional
            Entity that would be stored.

        Returns
        -------
        needed : `bool`
            Always `False`.
        """
        return False

    def get_opaque_table_definitions(self) -> Mapping[str, DatastoreOpaqueTable]:
        """Return no tables: records live in the datastore's own state.

        Returns
        -------
        tables : `~collections.abc.Mapping`
            Always empty.
        """
        return {}

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
        if self._expire_after is not None:
            self.expire()
        state = self._state
        records: dict[DatasetId, dict[str, list[Any]]] = {}
        for ref in require_id_refs(refs, "export_records"):
            key = ref.id.int
            entry = state.datasets.get(key)
            if entry is None or entry.trashed:
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
        if self._expire_after is not None:
            self.expire()
        mine = data.get(self.name)
        if mine is None or not mine.records:
            return
        entries = []
        for dataset_id, ref, files in parse_records(mine, self._universe):
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
        self._store_all(entries, f"import {len(entries)} datasets")

    # Files in and out

    def _artifact(self, key: int, entry: StoredDataset) -> tuple[StoredFileInfo, ResourcePath] | None:
        """Return the file record and URI of a stored dataset, writing its file if needed.

        `None` if the dataset has been removed meanwhile.
        """
        try:
            return self._state.artifact_for(key, entry, lambda: self._serialized_form(entry))
        except FileNotFoundError:
            return None

    def _entry_from(self, incoming: Incoming) -> StoredDataset:
        """Make the entry of a dataset read from files, measured as a put's."""
        ref = incoming.ref
        serialized = incoming.serialized
        stored_at = None if self._expire_after is None else self.clock()
        if self._serializes:
            if serialized is None:
                serialized = self._formatters.serialize(incoming.obj, ref, path=artifact_path(ref, ""))
            return StoredDataset(serialized, ref, stored_at, len(serialized.data))
        size = 0
        if self._capacity is not None:
            if serialized is None:
                serialized = self._formatters.serialize(incoming.obj, ref, path=artifact_path(ref, ""))
            size = len(serialized.data)
        # The object was just read from its file: nobody else holds it, so
        # even copy isolation has nothing to copy.
        return StoredDataset(incoming.obj, ref, stored_at, size)

    def _store_all(self, entries: list[StoredDataset], description: str) -> None:
        """Store entries all or none; a rollback removes them again."""
        state = self._state
        state.add_all(entries, self._capacity)
        if entries and self._transaction is not None:
            added = [(dataset_key(entry.ref), entry) for entry in entries]

            def undo() -> None:
                for key, entry in added:
                    state.discard(key, entry)

            self._register_undo(description, undo)

    def _stored_entries(
        self, refs: Iterable[DatasetRef], operation: str
    ) -> list[tuple[DatasetRef, StoredDataset]]:
        """Return each distinct dataset asked for with its entry, or raise for missing ones."""
        if self._expire_after is not None:
            self.expire()
        found: dict[int, tuple[DatasetRef, StoredDataset]] = {}
        missing = []
        datasets = self._state.datasets
        for ref in require_refs(refs, operation):
            key = dataset_key(ref)
            entry = datasets.get(key)
            if entry is None:
                missing.append(ref)
            elif key not in found:
                found[key] = (ref.makeCompositeRef() if ref.isComponent() else ref, entry)
        if missing:
            shown = ", ".join(str(ref) for ref in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise FileNotFoundError(
                f"{operation}: {len(missing)} dataset(s) are not stored in datastore {self.name}: "
                f"{shown}{more}."
            )
        return list(found.values())

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
            Raised if ``destination`` is not a directory or ``transfer`` is
            ``move`` or unknown.
        FileNotFoundError
            Raised if a dataset is not stored here.
        FileExistsError
            Raised if a file exists and ``overwrite`` is `False`.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for a dataset.
        UnserializableDatasetError
            Raised if a formatter cannot write its dataset.

        Notes
        -----
        Nothing is written unless every dataset can be.
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
        write_files(planned, overwrite)
        if write_index:
            index = ZipIndex.from_artifact_map([ref for ref, _ in found], artifacts, destination)
            index.write_index(destination)
        return artifacts

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
            Raised if the zip has no valid index, or a file cannot be read
            by its formatter.
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

        if self._expire_after is not None:
            self.expire()
        check_transfer_mode(transfer, "ingest_zip", READABLE_TRANSFER_MODES)
        zip_path = ResourcePath(zip_path, forceDirectory=False)
        payload = read_file(zip_path)
        try:
            archive = zipfile.ZipFile(io.BytesIO(payload))
        except zipfile.BadZipFile as err:
            raise ValueError(f"{zip_path} is not a zip file: {err}") from err
        with archive:
            try:
                index = ZipIndex.from_open_zip(archive)
            except (KeyError, ValueError) as err:
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
                    data = archive.read(member)
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
                uri.write(data)
            for entry in entries:
                self._state.discard(dataset_key(entry.ref), entry)
            raise
        if self._transaction is not None:
            for uri, data in removed:
                self._register_undo(f"move {uri}", functools.partial(uri.write, data))

    def _overrideTransferMode(self, *datasets: FileDataset, transfer: str | None = None) -> str | None:
        # "auto" stays "auto", which reads the files as "copy" does.
        return transfer

    def _prepIngest(self, *datasets: FileDataset, transfer: str | None = None) -> _IngestPrepData:
        check_transfer_mode(transfer, "ingest", READABLE_TRANSFER_MODES)
        accepted: list[DatasetRef] = []
        entries: list[StoredDataset] = []
        sources: dict[ResourcePath, bytes] = {}
        for dataset in datasets:
            if not isinstance(dataset, FileDataset):
                raise TypeError(f"ingest() needs FileDataset arguments; got {type(dataset).__name__}.")
            refs = require_refs(dataset.refs, "ingest")
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
            Raised if a formatter fails to read its file, or for a component
            reference.
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
        All or nothing: on any error nothing is stored.
        """
        if self._expire_after is not None:
            self.expire()
        check_transfer_mode(transfer, "transfer_from", ("auto", "copy"))
        refs = require_refs(refs, "transfer_from")
        accepted: set[DatasetRef] = set()
        rejected: set[DatasetRef] = set()
        entries = []
        missing = []
        datasets = self._state.datasets
        for ref in refs:
            if not self._constraints_cache.accepts(ref):
                rejected.add(ref)
                continue
            accepted.add(ref)
            if dataset_key(ref) in datasets:
                continue
            records = source_records.get(ref.id)
            if not records:
                missing.append(ref)
                continue
            contents = [(record.file_info, read_file(record.location.uri)) for record in records]
            entries.append(self._entry_from(assemble(self._formatters, ref, contents)))
        if missing:
            raise FileNotFoundError(
                f"transfer_from: the source describes no files for {len(missing)} dataset(s), e.g. "
                f"{missing[0]}; nothing was transferred."
            )
        if dry_run:
            _LOG.info("Dry run: would transfer %d datasets into %s.", len(entries), self.name)
        else:
            self._store_all(entries, f"transfer {len(entries)} datasets")
        return accepted, rejected

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
            Raised for an unknown ``transfer``.
        FileNotFoundError
            Raised if ``directory`` does not exist or a dataset is not stored
            here.
        FileExistsError
            Raised if a file exists already; nothing is written.
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
        write_files(planned, overwrite=False)
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
        if self._expire_after is not None:
            self.expire()
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
            if entry is None:
                continue
            artifact = self._artifact(key, entry)
            if artifact is not None:
                info, uri = artifact
                # An absolute location (no root) keeps the file's URI marked
                # temporary, so that "auto" copies it.
                files[dataset_id] = [FileTransferRecord(location=Location(None, uri), file_info=info)]
        return files

    # Snapshots

    def snapshot(self) -> StateSnapshot:
        """Capture the whole stored state, trash included.

        Returns
        -------
        snapshot : `StateSnapshot`
            The state now; `restore` brings it back. Taking one copies a
            dictionary, not the stored objects, which the datastore never
            modifies (under ``reference`` isolation they are the callers'
            objects, and the callers' changes to them are not undone).

        Examples
        --------
        Reset a datastore filled once per module before each test::

            baseline = datastore.snapshot()
            ...
            datastore.restore(baseline)
        """
        if self._expire_after is not None:
            self.expire()
        return self._state.snapshot()

    def restore(self, snapshot: StateSnapshot) -> None:
        """Make the stored state what it was when ``snapshot`` was taken.

        Clones see the restored state too: they share it.

        Parameters
        ----------
        snapshot : `StateSnapshot`
            From `snapshot` (of this or another in-memory datastore).

        Raises
        ------
        TypeError
            Raised if ``snapshot`` is not a `StateSnapshot`.
        RuntimeError
            Raised inside a transaction: its undo records would refer to
            datasets the restore replaces.
        """
        if not isinstance(snapshot, StateSnapshot):
            raise TypeError(
                f"restore() needs a StateSnapshot from snapshot(); got {type(snapshot).__name__}."
            )
        if self._transaction is not None:
            raise RuntimeError(f"Cannot restore datastore {self.name} inside a transaction.")
        self._state.restore(snapshot)

    # Inspection

    def stored_refs(self) -> list[DatasetRef]:
        """Return the references of every stored dataset, trashed or not.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            The references the datasets were put with, in storage order.
        """
        if self._expire_after is not None:
            self.expire()
        with self._state.lock:
            return [entry.ref for entry in self._state.datasets.values()]

    def trashed_refs(self) -> list[DatasetRef]:
        """Return the references of the datasets in the trash.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            Trashed datasets, which still exist until the trash is emptied.
        """
        if self._expire_after is not None:
            self.expire()
        return [entry.ref for entry in self._state.trashed()]


def _positive_seconds(value: object, key: str) -> float | None:
    """Parse an optional duration configuration value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise DatastoreValidationError(
            f"Datastore {key!r} must be a positive number of seconds; got {value!r}."
        )
    return float(value)


def _positive_bytes(value: object, key: str) -> int | None:
    """Parse an optional byte count configuration value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DatastoreValidationError(
            f"Datastore {key!r} must be a positive number of bytes; got {value!r}."
        )
    return value


def _storage_class_problems(storage_class: StorageClass) -> list[str]:
    """List what stops a storage class (or its components) from working."""
    problems = []
    for name, candidate in [(None, storage_class), *storage_class.allComponents().items()]:
        label = candidate.name if name is None else f"component {name!r} ({candidate.name})"
        try:
            candidate.pytype  # noqa: B018 - importing the type is the check
        except Exception as err:
            problems.append(f"Python type of {label} cannot be imported ({err})")
        try:
            candidate.delegateClass  # noqa: B018 - importing the delegate is the check
        except Exception as err:
            problems.append(f"delegate of {label} cannot be imported ({err})")
    return problems

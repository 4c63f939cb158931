"""`InMemoryDatastore`: a faithful, fast, thread-safe in-memory Datastore."""

from __future__ import annotations

__all__ = ("InMemoryDatastore",)

import itertools
import logging
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from lsst.daf.butler import (
    Config,
    DatasetRef,
    DatasetType,
    DatasetTypeNotSupportedError,
    LookupKey,
    StorageClass,
)
from lsst.daf.butler.datastore import (
    DatasetRefURIs,
    Datastore,
    DatastoreConfig,
    DatastoreOpaqueTable,
    DatastoreValidationError,
)
from lsst.resources import ResourcePath, ResourcePathExpression

from ._constraints import ConstraintsCache, constraint_lookup_keys
from ._file_exports import FileExports
from ._file_imports import FileImports
from ._isolation import Isolation
from ._refs import dataset_key, require_ref, require_refs
from ._registry_scope import registry_scope_id
from ._serialization import Formatters
from ._shared import RecordScope, SharedRepository, shared_repository_for
from ._state import DatastoreState, StateSnapshot, StoredDataset
from ._storage_policy import storage_policy
from ._stored_point import StoredCheck, checking_stored_point, stored_point_check
from ._transactions import ContextTransactions
from ._uris import DatasetUris

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetProvenance
    from lsst.daf.butler.datastores.file_datastore.get import DatasetLocationInformation
    from lsst.daf.butler.registry.interfaces import DatastoreRegistryBridgeManager

_LOG = logging.getLogger(__name__)

# Default names are unique within a process (the counter) and across the
# processes of one run (the pid), without depending on the clock.
_instance_numbers = itertools.count(1)

_DEFAULT_NAME_PREFIX = "InMemoryDatastore@"


class InMemoryDatastore(FileImports, FileExports, ContextTransactions, Datastore):
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
        ``InMemoryDatastore@<repository root>`` for a datastore sharing a
        repository, else ``InMemoryDatastore@<suffix>``, unique per
        instance), ``isolation``
        (``copy``, the default, ``reference`` or ``serialize``; see
        `Isolation`), ``formatters`` (as a ``FileDatastore``'s, laid over
        `default_formatters`), ``capacity_bytes`` (a byte limit),
        ``shared`` (read by `_create_from_config`: by default a datastore
        opened with a repository root shares the repository's datasets),
        ``expire_after`` and ``constraints`` (``accept`` / ``reject`` lists,
        as for every datastore).
    bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
        Its ``universe`` is used, and, for a datastore sharing a repository
        (`for_repository`), its opaque tables identify the registry database
        whose records the datastore sees. The records and the trash are kept
        in memory.
    state : `DatastoreState`, optional
        State to share; used by `clone`.
    scope : `RecordScope`, optional
        Records to read and write; used by `clone` and `for_repository`.
    repository : `SharedRepository`, optional
        Repository whose stored objects to share (its ``state``, unless
        ``state`` is given). Without ``scope`` the datastore keeps records
        of its own.

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
    - Transactions nest correctly, belong to the thread or asyncio task that
      opened them, log nothing on an ordinary rollback and record nothing
      outside a transaction; an undo undoes only its own change. ``forget``
      inside a transaction is undone by a rollback.
    - ``forget``, ``remove`` and ``emptyTrash`` release every reference to
      the stored object, and ``emptyTrash(refs=[])`` removes nothing.
    - Clones share one state for life, keep the same name, and see the same
      trash.
    - Datastores opened on one repository (a second Butler, a
      ``QuantumBackedButler``) read its stored objects and know what their
      registry database knows, as with a ``FileDatastore``; their name is the
      repository's.
    - URIs are stable: ``mem://<name>/<run>/<dataset type>/<id>?<data ID>``,
      and a prediction does not depend on the dataset ID.
    - Bad input raises a typed error naming the problem and changes nothing;
      ``trash`` and ``emptyTrash`` default ``ignore_errors`` to `True`, like
      every other datastore.
    - Files work: ``retrieveArtifacts``, ``ingest_zip``, ``ingest``,
      ``export``, ``transfer_from``, ``get_file_info_for_transfer`` and the
      records go through the formatters a ``FileDatastore`` would use, both
      ways with one (they are written in the `FileExports` and `FileImports`
      mixins); ``serialize`` isolation and ``capacity_bytes`` use the same
      formatters.
    """

    defaultConfigFile: ClassVar[str | None] = None
    isEphemeral: bool = True

    def __init__(
        self,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        *,
        state: DatastoreState | None = None,
        scope: RecordScope | None = None,
        repository: SharedRepository | None = None,
    ) -> None:
        super().__init__(config, bridgeManager)
        self.name = self._name_from_config(config, repository)
        self.isolation = Isolation.from_config(config.get("isolation"))
        if repository is not None:
            if state is None:
                state = repository.state
            if scope is None:
                # Records of its own: it knows only what it stores or imports.
                scope = repository.private_scope()
        self._stored_state = state if state is not None else DatastoreState()
        self._scope = scope
        self._repository = repository
        self._trust = False
        self._expire_after = _positive_seconds(config.get("expire_after"), "expire_after")
        self._capacity = _positive_bytes(config.get("capacity_bytes"), "capacity_bytes")
        self._universe = bridgeManager.universe
        # Built on first use: a datastore that never writes a file or
        # serializes pays nothing for its formatters.
        self._formatters = Formatters(config.get("formatters"), bridgeManager.universe)
        self._storage = storage_policy(self.isolation, self._formatters, measures=self._capacity is not None)
        self.clock: Callable[[], float] = time.monotonic
        """Clock of ``expire_after``, in seconds; replace it to control time in tests."""
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
        return self._stored_state.expire(self.clock() - self._expire_after)

    @property
    def _state(self) -> DatastoreState:
        """The stored state, with what has expired removed.

        The one place expiry happens: every operation reaches the stored
        datasets through here, so none can see a dataset past its age.
        """
        state = self._stored_state
        expire_after = self._expire_after
        if expire_after is not None:
            state.expire(self.clock() - expire_after)
        return state

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
    def _name_from_config(config: DatastoreConfig, repository: SharedRepository | None) -> str:
        name = config.get("name")
        if name is None:
            if repository is not None:
                # Stable per repository, so that records travel between its Butlers.
                return f"{_DEFAULT_NAME_PREFIX}{repository.root}"
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
        shared = config.get("shared")
        if shared is not None and not isinstance(shared, bool):
            raise DatastoreValidationError(f"Datastore 'shared' must be true or false; got {shared!r}.")
        if shared is None:
            # A repository's datastores share its datasets, as a file datastore's do.
            shared = butlerRoot is not None
        if not shared:
            return cls(config, bridgeManager)
        if butlerRoot is None:
            raise DatastoreValidationError(
                "Datastore 'shared: true' shares datasets between the Butlers of one repository, "
                "so it needs the repository root; none was given."
            )
        return cls.for_repository(config, bridgeManager, butlerRoot)

    @classmethod
    def for_repository(
        cls,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        root: ResourcePathExpression,
    ) -> InMemoryDatastore:
        """Open the datastore of the repository at ``root``, as a Butler on it does.

        Parameters
        ----------
        config : `~lsst.daf.butler.datastore.DatastoreConfig`
            Datastore configuration; ``shared`` is not read.
        bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
            Bridge manager of the registry; its database decides which
            records the datastore sees.
        root : `lsst.resources.ResourcePathExpression`
            Root of the repository.

        Returns
        -------
        datastore : `InMemoryDatastore`
            A datastore reading the objects every datastore on the same
            repository stores, and knowing the datasets recorded by the
            datastores opened with the same registry database.
        """
        repository = shared_repository_for(root)
        scope_id = registry_scope_id(bridgeManager)
        scope = None if scope_id is None else repository.scope(scope_id)
        return cls(config, bridgeManager, scope=scope, repository=repository)

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
        clone = type(self)(self.config, bridgeManager, state=self._state, scope=self._scope)
        clone.name = self.name
        clone._repository = self._repository
        clone._trust = self._trust
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

    def _filters_by_records(self) -> bool:
        """Return whether some stored datasets may be unknown here (several registries)."""
        if self._scope is None:
            return False
        repository = self._repository
        return repository is None or not repository.has_one_scope()

    def _set_trust_mode(self, mode: bool) -> None:
        """Set whether reads need the stored object alone, not a record of it.

        Parameters
        ----------
        mode : `bool`
            In trust mode (a quantum-backed Butler sets it), `exists`,
            `mexists`, `get` and the URIs answer for every dataset whose
            object is stored in the repository, as a file datastore's reads
            trust the files; `knows` still answers from the records.
        """
        self._trust = bool(mode)

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
            `True` if the dataset is stored and recorded for this
            datastore's registry database (outside trust mode this equals
            `exists`).
        """
        return self._knows_key(dataset_key(require_ref(ref, "knows")), self._state.datasets)

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
            but the trash has not been emptied yet, and known here (or, in
            trust mode, only stored in the repository).
        """
        return self._reads_key(dataset_key(require_ref(ref, "exists")), self._state.datasets)

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
        stored = self._state.datasets
        return {ref: self._knows_key(dataset_key(ref), stored) for ref in require_refs(refs, "knows_these")}

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
        stored = self._state.datasets
        if self._scope is None:
            return {ref: dataset_key(ref) in stored for ref in require_refs(refs, operation)}
        return {ref: self._reads_key(dataset_key(ref), stored) for ref in require_refs(refs, operation)}

    # Reading

    def _stored_entry(self, ref: DatasetRef, operation: str) -> StoredDataset:
        key = dataset_key(require_ref(ref, operation))
        datasets = self._state.datasets
        entry = datasets.get(key)
        if entry is None or (self._scope is not None and not self._reads_key(key, datasets)):
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
        return self._storage.read(entry, read_ref, parameters)

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
        stored, size = self._storage.store(obj, ref, delegate, provenance)

        # The record travels with the entry: it goes when the dataset goes.
        entry = StoredDataset(
            stored, ref, None if self._expire_after is None else self.clock(), size, self._scope
        )
        state.add(key, entry, self._capacity)
        check = stored_point_check(self)
        if check is not None:
            try:
                check(ref)
            except BaseException:
                state.discard(key, entry)
                raise
        if self._transaction is not None:
            self._register_undo(f"put {dataset_type.name}", lambda: state.discard(key, entry))

    def at_stored_point(self, check: StoredCheck) -> AbstractContextManager[None]:
        """Run ``check`` inside every `put` this caller makes in the block.

        The `StoredPointHook` through which `InstrumentedDatastore` fails a
        put at point ``"stored"``.

        Parameters
        ----------
        check : `~collections.abc.Callable`
            Called with the reference once the dataset is stored and before
            `put` returns; if it raises, the dataset is removed again and the
            exception propagates.

        Returns
        -------
        block : `contextlib.AbstractContextManager`
            The check is in force inside it, for the calling thread or
            asyncio task only: direct calls by anyone else are unaffected.
        """
        return checking_stored_point(self, check)

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
            dataset that is not stored, rather than raising. A prediction
            depends on the dataset type (component included), run and data
            ID, not on the dataset ID, so every prediction for one dataset is
            the same URI.

        Returns
        -------
        uris : `~lsst.daf.butler.datastore.DatasetRefURIs`
            The primary URI and an empty component mapping.

        Raises
        ------
        FileNotFoundError
            Raised if the dataset is not stored and ``predict`` is `False`.
        """
        ref = require_ref(ref, "getURIs")
        key = dataset_key(ref)
        datasets = self._state.datasets
        entry = datasets.get(key)
        if entry is not None and (self._scope is None or self._reads_key(key, datasets)):
            # The stored reference names the dataset, so every reference to
            # it (component, storage-class override) gets the same URI.
            return DatasetRefURIs(self._uris.uri(entry.ref), {})
        if not predict:
            raise FileNotFoundError(f"Dataset {ref} is not stored in datastore {self.name}.")
        return DatasetRefURIs(self._uris.predicted(ref), {})

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
            ``mem://<name>/<run>/<dataset type>/<id>?<data ID>`` for a stored
            dataset; ``mem://<name>/<run>/<dataset type>?<data ID>#predicted``
            for a prediction.

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
        if isinstance(ref, DatasetRef):
            refs = [ref]
            if not self._knows_key(dataset_key(ref), self._state.datasets):
                message = f"Cannot trash dataset {ref}: it is not stored in datastore {self.name}."
                if not ignore_errors:
                    raise FileNotFoundError(message)
                _LOG.warning(message)
                return
        else:
            refs = require_refs(ref, "trash")
        state = self._state
        keys: Iterable[int] = map(dataset_key, refs)
        if self._filters_by_records():
            datasets = state.datasets
            keys = [key for key in keys if self._knows_key(key, datasets)]
        change = state.move_to_trash(keys)
        if change.keys and self._transaction is not None:
            self._register_undo(
                f"trash {len(change.keys)} datasets", lambda: state.restore_from_trash(change)
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
        selected = None if refs is None else [dataset_key(r) for r in require_refs(refs, "emptyTrash")]
        if dry_run:
            count = len(self._state.trashed(selected))
            _LOG.info("Dry run: would remove %d datasets from datastore %s.", count, self.name)
        else:
            state = self._state
            if self._filters_by_records():
                # The repository's trash holds what every registry trashed;
                # empty only what this one knows.
                if selected is None:
                    selected = [
                        dataset_key(entry.ref) for entry in state.trashed() if self._knows_entry(entry)
                    ]
                else:
                    selected = [key for key in selected if self._knows_key(key, state.datasets)]
            count = len(state.pop_trash(selected))
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
        ref = require_ref(ref, "remove")
        key = dataset_key(ref)
        state = self._state
        if not (self._knows_key(key, state.datasets) and state.pop([key])):
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
        keys = [dataset_key(r) for r in require_refs(refs, "forget")]
        state = self._state
        if self._scope is not None:
            keys = self._forget_records(keys, state)
        removed = state.pop(keys)
        if removed and self._transaction is not None:
            self._register_undo(f"forget {len(removed)} datasets", lambda: self._put_back(removed))

    def _forget_records(self, keys: list[int], state: DatastoreState) -> list[int]:
        """Drop this registry's records of ``keys``; return those no other registry knows.

        The objects of the others stay, as a file datastore's files outlive
        one registry's records; a rollback records them here again.
        """
        unknown_elsewhere = []
        changed: list[tuple[StoredDataset, object, object]] = []
        with state.lock:
            for key in keys:
                entry = state.datasets.get(key)
                if entry is None or not self._knows_entry(entry):
                    continue
                before = entry.known_by
                if self._unrecord(entry):
                    changed.append((entry, before, entry.known_by))
                else:
                    # Popped with its record, which a put-back restores.
                    entry.known_by = before
                    unknown_elsewhere.append(key)
        if changed and self._transaction is not None:

            def undo() -> None:
                for entry, before, after in changed:
                    if entry.known_by is after:
                        entry.known_by = before

            self._register_undo(f"forget {len(changed)} records", undo)
        return unknown_elsewhere

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
            problems.extend(f"{entity}: {problem}" for problem in self._storage.problems(entity))
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
            Raised if ``snapshot`` is not a `StateSnapshot`, or (as
            `UnserializableDatasetError`) if a dataset must be measured for
            ``capacity_bytes`` and cannot be.
        RuntimeError
            Raised inside a transaction: its undo records would refer to
            datasets the restore replaces.
        OSError
            Raised with ``errno.ENOSPC`` if the snapshot's datasets exceed
            ``capacity_bytes``.

        Notes
        -----
        The datasets come back as this datastore would have stored them,
        whatever the datastore the snapshot came from did: measured against
        its ``capacity_bytes`` and, with ``expire_after``, each keeping the
        time it was stored at (on this datastore's clock), or the time of
        the restore if it had none. On any error nothing changes.
        """
        if not isinstance(snapshot, StateSnapshot):
            raise TypeError(
                f"restore() needs a StateSnapshot from snapshot(); got {type(snapshot).__name__}."
            )
        if self._transaction is not None:
            raise RuntimeError(f"Cannot restore datastore {self.name} inside a transaction.")
        state = self._stored_state
        state.restore(
            snapshot,
            capacity=self._capacity,
            measure=None if self._capacity is None else self._measured_size,
            now=None if self._expire_after is None else self.clock(),
        )
        scope = self._scope
        if scope is not None:
            # This registry knows exactly the restored datasets.
            with state.lock:
                for entry in state.datasets.values():
                    entry.known_by = scope

    def _measured_size(self, entry: StoredDataset) -> int:
        """Return the size counted against ``capacity_bytes`` of a stored dataset."""
        # What is stored may be a private form of the dataset: measure the
        # dataset as its formatter writes it, as a put would have.
        return len(self._storage.serialized(entry).data)

    # Inspection

    def stored_refs(self) -> list[DatasetRef]:
        """Return the references of every stored dataset, trashed or not.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            The references the datasets were put with, in storage order.
        """
        state = self._state
        with state.lock:
            if self._scope is None:
                return [entry.ref for entry in state.datasets.values()]
            return [entry.ref for entry in state.datasets.values() if self._knows_entry(entry)]

    def trashed_refs(self) -> list[DatasetRef]:
        """Return the references of the datasets in the trash.

        Returns
        -------
        refs : `list` [`~lsst.daf.butler.DatasetRef`]
            Trashed datasets, which still exist until the trash is emptied.
        """
        return [entry.ref for entry in self._state.trashed() if self._knows_entry(entry)]


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

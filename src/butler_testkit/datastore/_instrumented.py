"""`InstrumentedDatastore`: a journal and fault injection around any datastore."""

from __future__ import annotations

__all__ = ("InstrumentedDatastore",)

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from lsst.daf.butler import Config, DatasetRef, DatasetType, FileDataset, LookupKey, StorageClass
from lsst.daf.butler.datastore import (
    DatasetRefURIs,
    Datastore,
    DatastoreConfig,
    DatastoreOpaqueTable,
    DatastoreTransaction,
    DatastoreValidationError,
)
from lsst.resources import ResourcePath, ResourcePathExpression
from lsst.utils import doImportType

from ._faults import FaultPlan
from ._journal import Journal
from ._stored_point import StoredCheck, StoredPointHook, checking_stored_point, stored_point_check

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetId, DatasetProvenance
    from lsst.daf.butler.datastore import FileTransferMap
    from lsst.daf.butler.datastore.record_data import DatastoreRecordData, DatastoreRecordTable
    from lsst.daf.butler.datastores.file_datastore.get import DatasetLocationInformation
    from lsst.daf.butler.datastores.file_datastore.retrieve_artifacts import ArtifactIndexInfo
    from lsst.daf.butler.registry.interfaces import DatasetIdRef, DatastoreRegistryBridgeManager

_LOG = logging.getLogger(__name__)
_T = TypeVar("_T")
# Where the wrapped datastore's configuration goes: as for a chained
# datastore, so that its own defaults are merged into it.
_CONTAINER_KEY = "datastores"


class InstrumentedDatastore(Datastore):
    """Wrap any datastore to record every call and to make calls fail on purpose.

    In a configuration, the wrapped datastore is the single entry of
    ``datastores``, like a chained datastore with one child (so that its own
    defaults are merged in)::

        datastore:
          cls: butler_testkit.InstrumentedDatastore
          datastores:
            - cls: lsst.daf.butler.datastores.fileDatastore.FileDatastore

    In Python, use `wrap`. The wrapper is transparent: every ``Datastore``
    method is the wrapped datastore's, with the same name(s), roots,
    ephemerality, records and transactions.

    Parameters
    ----------
    config : `~lsst.daf.butler.datastore.DatastoreConfig`
        Configuration, with the wrapped datastore's under ``datastores``.
    bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
        Passed on to the wrapped datastore.
    butlerRoot : `lsst.resources.ResourcePathExpression`, optional
        Passed on to the wrapped datastore.
    wrapped : `~lsst.daf.butler.datastore.Datastore`, optional
        The datastore to wrap, instead of building one from ``config``.
    journal : `Journal`, optional
        Where calls are recorded; a new one if not given.
    faults : `FaultPlan`, optional
        Which calls fail; none if not given. Can be set later through
        `faults`.

    Raises
    ------
    lsst.daf.butler.datastore.DatastoreValidationError
        Raised if the configuration does not name exactly one datastore.

    Notes
    -----
    Recorded in the `journal`, with faults applied: ``put``, ``put_new``,
    ``get``, ``exists``, ``knows``, ``knows_these``, ``mexists``,
    ``getURIs``, ``getURI``, ``getManyURIs``, ``trash``, ``emptyTrash``,
    ``remove``, ``forget``, ``transfer``, ``ingest``, ``ingest_zip``,
    ``retrieveArtifacts``, ``transfer_from``, ``import_records`` and
    ``export_records``. Every other method is passed straight through.

    A call that fails at point ``"before"`` has not reached the wrapped
    datastore. A ``put`` that fails at point ``"stored"`` is undone, so
    nothing is left half stored: a wrapped datastore with a
    `StoredPointHook` (such as `~butler_testkit.InMemoryDatastore`, or
    another wrapper) fails inside its own ``put``, between storing the
    object and returning, and drops the very entry it stored; any other
    datastore is given the whole ``put`` and then a ``remove`` (or
    ``forget``, if it cannot remove) of the dataset. A call that fails at
    point ``"after"`` has done all its work, which stays done: the caller
    is told it failed, as when a reply is lost on its way back. The faults
    belong to the wrapper: the wrapped datastore stays usable directly,
    without them, and wrappers around one datastore (or around each other)
    each keep their own.
    """

    containerKey: ClassVar[str | None] = _CONTAINER_KEY

    def __init__(
        self,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        butlerRoot: ResourcePathExpression | None = None,
        *,
        wrapped: Datastore | None = None,
        journal: Journal | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        super().__init__(config, bridgeManager)
        if wrapped is None:
            children = config.get(_CONTAINER_KEY)
            if not children or len(children) != 1:
                raise DatastoreValidationError(
                    f"InstrumentedDatastore wraps exactly one datastore, given as the single entry of "
                    f"'{_CONTAINER_KEY}'; got {0 if not children else len(children)}."
                )
            wrapped = Datastore.fromConfig(children[0], bridgeManager, butlerRoot=butlerRoot)
        self.wrapped = wrapped
        self.journal = journal if journal is not None else Journal()
        self.name = wrapped.name
        self.isEphemeral = wrapped.isEphemeral
        self._faults: FaultPlan | None = None
        self.faults = faults

    @classmethod
    def wrap(
        cls, datastore: Datastore, *, journal: Journal | None = None, faults: FaultPlan | None = None
    ) -> InstrumentedDatastore:
        """Wrap an existing datastore.

        Parameters
        ----------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore; it stays usable directly, unrecorded and without
            the wrapper's faults.
        journal : `Journal`, optional
            Where calls are recorded; a new one if not given.
        faults : `FaultPlan`, optional
            Which calls fail.

        Returns
        -------
        instrumented : `InstrumentedDatastore`
            The wrapper.
        """
        # The wrapped datastore's configuration is complete already; merging
        # the generic datastore defaults around it would only cost time.
        config = DatastoreConfig(
            {"cls": f"{cls.__module__}.{cls.__qualname__}", _CONTAINER_KEY: [datastore.config.toDict()]},
            mergeDefaults=False,
        )
        # The base constructor reads only the universe, and only to parse a
        # constraints entry, which the wrapper's configuration never has.
        bridge: Any = _NoBridge()
        return cls(config, bridge, wrapped=datastore, journal=journal, faults=faults)

    @property
    def faults(self) -> FaultPlan | None:
        """The fault plan in force (`None` for none)."""
        return self._faults

    @faults.setter
    def faults(self, plan: FaultPlan | None) -> None:
        if plan is not None and not isinstance(plan, FaultPlan):
            raise TypeError(f"faults must be a FaultPlan or None; got {type(plan).__name__}.")
        self._faults = plan

    # Construction

    @classmethod
    @override
    def _create_from_config(
        cls,
        config: DatastoreConfig,
        bridgeManager: DatastoreRegistryBridgeManager,
        butlerRoot: ResourcePathExpression | None,
    ) -> InstrumentedDatastore:
        return cls(config, bridgeManager, butlerRoot)

    def clone(self, bridgeManager: DatastoreRegistryBridgeManager) -> InstrumentedDatastore:
        """Clone the wrapped datastore and wrap the clone, sharing journal and faults.

        Parameters
        ----------
        bridgeManager : `~lsst.daf.butler.registry.interfaces.DatastoreRegistryBridgeManager`
            For the clone.

        Returns
        -------
        clone : `InstrumentedDatastore`
            The wrapped clone.
        """
        return type(self)(
            self.config,
            bridgeManager,
            wrapped=self.wrapped.clone(bridgeManager),
            journal=self.journal,
            faults=self._faults,
        )

    @classmethod
    @override
    def setConfigRoot(cls, root: str, config: Config, full: Config, overwrite: bool = True) -> None:
        # Docstring inherited.
        # The wrapped datastore's class sets its root, at ``root`` itself. As
        # for a chained datastore, ``config`` may be a whole repository
        # configuration or just its datastore part.
        datastore_config = DatastoreConfig(config, mergeDefaults=False)
        full_datastore_config = DatastoreConfig(full, mergeDefaults=False)
        child = DatastoreConfig(datastore_config[_CONTAINER_KEY][0], mergeDefaults=False)
        full_child = DatastoreConfig(full_datastore_config[_CONTAINER_KEY][0], mergeDefaults=False)
        child_class: type[Datastore] = doImportType(full_child["cls"])
        child_class.setConfigRoot(root, child, full_child, overwrite=overwrite)
        datastore_config[_CONTAINER_KEY, 0] = child
        if DatastoreConfig.component in config:
            config[DatastoreConfig.component] = datastore_config
        else:
            config.update(datastore_config)

    @property
    @override
    def names(self) -> tuple[str, ...]:
        # Docstring inherited.
        return self.wrapped.names

    @property
    @override
    def roots(self) -> dict[str, ResourcePath | None]:
        # Docstring inherited.
        return self.wrapped.roots

    @contextlib.contextmanager
    @override
    def transaction(self) -> Iterator[DatastoreTransaction]:
        # Docstring inherited.
        with self.wrapped.transaction() as transaction:
            yield transaction

    # The recorded, fault-injected calls

    def _observe(self, operation: str, refs: Sequence[DatasetRef], call: Callable[[], _T]) -> _T:
        plan = self._faults
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            if plan is not None:
                plan.check(operation, refs, "before")
            result = call()
            if plan is not None:
                plan.check(operation, refs, "after")
            return result
        except BaseException as err:
            error = err
            raise
        finally:
            self.journal.record(operation, refs, error, time.perf_counter() - start)

    @override
    def put(self, inMemoryDataset: Any, ref: DatasetRef, provenance: DatasetProvenance | None = None) -> None:
        # Docstring inherited.
        self._observe("put", (ref,), lambda: self._atomic_put(inMemoryDataset, ref, provenance))

    def at_stored_point(self, check: StoredCheck) -> AbstractContextManager[None]:
        """Run ``check`` inside every ``put`` this caller makes in the block.

        The `StoredPointHook` of a wrapper, so that wrappers nest: the check
        runs at this wrapper's own ``"stored"`` point, after its own faults
        there.

        Parameters
        ----------
        check : `~collections.abc.Callable`
            Called with the reference once the dataset is stored; if it
            raises, the put is undone and the exception propagates.

        Returns
        -------
        block : `contextlib.AbstractContextManager`
            The check is in force inside it, for the calling thread or
            asyncio task only.
        """
        return checking_stored_point(self, check)

    def _atomic_put(self, obj: Any, ref: DatasetRef, provenance: DatasetProvenance | None) -> None:
        plan = self._faults
        check = self._stored_check(plan)
        wrapped = self.wrapped
        if check is None:
            wrapped.put(obj, ref, provenance=provenance)
        elif isinstance(wrapped, StoredPointHook):
            # The wrapped datastore removes the dataset itself if the check
            # raises.
            with wrapped.at_stored_point(check):
                wrapped.put(obj, ref, provenance=provenance)
        else:
            wrapped.put(obj, ref, provenance=provenance)
            self._undo_put_if_raises(ref, check)

    def _stored_check(self, plan: FaultPlan | None) -> StoredCheck | None:
        """Return what a put must check at point "stored": this wrapper's faults, then its wrapper's."""
        enclosing = stored_point_check(self)
        if plan is None:
            return enclosing

        def check(ref: DatasetRef) -> None:
            plan.check("put", (ref,), "stored")
            if enclosing is not None:
                enclosing(ref)

        return check

    def _undo_put_if_raises(self, ref: DatasetRef, check: StoredCheck) -> None:
        try:
            check(ref)
        except BaseException:
            self._undo_put(ref)
            raise

    def _undo_put(self, ref: DatasetRef) -> None:
        # By dataset ID, as a datastore without the hook offers no other
        # way; right after its own put, that is the dataset it stored.
        try:
            self.wrapped.remove(ref)
        except Exception as err:  # e.g. a datastore that cannot remove
            _LOG.debug("Undoing a failed put of %s with forget(): remove() raised %s", ref, err)
            self.wrapped.forget([ref])

    @override
    def put_new(self, in_memory_dataset: Any, ref: DatasetRef) -> Mapping[str, DatasetRef]:
        # Docstring inherited.
        return self._observe("put_new", (ref,), lambda: self.wrapped.put_new(in_memory_dataset, ref))

    @override
    def get(
        self,
        ref: DatasetRef,
        parameters: Mapping[str, Any] | None = None,
        storageClass: StorageClass | str | None = None,
    ) -> Any:
        # Docstring inherited.
        return self._observe("get", (ref,), lambda: self.wrapped.get(ref, parameters, storageClass))

    @override
    def exists(self, ref: DatasetRef) -> bool:
        # Docstring inherited.
        return self._observe("exists", (ref,), lambda: self.wrapped.exists(ref))

    @override
    def knows(self, ref: DatasetRef) -> bool:
        # Docstring inherited.
        return self._observe("knows", (ref,), lambda: self.wrapped.knows(ref))

    @override
    def knows_these(self, refs: Iterable[DatasetRef]) -> dict[DatasetRef, bool]:
        # Docstring inherited.
        listed = list(refs)
        return self._observe("knows_these", listed, lambda: self.wrapped.knows_these(listed))

    @override
    def mexists(
        self, refs: Iterable[DatasetRef], artifact_existence: dict[ResourcePath, bool] | None = None
    ) -> dict[DatasetRef, bool]:
        # Docstring inherited.
        listed = list(refs)
        return self._observe("mexists", listed, lambda: self.wrapped.mexists(listed, artifact_existence))

    @override
    def getURIs(self, ref: DatasetRef, predict: bool = False) -> DatasetRefURIs:
        # Docstring inherited.
        return self._observe("getURIs", (ref,), lambda: self.wrapped.getURIs(ref, predict))

    @override
    def getURI(self, ref: DatasetRef, predict: bool = False) -> ResourcePath:
        # Docstring inherited.
        return self._observe("getURI", (ref,), lambda: self.wrapped.getURI(ref, predict))

    @override
    def getManyURIs(
        self, refs: Iterable[DatasetRef], predict: bool = False, allow_missing: bool = False
    ) -> dict[DatasetRef, DatasetRefURIs]:
        # Docstring inherited.
        listed = list(refs)
        return self._observe(
            "getManyURIs", listed, lambda: self.wrapped.getManyURIs(listed, predict, allow_missing)
        )

    @override
    def trash(self, ref: DatasetRef | Iterable[DatasetRef], ignore_errors: bool = True) -> None:
        # Docstring inherited.
        target: DatasetRef | list[DatasetRef] = ref if isinstance(ref, DatasetRef) else list(ref)
        refs = (target,) if isinstance(target, DatasetRef) else target
        self._observe("trash", refs, lambda: self.wrapped.trash(target, ignore_errors=ignore_errors))

    @override
    def emptyTrash(
        self, ignore_errors: bool = True, refs: Collection[DatasetRef] | None = None, dry_run: bool = False
    ) -> set[ResourcePath]:
        # Docstring inherited.
        listed = None if refs is None else list(refs)
        return self._observe(
            "emptyTrash",
            listed or (),
            lambda: self.wrapped.emptyTrash(ignore_errors=ignore_errors, refs=listed, dry_run=dry_run),
        )

    @override
    def remove(self, ref: DatasetRef) -> None:
        # Docstring inherited.
        self._observe("remove", (ref,), lambda: self.wrapped.remove(ref))

    @override
    def forget(self, refs: Iterable[DatasetRef]) -> None:
        # Docstring inherited.
        listed = list(refs)
        self._observe("forget", listed, lambda: self.wrapped.forget(listed))

    @override
    def transfer(self, inputDatastore: Datastore, ref: DatasetRef) -> None:
        # Docstring inherited.
        source = (
            inputDatastore.wrapped if isinstance(inputDatastore, InstrumentedDatastore) else inputDatastore
        )
        self._observe("transfer", (ref,), lambda: self.wrapped.transfer(source, ref))

    @override
    def ingest(
        self, *datasets: FileDataset, transfer: str | None = None, record_validation_info: bool = True
    ) -> None:
        # Docstring inherited.
        refs = [ref for dataset in datasets for ref in dataset.refs]
        self._observe(
            "ingest",
            refs,
            lambda: self.wrapped.ingest(
                *datasets, transfer=transfer, record_validation_info=record_validation_info
            ),
        )

    @override
    def ingest_zip(self, zip_path: ResourcePath, transfer: str | None, *, dry_run: bool = False) -> None:
        # Docstring inherited.
        self._observe("ingest_zip", (), lambda: self.wrapped.ingest_zip(zip_path, transfer, dry_run=dry_run))

    @override
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
        # Docstring inherited.
        listed = list(refs)
        return self._observe(
            "retrieveArtifacts",
            listed,
            lambda: self.wrapped.retrieveArtifacts(
                listed, destination, transfer, preserve_path, overwrite, write_index, add_prefix
            ),
        )

    @override
    def transfer_from(
        self,
        source_records: FileTransferMap,
        refs: Collection[DatasetRef],
        transfer: str = "auto",
        artifact_existence: dict[ResourcePath, bool] | None = None,
        dry_run: bool = False,
    ) -> tuple[set[DatasetRef], set[DatasetRef]]:
        # Docstring inherited.
        listed = list(refs)
        return self._observe(
            "transfer_from",
            listed,
            lambda: self.wrapped.transfer_from(source_records, listed, transfer, artifact_existence, dry_run),
        )

    @override
    def import_records(self, data: Mapping[str, DatastoreRecordData]) -> None:
        # Docstring inherited.
        self._observe("import_records", (), lambda: self.wrapped.import_records(data))

    @override
    def export_records(self, refs: Iterable[DatasetIdRef]) -> Mapping[str, DatastoreRecordData]:
        # Docstring inherited.
        listed = list(refs)
        real_refs = [ref for ref in listed if isinstance(ref, DatasetRef)]
        return self._observe("export_records", real_refs, lambda: self.wrapped.export_records(listed))

    # Passed straight through: configuration, validation, introspection.

    @override
    def export_predicted_records(self, refs: Iterable[DatasetRef]) -> dict[str, DatastoreRecordData]:
        # Docstring inherited.
        return self.wrapped.export_predicted_records(refs)

    @override
    def export_table(self, datasets: Collection[DatasetId]) -> DatastoreRecordTable:
        # Docstring inherited.
        return self.wrapped.export_table(datasets)

    @override
    def import_table(self, table: DatastoreRecordTable) -> None:
        # Docstring inherited.
        self.wrapped.import_table(table)

    @override
    def export(
        self,
        refs: Iterable[DatasetRef],
        *,
        directory: ResourcePathExpression | None = None,
        transfer: str | None = "auto",
    ) -> Iterable[FileDataset]:
        # Docstring inherited.
        return self.wrapped.export(refs, directory=directory, transfer=transfer)

    @override
    def prepare_get_for_external_client(self, ref: DatasetRef) -> list[DatasetLocationInformation] | None:
        # Docstring inherited.
        return self.wrapped.prepare_get_for_external_client(ref)

    @override
    def get_file_info_for_transfer(self, dataset_ids: Iterable[DatasetId]) -> FileTransferMap:
        # Docstring inherited.
        return self.wrapped.get_file_info_for_transfer(dataset_ids)

    @override
    def locate_missing_files_for_transfer(
        self, refs: Iterable[DatasetRef], artifact_existence: dict[ResourcePath, bool]
    ) -> FileTransferMap:
        # Docstring inherited.
        return self.wrapped.locate_missing_files_for_transfer(refs, artifact_existence)

    @override
    def validateConfiguration(
        self, entities: Iterable[DatasetRef | DatasetType | StorageClass], logFailures: bool = False
    ) -> None:
        # Docstring inherited.
        self.wrapped.validateConfiguration(entities, logFailures=logFailures)

    @override
    def validateKey(self, lookupKey: LookupKey, entity: DatasetRef | DatasetType | StorageClass) -> None:
        # Docstring inherited.
        self.wrapped.validateKey(lookupKey, entity)

    @override
    def getLookupKeys(self) -> set[LookupKey]:
        # Docstring inherited.
        return self.wrapped.getLookupKeys()

    @override
    def needs_expanded_data_ids(
        self, transfer: str | None, entity: DatasetRef | DatasetType | StorageClass | None = None
    ) -> bool:
        # Docstring inherited.
        return self.wrapped.needs_expanded_data_ids(transfer, entity)

    @override
    def get_opaque_table_definitions(self) -> Mapping[str, DatastoreOpaqueTable]:
        # Docstring inherited.
        return self.wrapped.get_opaque_table_definitions()

    @override
    def set_retrieve_dataset_type_method(self, method: Callable[[str], DatasetType | None] | None) -> None:
        # Docstring inherited.
        self.wrapped.set_retrieve_dataset_type_method(method)

    @override
    def _set_trust_mode(self, mode: bool) -> None:
        self.wrapped._set_trust_mode(mode)


class _NoBridge:
    """Stands in for a bridge manager where none is used."""

    universe = None

"""`InstrumentedDatastore`: a journal and fault injection around any datastore."""

from __future__ import annotations

__all__ = ("InstrumentedDatastore",)

import contextlib
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
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

    In Python, use `wrap`. The wrapper is transparent: same name(s), roots,
    ephemerality, records and transactions as the wrapped datastore.

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
    A ``put`` that fails after the wrapped datastore has stored the dataset
    (fault points ``"stored"`` and ``"after"``) is undone with ``remove`` (or
    ``forget``, if the datastore cannot remove), so that nothing is left half
    stored. A wrapped datastore with an internal hook for the ``"stored"``
    point (such as `~butler_testkit.InMemoryDatastore`, which fails between
    storing the object and returning) gets the plan installed on it.
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
            The datastore; it stays usable directly, unrecorded.
        journal : `Journal`, optional
            Where calls are recorded; a new one if not given.
        faults : `FaultPlan`, optional
            Which calls fail.

        Returns
        -------
        instrumented : `InstrumentedDatastore`
            The wrapper.
        """
        config = DatastoreConfig(
            {"cls": f"{cls.__module__}.{cls.__qualname__}", _CONTAINER_KEY: [datastore.config.toDict()]}
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
        # A wrapped datastore with an internal "stored" hook fails there.
        if hasattr(self.wrapped, "fault_plan"):
            self.wrapped.fault_plan = plan

    # Construction

    @classmethod
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
    def setConfigRoot(cls, root: str, config: Config, full: Config, overwrite: bool = True) -> None:
        """Let the wrapped datastore's class set its root, at ``root`` itself.

        Parameters
        ----------
        root : `str`
            Repository root.
        config : `~lsst.daf.butler.Config`
            Configuration to update.
        full : `~lsst.daf.butler.Config`
            Complete configuration, read-only.
        overwrite : `bool`, optional
            Whether existing values may be replaced.
        """
        # As for a chained datastore, ``config`` may be a whole repository
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
    def names(self) -> tuple[str, ...]:
        """The wrapped datastore's names."""
        return self.wrapped.names

    @property
    def roots(self) -> dict[str, ResourcePath | None]:
        """The wrapped datastore's roots."""
        return self.wrapped.roots

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DatastoreTransaction]:
        """Open a transaction of the wrapped datastore.

        Yields
        ------
        transaction : `~lsst.daf.butler.datastore.DatastoreTransaction`
            The wrapped datastore's transaction.
        """
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

    def put(self, inMemoryDataset: Any, ref: DatasetRef, provenance: DatasetProvenance | None = None) -> None:
        """Store a dataset in the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        inMemoryDataset : `object`
            The dataset.
        ref : `~lsst.daf.butler.DatasetRef`
            Its reference.
        provenance : `~lsst.daf.butler.DatasetProvenance`, optional
            Provenance.
        """
        self._observe("put", (ref,), lambda: self._atomic_put(inMemoryDataset, ref, provenance))

    def _atomic_put(self, obj: Any, ref: DatasetRef, provenance: DatasetProvenance | None) -> None:
        self.wrapped.put(obj, ref, provenance=provenance)
        plan = self._faults
        if plan is None:
            return
        try:
            if not hasattr(self.wrapped, "fault_plan"):
                plan.check("put", (ref,), "stored")
            plan.check("put", (ref,), "after")
        except BaseException:
            self._undo_put(ref)
            raise

    def _undo_put(self, ref: DatasetRef) -> None:
        try:
            self.wrapped.remove(ref)
        except Exception as err:  # e.g. a datastore that cannot remove
            _LOG.debug("Undoing a failed put of %s with forget(): remove() raised %s", ref, err)
            self.wrapped.forget([ref])

    def put_new(self, in_memory_dataset: Any, ref: DatasetRef) -> Mapping[str, DatasetRef]:
        """Store a dataset and report where (recorded; faults apply).

        Parameters
        ----------
        in_memory_dataset : `object`
            The dataset.
        ref : `~lsst.daf.butler.DatasetRef`
            Its reference.

        Returns
        -------
        refs : `~collections.abc.Mapping` [`str`, `~lsst.daf.butler.DatasetRef`]
            As the wrapped datastore reports.
        """
        return self._observe("put_new", (ref,), lambda: self.wrapped.put_new(in_memory_dataset, ref))

    def get(
        self,
        ref: DatasetRef,
        parameters: Mapping[str, Any] | None = None,
        storageClass: StorageClass | str | None = None,
    ) -> Any:
        """Read a dataset from the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        parameters : `~collections.abc.Mapping`, optional
            Read parameters.
        storageClass : `~lsst.daf.butler.StorageClass` or `str`, optional
            Storage class override.

        Returns
        -------
        dataset : `object`
            The dataset.
        """
        return self._observe("get", (ref,), lambda: self.wrapped.get(ref, parameters, storageClass))

    def exists(self, ref: DatasetRef) -> bool:
        """Return whether the wrapped datastore has the dataset (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Returns
        -------
        exists : `bool`
            The answer.
        """
        return self._observe("exists", (ref,), lambda: self.wrapped.exists(ref))

    def knows(self, ref: DatasetRef) -> bool:
        """Return whether the wrapped datastore knows the dataset (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Returns
        -------
        knows : `bool`
            The answer.
        """
        return self._observe("knows", (ref,), lambda: self.wrapped.knows(ref))

    def knows_these(self, refs: Iterable[DatasetRef]) -> dict[DatasetRef, bool]:
        """Bulk `knows` (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.

        Returns
        -------
        known : `dict` [`~lsst.daf.butler.DatasetRef`, `bool`]
            The answers.
        """
        listed = list(refs)
        return self._observe("knows_these", listed, lambda: self.wrapped.knows_these(listed))

    def mexists(
        self, refs: Iterable[DatasetRef], artifact_existence: dict[ResourcePath, bool] | None = None
    ) -> dict[DatasetRef, bool]:
        """Bulk `exists` (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        artifact_existence : `dict`, optional
            Artifact existence cache.

        Returns
        -------
        existence : `dict` [`~lsst.daf.butler.DatasetRef`, `bool`]
            The answers.
        """
        listed = list(refs)
        return self._observe("mexists", listed, lambda: self.wrapped.mexists(listed, artifact_existence))

    def getURIs(self, ref: DatasetRef, predict: bool = False) -> DatasetRefURIs:
        """Return the wrapped datastore's URIs for a dataset (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        predict : `bool`, optional
            Whether to predict a URI for a dataset not stored.

        Returns
        -------
        uris : `~lsst.daf.butler.datastore.DatasetRefURIs`
            The URIs.
        """
        return self._observe("getURIs", (ref,), lambda: self.wrapped.getURIs(ref, predict))

    def getURI(self, ref: DatasetRef, predict: bool = False) -> ResourcePath:
        """Return the wrapped datastore's URI for a dataset (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        predict : `bool`, optional
            Whether to predict a URI for a dataset not stored.

        Returns
        -------
        uri : `lsst.resources.ResourcePath`
            The URI.
        """
        return self._observe("getURI", (ref,), lambda: self.wrapped.getURI(ref, predict))

    def getManyURIs(
        self, refs: Iterable[DatasetRef], predict: bool = False, allow_missing: bool = False
    ) -> dict[DatasetRef, DatasetRefURIs]:
        """Bulk `getURIs` (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        predict : `bool`, optional
            Whether to predict URIs for datasets not stored.
        allow_missing : `bool`, optional
            Whether to skip datasets that are not stored.

        Returns
        -------
        uris : `dict` [`~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.datastore.DatasetRefURIs`]
            The URIs.
        """
        listed = list(refs)
        return self._observe(
            "getManyURIs", listed, lambda: self.wrapped.getManyURIs(listed, predict, allow_missing)
        )

    def trash(self, ref: DatasetRef | Iterable[DatasetRef], ignore_errors: bool = True) -> None:
        """Trash datasets in the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef` or `~collections.abc.Iterable` thereof
            The datasets.
        ignore_errors : `bool`, optional
            As the wrapped datastore understands it.
        """
        target: DatasetRef | list[DatasetRef] = ref if isinstance(ref, DatasetRef) else list(ref)
        refs = (target,) if isinstance(target, DatasetRef) else target
        self._observe("trash", refs, lambda: self.wrapped.trash(target, ignore_errors=ignore_errors))

    def emptyTrash(
        self, ignore_errors: bool = True, refs: Collection[DatasetRef] | None = None, dry_run: bool = False
    ) -> set[ResourcePath]:
        """Empty the wrapped datastore's trash (recorded; faults apply).

        Parameters
        ----------
        ignore_errors : `bool`, optional
            As the wrapped datastore understands it.
        refs : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetRef`], optional
            Restrict to these datasets.
        dry_run : `bool`, optional
            Only report.

        Returns
        -------
        removed : `set` [`lsst.resources.ResourcePath`]
            As the wrapped datastore reports.
        """
        listed = None if refs is None else list(refs)
        return self._observe(
            "emptyTrash",
            listed or (),
            lambda: self.wrapped.emptyTrash(ignore_errors=ignore_errors, refs=listed, dry_run=dry_run),
        )

    def remove(self, ref: DatasetRef) -> None:
        """Remove a dataset from the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        """
        self._observe("remove", (ref,), lambda: self.wrapped.remove(ref))

    def forget(self, refs: Iterable[DatasetRef]) -> None:
        """Make the wrapped datastore forget datasets (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        """
        listed = list(refs)
        self._observe("forget", listed, lambda: self.wrapped.forget(listed))

    def transfer(self, inputDatastore: Datastore, ref: DatasetRef) -> None:
        """Copy a dataset into the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        inputDatastore : `~lsst.daf.butler.datastore.Datastore`
            Where to read it.
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.
        """
        source = (
            inputDatastore.wrapped if isinstance(inputDatastore, InstrumentedDatastore) else inputDatastore
        )
        self._observe("transfer", (ref,), lambda: self.wrapped.transfer(source, ref))

    def ingest(
        self, *datasets: FileDataset, transfer: str | None = None, record_validation_info: bool = True
    ) -> None:
        """Ingest files into the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        *datasets : `~lsst.daf.butler.FileDataset`
            The files.
        transfer : `str`, optional
            Transfer mode.
        record_validation_info : `bool`, optional
            Whether to record checksums and sizes.
        """
        refs = [ref for dataset in datasets for ref in dataset.refs]
        self._observe(
            "ingest",
            refs,
            lambda: self.wrapped.ingest(
                *datasets, transfer=transfer, record_validation_info=record_validation_info
            ),
        )

    def ingest_zip(self, zip_path: ResourcePath, transfer: str | None, *, dry_run: bool = False) -> None:
        """Ingest a zip into the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        zip_path : `lsst.resources.ResourcePath`
            The zip file.
        transfer : `str` or `None`
            Transfer mode.
        dry_run : `bool`, optional
            Only report.
        """
        self._observe("ingest_zip", (), lambda: self.wrapped.ingest_zip(zip_path, transfer, dry_run=dry_run))

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
        """Write datasets out as files (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        destination : `lsst.resources.ResourcePath`
            Directory to write to.
        transfer : `str`, optional
            Transfer mode.
        preserve_path : `bool`, optional
            Whether to keep the datastore's relative paths.
        overwrite : `bool`, optional
            Whether to overwrite existing files.
        write_index : `bool`, optional
            Whether to write an index.
        add_prefix : `bool`, optional
            Whether to prefix file names with the dataset ID.

        Returns
        -------
        artifacts : `dict`
            As the wrapped datastore reports.
        """
        listed = list(refs)
        return self._observe(
            "retrieveArtifacts",
            listed,
            lambda: self.wrapped.retrieveArtifacts(
                listed, destination, transfer, preserve_path, overwrite, write_index, add_prefix
            ),
        )

    def transfer_from(
        self,
        source_records: FileTransferMap,
        refs: Collection[DatasetRef],
        transfer: str = "auto",
        artifact_existence: dict[ResourcePath, bool] | None = None,
        dry_run: bool = False,
    ) -> tuple[set[DatasetRef], set[DatasetRef]]:
        """Transfer files into the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        source_records : `~lsst.daf.butler.datastore.FileTransferMap`
            The source artifacts.
        refs : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        transfer : `str`, optional
            Transfer mode.
        artifact_existence : `dict`, optional
            Artifact existence cache.
        dry_run : `bool`, optional
            Only report.

        Returns
        -------
        accepted, rejected : `tuple` [`set`, `set`]
            As the wrapped datastore reports.
        """
        listed = list(refs)
        return self._observe(
            "transfer_from",
            listed,
            lambda: self.wrapped.transfer_from(source_records, listed, transfer, artifact_existence, dry_run),
        )

    def import_records(self, data: Mapping[str, DatastoreRecordData]) -> None:
        """Import records into the wrapped datastore (recorded; faults apply).

        Parameters
        ----------
        data : `~collections.abc.Mapping` [`str`, `DatastoreRecordData`]
            Records by datastore name.
        """
        self._observe("import_records", (), lambda: self.wrapped.import_records(data))

    def export_records(self, refs: Iterable[DatasetIdRef]) -> Mapping[str, DatastoreRecordData]:
        """Export the wrapped datastore's records (recorded; faults apply).

        Parameters
        ----------
        refs : `~collections.abc.Iterable`
            The datasets.

        Returns
        -------
        records : `~collections.abc.Mapping` [`str`, `DatastoreRecordData`]
            As the wrapped datastore reports.
        """
        listed = list(refs)
        real_refs = [ref for ref in listed if isinstance(ref, DatasetRef)]
        return self._observe("export_records", real_refs, lambda: self.wrapped.export_records(listed))

    # Passed straight through: configuration, validation, introspection.

    def export_predicted_records(self, refs: Iterable[DatasetRef]) -> dict[str, DatastoreRecordData]:
        """Return the wrapped datastore's predicted records.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.

        Returns
        -------
        records : `dict` [`str`, `DatastoreRecordData`]
            As the wrapped datastore reports.
        """
        return self.wrapped.export_predicted_records(refs)

    def export_table(self, datasets: Collection[DatasetId]) -> DatastoreRecordTable:
        """Return the wrapped datastore's records as a table.

        Parameters
        ----------
        datasets : `~collections.abc.Collection` [`~lsst.daf.butler.DatasetId`]
            The datasets.

        Returns
        -------
        table : `DatastoreRecordTable`
            As the wrapped datastore reports.
        """
        return self.wrapped.export_table(datasets)

    def import_table(self, table: DatastoreRecordTable) -> None:
        """Import a records table into the wrapped datastore.

        Parameters
        ----------
        table : `DatastoreRecordTable`
            The records.
        """
        self.wrapped.import_table(table)

    def export(
        self,
        refs: Iterable[DatasetRef],
        *,
        directory: ResourcePathExpression | None = None,
        transfer: str | None = "auto",
    ) -> Iterable[FileDataset]:
        """Export from the wrapped datastore.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        directory : `lsst.resources.ResourcePathExpression`, optional
            Where to write them.
        transfer : `str`, optional
            Transfer mode.

        Returns
        -------
        datasets : `~collections.abc.Iterable` [`~lsst.daf.butler.FileDataset`]
            As the wrapped datastore reports.
        """
        return self.wrapped.export(refs, directory=directory, transfer=transfer)

    def prepare_get_for_external_client(self, ref: DatasetRef) -> list[DatasetLocationInformation] | None:
        """Return the wrapped datastore's answer.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset.

        Returns
        -------
        payload : `list` or `None`
            As the wrapped datastore reports.
        """
        return self.wrapped.prepare_get_for_external_client(ref)

    def get_file_info_for_transfer(self, dataset_ids: Iterable[DatasetId]) -> FileTransferMap:
        """Return the wrapped datastore's answer.

        Parameters
        ----------
        dataset_ids : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetId`]
            The datasets.

        Returns
        -------
        files : `~lsst.daf.butler.datastore.FileTransferMap`
            As the wrapped datastore reports.
        """
        return self.wrapped.get_file_info_for_transfer(dataset_ids)

    def locate_missing_files_for_transfer(
        self, refs: Iterable[DatasetRef], artifact_existence: dict[ResourcePath, bool]
    ) -> FileTransferMap:
        """Return the wrapped datastore's answer.

        Parameters
        ----------
        refs : `~collections.abc.Iterable` [`~lsst.daf.butler.DatasetRef`]
            The datasets.
        artifact_existence : `dict`
            Artifact existence cache.

        Returns
        -------
        files : `~lsst.daf.butler.datastore.FileTransferMap`
            As the wrapped datastore reports.
        """
        return self.wrapped.locate_missing_files_for_transfer(refs, artifact_existence)

    def validateConfiguration(
        self, entities: Iterable[DatasetRef | DatasetType | StorageClass], logFailures: bool = False
    ) -> None:
        """Validate the wrapped datastore's configuration.

        Parameters
        ----------
        entities : `~collections.abc.Iterable`
            Entities to check.
        logFailures : `bool`, optional
            Whether to log each problem.
        """
        self.wrapped.validateConfiguration(entities, logFailures=logFailures)

    def validateKey(self, lookupKey: LookupKey, entity: DatasetRef | DatasetType | StorageClass) -> None:
        """Validate a key against the wrapped datastore.

        Parameters
        ----------
        lookupKey : `~lsst.daf.butler.LookupKey`
            The key.
        entity : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or \
                `~lsst.daf.butler.StorageClass`
            Its entity.
        """
        self.wrapped.validateKey(lookupKey, entity)

    def getLookupKeys(self) -> set[LookupKey]:
        """Return the wrapped datastore's lookup keys.

        Returns
        -------
        keys : `set` [`~lsst.daf.butler.LookupKey`]
            As the wrapped datastore reports.
        """
        return self.wrapped.getLookupKeys()

    def needs_expanded_data_ids(
        self, transfer: str | None, entity: DatasetRef | DatasetType | StorageClass | None = None
    ) -> bool:
        """Return the wrapped datastore's answer.

        Parameters
        ----------
        transfer : `str` or `None`
            Transfer mode.
        entity : optional
            Entity to store.

        Returns
        -------
        needed : `bool`
            As the wrapped datastore reports.
        """
        return self.wrapped.needs_expanded_data_ids(transfer, entity)

    def get_opaque_table_definitions(self) -> Mapping[str, DatastoreOpaqueTable]:
        """Return the wrapped datastore's opaque tables.

        Returns
        -------
        tables : `~collections.abc.Mapping` [`str`, `DatastoreOpaqueTable`]
            As the wrapped datastore reports.
        """
        return self.wrapped.get_opaque_table_definitions()

    def set_retrieve_dataset_type_method(self, method: Callable[[str], DatasetType | None] | None) -> None:
        """Pass the method on to the wrapped datastore.

        Parameters
        ----------
        method : `~collections.abc.Callable` or `None`
            Looks dataset types up by name.
        """
        self.wrapped.set_retrieve_dataset_type_method(method)

    def _set_trust_mode(self, mode: bool) -> None:
        self.wrapped._set_trust_mode(mode)


class _NoBridge:
    """Stands in for a bridge manager where none is used."""

    universe = None

"""What a datastore stores for a dataset and what it hands back: one policy per isolation mode."""

from __future__ import annotations

__all__ = ("StoragePolicy", "storage_policy")

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from lsst.daf.butler import DatasetRef, DatasetType, StorageClass, StorageClassDelegate

from ._artifact_paths import artifact_path
from ._copies import fresh_copy, stored_copy
from ._isolation import Isolation
from ._reading import DerivedComponentUnavailableError, read_stored
from ._serialization import Formatters, SerializedDataset
from ._stored_form import StoredForm

if TYPE_CHECKING:
    from lsst.daf.butler import DatasetProvenance

    from ._incoming import Incoming
    from ._state import StoredDataset


class StoragePolicy:
    """Turns what ``put`` receives into what is stored, and what is stored into what ``get`` returns.

    One per datastore, chosen at construction from its ``isolation``
    (`storage_policy`); ``put``, ``get``, the import paths, exports and
    validation ask it and hold no isolation flag of their own.

    Parameters
    ----------
    formatters : `Formatters`
        The datastore's formatters: they serialize, measure and read
        components only a formatter can produce.
    measures : `bool`
        Whether every stored dataset is measured (the datastore has a
        ``capacity_bytes``).

    Notes
    -----
    Reading is decided by what is stored, not by this policy alone:
    datastores sharing one state may be configured differently. A
    `StoredForm` (a pickle, a private copy, a formatter's bytes) is turned
    into a new object by the form itself; a plain object (stored under
    ``reference`` isolation, or immutable) is copied if this policy isolates.
    Parameters, components and storage-class conversions are then applied to
    that object only, so a delegate that transforms in place can never change
    what is stored.
    """

    isolation: ClassVar[Isolation]
    """The isolation mode this policy implements."""

    def __init__(self, formatters: Formatters, measures: bool) -> None:
        self._formatters = formatters
        self._measures = measures

    # Writing

    def store(
        self,
        obj: Any,
        ref: DatasetRef,
        delegate: StorageClassDelegate | None,
        provenance: DatasetProvenance | None,
    ) -> tuple[Any, int]:
        """Return what to store for a dataset being put, and its measured size.

        Parameters
        ----------
        obj : `object`
            The dataset, already of (or accepted by) the storage class's
            Python type. It is the caller's: only ``reference`` isolation
            keeps it or lets the delegate change it.
        ref : `~lsst.daf.butler.DatasetRef`
            Its reference (not a component).
        delegate : `~lsst.daf.butler.StorageClassDelegate` or `None`
            The storage class's delegate, which attaches provenance.
        provenance : `~lsst.daf.butler.DatasetProvenance` or `None`
            Provenance to attach.

        Returns
        -------
        stored : `object`
            The object or `StoredForm` to keep.
        size : `int`
            Serialized size in bytes, or 0 when nothing is measured.

        Raises
        ------
        UncopyableDatasetError
            Raised under ``copy`` isolation if the object cannot be copied.
        UnserializableDatasetError
            Raised if the object must be serialized and its formatter cannot
            write it.
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if it must be serialized and no formatter is configured.
        """
        raise NotImplementedError

    def adopt(self, incoming: Incoming) -> tuple[Any, int]:
        """Return what to store for a dataset just read from its files, and its size.

        Parameters
        ----------
        incoming : `Incoming`
            The dataset; nobody else holds its object.

        Returns
        -------
        stored : `object`
            The object or `StoredForm` to keep.
        size : `int`
            Serialized size in bytes, or 0 when nothing is measured.
        """
        raise NotImplementedError

    def _measured(self, obj: Any, ref: DatasetRef) -> int:
        """Return the size of ``obj`` (which may be changed) as its formatter writes it, if measuring."""
        if not self._measures:
            return 0
        return len(self._formatters.serialize(obj, ref, path=artifact_path(ref, "")).data)

    def _adopted_size(self, incoming: Incoming) -> int:
        if not self._measures:
            return 0
        if incoming.serialized is not None:
            return len(incoming.serialized.data)
        return self._measured(incoming.obj, incoming.ref)

    # Reading

    def read(self, entry: StoredDataset, read_ref: DatasetRef, parameters: Mapping[str, Any] | None) -> Any:
        """Return what a ``get`` asked for.

        Parameters
        ----------
        entry : `StoredDataset`
            The stored dataset.
        read_ref : `~lsst.daf.butler.DatasetRef`
            The reference asked for, with any storage-class override applied;
            it may name a component.
        parameters : `~collections.abc.Mapping` or `None`
            Read parameters.

        Returns
        -------
        dataset : `object`
            The dataset, component or slice, as the read storage class's
            Python type; under ``copy`` and ``serialize`` isolation it shares
            nothing with what is stored or with what any other read returned.

        Raises
        ------
        KeyError
            Raised for a parameter the storage class does not know.
        lsst.daf.butler.UnknownComponentError
            Raised for a component no relevant storage class defines.
        ValueError
            Raised if a formatter fails to read the dataset.
        TypeError
            Raised if the result cannot be converted to the read storage
            class.
        """
        stored = entry.obj
        ref = entry.ref
        if isinstance(stored, StoredForm):
            dataset = stored.fresh(ref, self._formatters)
        else:
            dataset = self._plain(stored, ref)
        write_type = ref.datasetType
        read_type = read_ref.datasetType
        if not parameters and (read_type is write_type or _same_whole_dataset(read_type, write_type)):
            return write_type.storageClass.coerce_type(dataset)
        try:
            return read_stored(dataset, write_type.storageClass, read_ref, parameters)
        except DerivedComponentUnavailableError as unavailable:
            return self._component_from_formatter(stored, ref, read_ref, parameters, unavailable)

    def _plain(self, stored: Any, ref: DatasetRef) -> Any:
        """Return the whole dataset read from a plain stored object."""
        return fresh_copy(stored, ref.datasetType.storageClass)

    def _component_from_formatter(
        self,
        stored: Any,
        ref: DatasetRef,
        read_ref: DatasetRef,
        parameters: Mapping[str, Any] | None,
        unavailable: DerivedComponentUnavailableError,
    ) -> Any:
        """Read a derived component as a file datastore does: from the formatter's file."""
        try:
            return self._formatters.read_component(self._file_of(stored, ref), ref, read_ref, parameters)
        except Exception as err:
            delegate_error = unavailable.__cause__
            assert isinstance(delegate_error, Exception)
            delegate_error.add_note(
                f"Reading component {read_ref.datasetType.component()!r} through the formatter of dataset "
                f"{ref} failed too: {type(err).__name__}: {err}"
            )
            raise delegate_error from err

    def _file_of(self, stored: Any, ref: DatasetRef) -> SerializedDataset:
        """Return the file a file datastore would hold for a stored dataset."""
        if type(stored) is SerializedDataset:
            return stored
        path = artifact_path(ref, "")
        if isinstance(stored, StoredForm):
            return self._formatters.serialize(stored.fresh(ref, self._formatters), ref, path=path)
        # The stored object itself (reference isolation, or immutable): the
        # formatter must not attach provenance to it.
        return self._formatters.serialize(stored, ref, path=path, attach_provenance=False)

    def serialized(self, entry: StoredDataset) -> SerializedDataset:
        """Return a stored dataset as its formatter writes it, for files written out.

        Parameters
        ----------
        entry : `StoredDataset`
            The stored dataset.

        Returns
        -------
        serialized : `SerializedDataset`
            Its bytes and formatter.

        Raises
        ------
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for it.
        UnserializableDatasetError
            Raised if its formatter cannot write it.
        """
        stored = entry.obj
        if type(stored) is SerializedDataset:
            return stored
        obj = stored.fresh(entry.ref, self._formatters) if isinstance(stored, StoredForm) else stored
        return self._formatters.serialize(obj, entry.ref, path=artifact_path(entry.ref, ""))

    # Validation

    def problems(self, entity: DatasetRef | DatasetType | StorageClass) -> list[str]:
        """Say what stops datasets of ``entity`` from being stored under this policy.

        Parameters
        ----------
        entity : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or \
                `~lsst.daf.butler.StorageClass`
            What would be stored.

        Returns
        -------
        problems : `list` [`str`]
            Empty if nothing does. Every dataset that is serialized (under
            ``serialize`` isolation, or to be measured) needs a formatter.
        """
        if not (self._measures or self.isolation is Isolation.SERIALIZE):
            return []
        missing = self._formatters.missing_formatter(entity)
        return [] if missing is None else [missing]


class _ReferencePolicy(StoragePolicy):
    """Keeps the caller's object and hands it back, as upstream's in-memory datastore does."""

    isolation = Isolation.REFERENCE

    def store(
        self,
        obj: Any,
        ref: DatasetRef,
        delegate: StorageClassDelegate | None,
        provenance: DatasetProvenance | None,
    ) -> tuple[Any, int]:
        # Docstring inherited.
        if delegate is not None:
            obj = delegate.add_provenance(obj, ref, provenance=provenance)
        return obj, self._measured(obj, ref)

    def adopt(self, incoming: Incoming) -> tuple[Any, int]:
        # Docstring inherited.
        return incoming.obj, self._adopted_size(incoming)

    def _plain(self, stored: Any, ref: DatasetRef) -> Any:
        return stored


class _CopyPolicy(StoragePolicy):
    """Keeps a private copy and hands out a new copy at every read."""

    isolation = Isolation.COPY

    def store(
        self,
        obj: Any,
        ref: DatasetRef,
        delegate: StorageClassDelegate | None,
        provenance: DatasetProvenance | None,
    ) -> tuple[Any, int]:
        # Docstring inherited.
        storage_class = ref.datasetType.storageClass
        if delegate is not None and type(delegate).add_provenance is not StorageClassDelegate.add_provenance:
            # The delegate may attach provenance in place: to a copy of ours,
            # never to the caller's object.
            owned = delegate.add_provenance(fresh_copy(obj, storage_class), ref, provenance=provenance)
            size = self._measured(owned, ref)
            return stored_copy(owned, storage_class, owned=True), size
        stored = stored_copy(obj, storage_class)
        if not self._measures:
            return stored, 0
        measured = stored.fresh(ref, self._formatters) if isinstance(stored, StoredForm) else stored
        return stored, self._measured(measured, ref)

    def adopt(self, incoming: Incoming) -> tuple[Any, int]:
        # Docstring inherited.
        size = self._adopted_size(incoming)
        return stored_copy(incoming.obj, incoming.ref.datasetType.storageClass, owned=True), size


class _SerializePolicy(StoragePolicy):
    """Keeps what the formatter writes and reads it back at every read."""

    isolation = Isolation.SERIALIZE

    def store(
        self,
        obj: Any,
        ref: DatasetRef,
        delegate: StorageClassDelegate | None,
        provenance: DatasetProvenance | None,
    ) -> tuple[Any, int]:
        # Docstring inherited.
        # As a file datastore does, the formatter attaches provenance to
        # what it writes; the caller's object is never modified.
        serialized = self._formatters.serialize(obj, ref, provenance=provenance, path=artifact_path(ref, ""))
        return serialized, len(serialized.data)

    def adopt(self, incoming: Incoming) -> tuple[Any, int]:
        # Docstring inherited.
        serialized = incoming.serialized
        if serialized is None:
            ref = incoming.ref
            serialized = self._formatters.serialize(incoming.obj, ref, path=artifact_path(ref, ""))
        return serialized, len(serialized.data)


def _same_whole_dataset(read_type: DatasetType, write_type: DatasetType) -> bool:
    """Whether a read asks for the whole dataset as it was stored (no component, no conversion)."""
    return read_type.storageClass_name == write_type.storageClass_name and not read_type.isComponent()


_POLICIES: dict[Isolation, type[StoragePolicy]] = {
    policy.isolation: policy for policy in (_ReferencePolicy, _CopyPolicy, _SerializePolicy)
}


def storage_policy(isolation: Isolation, formatters: Formatters, *, measures: bool) -> StoragePolicy:
    """Return the storage policy of an isolation mode.

    Parameters
    ----------
    isolation : `Isolation`
        The datastore's mode.
    formatters : `Formatters`
        The datastore's formatters.
    measures : `bool`
        Whether every stored dataset is measured against a capacity.

    Returns
    -------
    policy : `StoragePolicy`
        The policy, for one datastore.
    """
    return _POLICIES[isolation](formatters, measures)

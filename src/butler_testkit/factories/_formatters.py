"""Formatters that let a ``FileDatastore`` write and read the catalogue."""

from __future__ import annotations

__all__ = (
    "ArrayFormatter",
    "CatalogueFormatter",
    "CatalogueJsonFormatter",
    "ImageRecordFormatter",
    "LedgerFormatter",
)

import dataclasses
import io
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pydantic
from lsst.daf.butler import DatasetProvenance, FormatterV2, StorageClass
from lsst.resources import ResourcePath

from ._image import ImageRecord
from ._ledger import Ledger, ledger_header


def _apply_parameters(storage_class: StorageClass, dataset: Any, parameters: Mapping[str, Any]) -> Any:
    """Apply the parameters a storage class knows; ignore the others."""
    used = storage_class.filterParameters(parameters)
    if not used:
        return dataset
    return storage_class.delegate().handleParameters(dataset, used)


class CatalogueFormatter(FormatterV2):
    """Base of the catalogue's formatters: components, derived components and parameters.

    A subclass says how to turn the Python type of the file's storage class
    into bytes and back (`encode`, `decode`); this class reads the whole
    file and then does what the read asks for, with the storage classes'
    delegates, so that a ``FileDatastore`` returns what an in-memory
    datastore would:

    - parameters are applied by the delegate of the storage class the file
      was written with (a composite's parameters before its components are
      taken);
    - a component of a composite written as one file is taken from it;
    - a derived component of a composite written one file per component is
      computed by the composite's delegate from the component that file
      holds (daf_butler asks the formatter of that component for it);
    - the result is converted to the storage class the read asked for.

    Notes
    -----
    The formatter consumes exactly the parameters its file's storage class
    defines, so that after reading a disassembled composite daf_butler does
    not apply them a second time to the assembled object.
    """

    can_read_from_uri: ClassVar[bool] = True

    def encode(self, in_memory_dataset: Any) -> bytes:
        """Serialize a dataset of the file's storage class.

        Parameters
        ----------
        in_memory_dataset : `object`
            The dataset, already of the storage class's Python type.

        Returns
        -------
        serialized : `bytes`
            The file's contents.
        """
        raise NotImplementedError(f"{type(self).__name__} does not say how to encode a dataset.")

    def decode(self, serialized: bytes) -> Any:
        """Rebuild a dataset of the file's storage class.

        Parameters
        ----------
        serialized : `bytes`
            The file's contents.

        Returns
        -------
        in_memory_dataset : `object`
            An instance of the storage class's Python type.
        """
        raise NotImplementedError(f"{type(self).__name__} does not say how to decode a dataset.")

    def add_provenance(
        self, in_memory_dataset: Any, /, *, provenance: DatasetProvenance | None = None
    ) -> Any:
        """Let the storage class's delegate attach provenance, as an in-memory datastore does.

        Parameters
        ----------
        in_memory_dataset : `object`
            The dataset about to be written.
        provenance : `~lsst.daf.butler.DatasetProvenance`, optional
            What produced it.

        Returns
        -------
        dataset_to_write : `object`
            What the delegate returns (the dataset itself for the
            catalogue's own delegates, which attach nothing, and for a
            storage class without a delegate).
        """
        storage_class = self.file_descriptor.storageClass
        if storage_class.delegateClass is None:
            return in_memory_dataset
        return storage_class.delegate().add_provenance(
            in_memory_dataset, self.dataset_ref, provenance=provenance
        )

    def to_bytes(self, in_memory_dataset: Any) -> bytes:
        """Serialize a dataset with `encode`.

        Parameters
        ----------
        in_memory_dataset : `object`
            The dataset.

        Returns
        -------
        serialized : `bytes`
            The file's contents.
        """
        return self.encode(in_memory_dataset)

    def read_from_uri(self, uri: ResourcePath, component: str | None = None, expected_size: int = -1) -> Any:
        """Read the file and return what was asked for.

        Parameters
        ----------
        uri : `lsst.resources.ResourcePath`
            The file.
        component : `str`, optional
            A component of the dataset, or a derived component of the
            composite that this file is one component of.
        expected_size : `int`, optional
            Size of the file if known; unused.

        Returns
        -------
        in_memory_dataset : `object`
            The dataset or component, parameters applied, of the read
            storage class's Python type (a component may be `None`).

        Raises
        ------
        ValueError
            Raised if the component cannot be read from this file.
        """
        return self._select(self.decode(uri.read()), component)

    def segregate_parameters(
        self, parameters: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split parameters into those this file's storage class applies and the rest.

        Parameters
        ----------
        parameters : `dict`, optional
            Parameters of the read; those of the file descriptor by default.

        Returns
        -------
        supported : `dict`
            Parameters defined by the storage class the file was written
            with: `read_from_uri` applies them.
        unsupported : `dict`
            The others, left to daf_butler.
        """
        if parameters is None:
            parameters = self.file_descriptor.parameters
        if not parameters:
            return {}, {}
        known = self.file_descriptor.storageClass.parameters
        supported = {name: value for name, value in parameters.items() if name in known}
        unsupported = {name: value for name, value in parameters.items() if name not in known}
        return supported, unsupported

    def _select(self, stored: Any, component: str | None) -> Any:
        descriptor = self.file_descriptor
        write_storage_class = descriptor.storageClass
        read_storage_class = descriptor.readStorageClass
        parameters = descriptor.parameters or {}
        if component is None:
            return read_storage_class.coerce_type(_apply_parameters(write_storage_class, stored, parameters))
        if component in write_storage_class.allComponents():
            composite = _apply_parameters(write_storage_class, stored, parameters)
            value = write_storage_class.delegate().getComponent(composite, component)
            return read_storage_class.coerce_type(value)
        # This file holds one component of a disassembled composite, and a
        # component derived from it was asked for: let the composite's
        # delegate compute it from a composite holding just that component.
        parent = self.dataset_ref.datasetType.storageClass
        held = descriptor.component
        if held is None or component not in parent.derivedComponents:
            raise ValueError(
                f"{self.name()} cannot read component {component!r} from {descriptor.location.uri}: "
                f"the file holds {'component ' + repr(held) if held else 'a whole dataset'} of storage "
                f"class {write_storage_class.name}, and {component!r} is not a derived component of "
                f"{parent.name}."
            )
        delegate = parent.delegate()
        partial = _apply_parameters(parent, delegate.assemble({held: stored}), parameters)
        return read_storage_class.coerce_type(delegate.getComponent(partial, component))


def _json_ready(in_memory_dataset: Any) -> Any:
    if isinstance(in_memory_dataset, pydantic.BaseModel):
        return in_memory_dataset.model_dump(mode="json")
    if dataclasses.is_dataclass(in_memory_dataset) and not isinstance(in_memory_dataset, type):
        # Shallow on purpose: asdict would deep-copy every nested value.
        return {
            field.name: getattr(in_memory_dataset, field.name)
            for field in dataclasses.fields(in_memory_dataset)
        }
    return in_memory_dataset


class CatalogueJsonFormatter(CatalogueFormatter):
    """Writes plain types, dataclasses and pydantic models as JSON.

    Dictionary keys come back as strings and tuples nested in a value come
    back as lists, as with any JSON; the top-level type is restored from
    the storage class (a dataclass from its fields, a model validated).
    """

    default_extension: ClassVar[str] = ".json"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".json"})

    def encode(self, in_memory_dataset: Any) -> bytes:
        """Serialize to JSON.

        Parameters
        ----------
        in_memory_dataset : `object`
            A JSON-representable value, dataclass or pydantic model.

        Returns
        -------
        serialized : `bytes`
            UTF-8 JSON.

        Raises
        ------
        TypeError
            Raised if the dataset has a value JSON cannot represent.
        """
        try:
            return json.dumps(_json_ready(in_memory_dataset), ensure_ascii=False, allow_nan=True).encode()
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"Cannot write a {type(in_memory_dataset).__qualname__} of storage class "
                f"{self.file_descriptor.storageClass.name} as JSON: {err}"
            ) from err

    def decode(self, serialized: bytes) -> Any:
        """Rebuild the storage class's Python type from JSON.

        Parameters
        ----------
        serialized : `bytes`
            UTF-8 JSON.

        Returns
        -------
        in_memory_dataset : `object`
            An instance of the storage class's Python type.

        Raises
        ------
        TypeError
            Raised if the JSON does not describe that type.
        """
        pytype = self.file_descriptor.storageClass.pytype
        if issubclass(pytype, pydantic.BaseModel):
            return pytype.model_validate_json(serialized)
        value = json.loads(serialized)
        if isinstance(value, pytype):
            return value
        if dataclasses.is_dataclass(pytype) and isinstance(value, dict):
            return pytype(**value)
        if pytype is tuple and isinstance(value, list):
            return tuple(value)
        raise TypeError(
            f"{self.file_descriptor.location.uri} holds a JSON {type(value).__name__}, not a "
            f"{pytype.__qualname__} (storage class {self.file_descriptor.storageClass.name})."
        )


class ArrayFormatter(CatalogueFormatter):
    """Writes a numpy array as a ``.npy`` file (never pickled)."""

    default_extension: ClassVar[str] = ".npy"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".npy"})

    def encode(self, in_memory_dataset: Any) -> bytes:
        """Serialize in numpy's ``.npy`` format.

        Parameters
        ----------
        in_memory_dataset : `numpy.ndarray`
            An array of a numeric or string dtype.

        Returns
        -------
        serialized : `bytes`
            The ``.npy`` file.

        Raises
        ------
        TypeError
            Raised for an object array, which would need pickling.
        """
        buffer = io.BytesIO()
        try:
            np.save(buffer, in_memory_dataset, allow_pickle=False)
        except ValueError as err:
            raise TypeError(
                f"Cannot write a {in_memory_dataset.dtype} array without pickling: {err}"
            ) from err
        return buffer.getvalue()

    def decode(self, serialized: bytes) -> Any:
        """Read numpy's ``.npy`` format.

        Parameters
        ----------
        serialized : `bytes`
            The ``.npy`` file.

        Returns
        -------
        in_memory_dataset : `numpy.ndarray`
            The array.
        """
        return np.load(io.BytesIO(serialized), allow_pickle=False)


class ImageRecordFormatter(CatalogueFormatter):
    """Writes an `ImageRecord` as one ``.npz`` file: its planes and JSON metadata."""

    default_extension: ClassVar[str] = ".npz"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".npz"})

    def encode(self, in_memory_dataset: Any) -> bytes:
        """Serialize in numpy's ``.npz`` format.

        Parameters
        ----------
        in_memory_dataset : `ImageRecord`
            The record.

        Returns
        -------
        serialized : `bytes`
            The ``.npz`` file: one array per plane present, and the metadata
            as a JSON string.

        Raises
        ------
        TypeError
            Raised if the metadata cannot be written as JSON.
        """
        planes = {
            name: getattr(in_memory_dataset, name)
            for name in ("image", "mask", "variance")
            if getattr(in_memory_dataset, name) is not None
        }
        try:
            metadata = json.dumps(in_memory_dataset.metadata, ensure_ascii=False)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Cannot write ImageRecord metadata as JSON: {err}") from err
        buffer = io.BytesIO()
        np.savez(buffer, metadata=np.array(metadata), **planes)
        return buffer.getvalue()

    def decode(self, serialized: bytes) -> Any:
        """Read numpy's ``.npz`` format.

        Parameters
        ----------
        serialized : `bytes`
            The ``.npz`` file.

        Returns
        -------
        in_memory_dataset : `ImageRecord`
            The record.
        """
        with np.load(io.BytesIO(serialized), allow_pickle=False) as archive:
            planes = {name: archive[name] for name in ("image", "mask", "variance") if name in archive.files}
            metadata = json.loads(str(archive["metadata"]))
        return ImageRecord(**planes, metadata=metadata)


class LedgerFormatter(FormatterV2):
    """Writes a `Ledger` as JSON under its header, and reads the header back as component ``header``.

    The formatter applies the ``first`` parameter itself, to the whole
    ledger and to the header alike, as a file datastore asks it to.
    """

    default_extension: ClassVar[str] = ".json"
    supported_extensions: ClassVar[frozenset[str]] = frozenset({".json"})
    can_read_from_uri: ClassVar[bool] = True

    def to_bytes(self, in_memory_dataset: Any) -> bytes:
        """Serialize a ledger with its header.

        Parameters
        ----------
        in_memory_dataset : `Ledger`
            The ledger.

        Returns
        -------
        serialized : `bytes`
            JSON: ``{"header": ..., "entries": [...]}``.
        """
        entries = list(in_memory_dataset.entries)
        return json.dumps({"header": ledger_header(entries), "entries": entries}).encode()

    def read_from_uri(self, uri: ResourcePath, component: str | None = None, expected_size: int = -1) -> Any:
        """Read the ledger, or its header.

        Parameters
        ----------
        uri : `lsst.resources.ResourcePath`
            The file.
        component : `str`, optional
            ``header``, or `None` for the ledger.
        expected_size : `int`, optional
            Size of the file if known; unused.

        Returns
        -------
        in_memory_dataset : `Ledger` or `dict`
            The ledger, or its header, for the first ``first`` entries if that
            parameter is given.

        Raises
        ------
        ValueError
            Raised for any other component.
        """
        content = json.loads(uri.read())
        first = (self.file_descriptor.parameters or {}).get("first")
        entries = content["entries"] if first is None else content["entries"][:first]
        if component is None:
            return Ledger(entries=entries)
        if component == "header":
            return content["header"] if first is None else ledger_header(entries)
        raise ValueError(f"{self.name()} has no component {component!r} to read from {uri}.")

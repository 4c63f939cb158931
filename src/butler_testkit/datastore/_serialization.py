"""Serializing datasets through the formatters a ``FileDatastore`` would use."""

from __future__ import annotations

__all__ = ("Formatters", "SerializedDataset", "UnserializableDatasetError")

import contextlib
import functools
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from lsst.daf.butler import (
    Config,
    DatasetRef,
    DatasetType,
    DatasetTypeNotSupportedError,
    DimensionUniverse,
    FileDescriptor,
    Formatter,
    FormatterFactory,
    FormatterNotImplementedError,
    FormatterV1inV2,
    FormatterV2,
    Location,
    StorageClass,
)
from lsst.daf.butler.datastore import DatastoreValidationError
from lsst.resources import ResourceInfo, ResourcePath
from lsst.resources.mem import InMemoryResourcePath
from lsst.utils import doImportType

from ._artifact_paths import artifact_path
from ._default_formatters import default_formatters
from ._stored_form import FormatterReader, StoredForm


class UnserializableDatasetError(TypeError):
    """A formatter cannot write a dataset.

    Raised by ``put`` under ``serialize`` isolation (and whenever a dataset
    must be measured or written out as a file), naming the storage class and
    the formatter, before anything is stored.
    """


class SerializedDataset(StoredForm):
    """A dataset as a file datastore would hold it: bytes and their formatter.

    What ``serialize`` isolation stores in place of the object; every read
    deserializes it anew.

    Parameters
    ----------
    data : `bytes`
        The file's contents.
    formatter : `str`
        Fully-qualified name of the formatter that wrote them (and reads them).
    extension : `str`
        File extension the formatter writes, with its leading dot (may be
        empty).
    """

    __slots__ = ("data", "extension", "formatter")

    def __init__(self, data: bytes, formatter: str, extension: str) -> None:
        self.data = data
        self.formatter = formatter
        self.extension = extension

    def __len__(self) -> int:
        return len(self.data)

    def fresh(self, ref: DatasetRef, formatters: FormatterReader) -> Any:
        # Docstring inherited.
        return formatters.deserialize(self.data, self.formatter, ref, path=artifact_path(ref, self.extension))

    def __repr__(self) -> str:
        return f"SerializedDataset({len(self.data)} bytes, {self.formatter})"


def check_formatters_config(value: object) -> None:
    """Check the type of a ``formatters`` configuration value.

    Parameters
    ----------
    value : `object`
        The configured value; `None` for the defaults.

    Raises
    ------
    lsst.daf.butler.datastore.DatastoreValidationError
        Raised if the value is neither `None` nor a mapping.
    """
    if value is not None and not isinstance(value, Mapping):
        raise DatastoreValidationError(
            "Datastore 'formatters' must map dataset types or storage classes to formatters; "
            f"got {type(value).__name__}: {value!r}."
        )


class Formatters:
    """The formatters of one datastore: a ``FileDatastore``'s, without files.

    Parameters
    ----------
    config : `~collections.abc.Mapping` or `None`
        The datastore's ``formatters`` section, in a ``FileDatastore``'s form;
        it is laid over the default formatters (daf_butler's, and those given
        to `add_default_formatters`).
    universe : `~lsst.daf.butler.DimensionUniverse`
        Universe of the lookup keys.

    Notes
    -----
    Without a ``formatters`` section the factory is built on first use, so
    that a datastore that never serializes pays nothing for it; a section
    given is checked at once. The formatter chosen for a dataset
    depends on its dataset type, storage class and instrument, and is cached
    under those.
    """

    def __init__(self, config: Mapping[str, Any] | None, universe: DimensionUniverse) -> None:
        check_formatters_config(config)
        self._config = config
        self._universe = universe
        self._factory: FormatterFactory | None = None
        self._lock = threading.Lock()
        self._classes: dict[tuple[DatasetType, object], tuple[type, dict[str, Any]]] = {}
        if config:
            # A configuration given explicitly is checked now, so that a
            # mistake in it fails at construction rather than at first use.
            self._get_factory()

    def _get_factory(self) -> FormatterFactory:
        factory = self._factory
        if factory is None:
            with self._lock:
                if self._factory is None:
                    merged = default_formatters()
                    if self._config:
                        merged.update(Config(dict(self._config)))
                    built = FormatterFactory()
                    try:
                        built.registerFormatters(merged, universe=self._universe)
                    except (ValueError, RuntimeError, TypeError, KeyError) as err:
                        raise DatastoreValidationError(
                            f"Datastore 'formatters' configuration is invalid: {err}"
                        ) from err
                    self._factory = built
                factory = self._factory
        return factory

    def formatter_class(self, ref: DatasetRef) -> tuple[type, dict[str, Any]]:
        """Return the formatter a file datastore would write ``ref`` with.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset (not a component).

        Returns
        -------
        formatter : `type`
            The formatter class (`~lsst.daf.butler.FormatterV2` or a V1
            `~lsst.daf.butler.Formatter`).
        kwargs : `dict`
            Write parameters and recipes configured for it.

        Raises
        ------
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for the dataset, or the
            configured one cannot be imported, as a ``FileDatastore`` does.
        """
        data_id = ref.dataId
        instrument = data_id["instrument"] if "instrument" in data_id.dimensions.names else None
        key = (ref.datasetType, instrument)
        found = self._classes.get(key)
        if found is None:
            factory = self._get_factory()
            storage_class = ref.datasetType.storageClass.name
            try:
                _, formatter, kwargs = factory.getFormatterClassWithMatch(ref)
            except KeyError as err:
                raise DatasetTypeNotSupportedError(
                    f"No formatter is configured for dataset type {ref.datasetType.name!r} or storage "
                    f"class {storage_class!r} ({ref}): add one to the datastore's 'formatters'."
                ) from err
            except ImportError as err:
                raise DatasetTypeNotSupportedError(
                    f"The formatter configured for storage class {storage_class!r} ({ref}) cannot be "
                    f"imported: {err}"
                ) from err
            # A race here only looks the same formatter up twice.
            found = self._classes[key] = (formatter, dict(kwargs))
        return found

    def missing_formatter(self, entity: DatasetRef | DatasetType | StorageClass) -> str | None:
        """Say why no formatter can write ``entity``, if none can.

        Parameters
        ----------
        entity : `~lsst.daf.butler.DatasetRef`, `~lsst.daf.butler.DatasetType` or \
                `~lsst.daf.butler.StorageClass`
            What would be written.

        Returns
        -------
        problem : `str` or `None`
            `None` if a formatter is configured and can be imported.
        """
        try:
            self._get_factory().getFormatterClassWithMatch(entity)
        except KeyError:
            return "no formatter is configured for it in 'formatters'"
        except ImportError as err:
            return f"its formatter cannot be imported ({err})"
        return None

    def write_extension(self, ref: DatasetRef) -> str:
        """Return the extension of the file the formatter of ``ref`` writes.

        Parameters
        ----------
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset (not a component).

        Returns
        -------
        extension : `str`
            With its leading dot, or empty.

        Raises
        ------
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for the dataset.
        """
        formatter_class, kwargs = self.formatter_class(ref)
        descriptor = FileDescriptor(Location(None, _memory_uri("dataset")), ref.datasetType.storageClass)
        formatter = _as_v2(formatter_class(descriptor, dataId=ref.dataId, ref=ref, **kwargs), descriptor, ref)
        return formatter.get_write_extension()

    def serialize(
        self,
        obj: Any,
        ref: DatasetRef,
        *,
        provenance: Any = None,
        path: str = "dataset",
        attach_provenance: bool = True,
    ) -> SerializedDataset:
        """Write a dataset to bytes with its formatter.

        In memory when the formatter can (``to_bytes``); through a temporary
        file, removed at once, when it can only write files.

        Parameters
        ----------
        obj : `object`
            The dataset, of the storage class's Python type.
        ref : `~lsst.daf.butler.DatasetRef`
            Its reference (not a component).
        provenance : `~lsst.daf.butler.DatasetProvenance`, optional
            Provenance, handed to the formatter as a file datastore does.
        path : `str`, optional
            Path the formatter is told it writes to (without extension), for
            its messages.
        attach_provenance : `bool`, optional
            Whether the formatter may attach provenance to ``obj`` first (it
            may do so in place); `False` when ``obj`` is not the caller's to
            change.

        Returns
        -------
        serialized : `SerializedDataset`
            The bytes, the formatter's name and its extension.

        Raises
        ------
        lsst.daf.butler.DatasetTypeNotSupportedError
            Raised if no formatter is configured for the dataset.
        UnserializableDatasetError
            Raised if the formatter cannot write the object, naming the
            storage class and the formatter.
        """
        formatter_class, kwargs = self.formatter_class(ref)
        storage_class = ref.datasetType.storageClass
        location = Location(None, _memory_uri(path))
        descriptor = FileDescriptor(location, storageClass=storage_class)
        try:
            formatter = _as_v2(
                formatter_class(descriptor, dataId=ref.dataId, ref=ref, **kwargs), descriptor, ref
            )
            extension = formatter.get_write_extension()
            if attach_provenance:
                obj = formatter.add_provenance(obj, provenance=provenance)
            try:
                data = formatter.to_bytes(obj)
            except FormatterNotImplementedError:
                data = _write_through_file(formatter, obj, extension)
        except Exception as err:
            raise UnserializableDatasetError(
                f"Formatter {formatter_class.__module__}.{formatter_class.__qualname__} cannot write a "
                f"{type(obj).__module__}.{type(obj).__qualname__} of storage class {storage_class.name!r} "
                f"(dataset {ref}): {type(err).__name__}: {err}"
            ) from err
        return SerializedDataset(bytes(data), _qualified_name(formatter_class), extension)

    def deserialize(
        self,
        data: bytes,
        formatter: str,
        ref: DatasetRef,
        *,
        storage_class: StorageClass | None = None,
        component: str | None = None,
        path: str = "dataset",
    ) -> Any:
        """Read a whole dataset, or one file of a disassembled one, from bytes.

        Parameters
        ----------
        data : `bytes`
            The file's contents.
        formatter : `str`
            Fully-qualified name of the formatter that wrote them.
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset (the composite, for a component file).
        storage_class : `~lsst.daf.butler.StorageClass`, optional
            Storage class the file was written with; the reference's if not
            given.
        component : `str`, optional
            The component the file holds, for a composite written one file
            per component.
        path : `str`, optional
            Path of the file, for the formatter's messages and extension.

        Returns
        -------
        obj : `object`
            The dataset (or component), as ``storage_class``'s Python type.

        Raises
        ------
        ValueError
            Raised if the formatter cannot be imported or fails to read the
            bytes, naming the formatter and the dataset, as a file datastore
            does.
        """
        storage_class = storage_class if storage_class is not None else ref.datasetType.storageClass
        location = Location(None, _BytesResourcePath.holding(path, data))
        descriptor = FileDescriptor(
            location, storageClass=storage_class, readStorageClass=storage_class, component=component
        )
        try:
            formatter_class = _import_formatter(formatter)
            reader = _as_v2(formatter_class(descriptor, dataId=ref.dataId, ref=ref), descriptor, ref)
            return reader.read(component=None, expected_size=len(data))
        except Exception as err:
            raise ValueError(
                f"Formatter {formatter!r} failed to read dataset {ref.id} ({ref.datasetType.name}, "
                f"storage class {storage_class.name}): {type(err).__name__}: {err}"
            ) from err

    def read_component(
        self,
        serialized: SerializedDataset,
        ref: DatasetRef,
        read_ref: DatasetRef,
        parameters: Mapping[str, Any] | None,
    ) -> Any:
        """Read a component of a dataset from its bytes, as a file datastore does.

        The formatter is asked for the component with the read parameters;
        those it does not use are applied by the component's storage class.

        Parameters
        ----------
        serialized : `SerializedDataset`
            The whole dataset's file.
        ref : `~lsst.daf.butler.DatasetRef`
            The reference it was written with (the composite).
        read_ref : `~lsst.daf.butler.DatasetRef`
            The component reference asked for, with its read storage class.
        parameters : `~collections.abc.Mapping` or `None`
            Read parameters.

        Returns
        -------
        component : `object`
            The component as the read storage class's Python type, or `None`.

        Raises
        ------
        ValueError
            Raised if the formatter cannot be imported or fails to read the
            component, naming the formatter and the dataset.
        """
        component = read_ref.datasetType.component()
        read_storage_class = read_ref.datasetType.storageClass
        write_storage_class = ref.datasetType.storageClass
        path = artifact_path(ref, serialized.extension)
        location = Location(None, _BytesResourcePath.holding(path, serialized.data))
        descriptor = FileDescriptor(
            location,
            storageClass=write_storage_class,
            readStorageClass=read_storage_class,
            parameters=dict(parameters) if parameters else None,
        )
        try:
            formatter = _import_formatter(serialized.formatter)(descriptor, dataId=ref.dataId, ref=ref)
            _, leftover = formatter.segregate_parameters()
            reader = _as_v2(formatter, descriptor, ref)
            result = reader.read(component=component, expected_size=len(serialized.data))
        except Exception as err:
            raise ValueError(
                f"Formatter {serialized.formatter!r} failed to read component {component!r} of dataset "
                f"{ref.id} ({ref.datasetType.name}, storage class {write_storage_class.name}): "
                f"{type(err).__name__}: {err}"
            ) from err
        leftover = read_storage_class.filterParameters(leftover)
        if leftover:
            result = read_storage_class.delegate().handleParameters(result, leftover)
        if result is None:
            return None
        return read_storage_class.coerce_type(result)


@functools.lru_cache(maxsize=256)
def _import_formatter(name: str) -> type:
    formatter = doImportType(name)
    if not issubclass(formatter, Formatter | FormatterV2):
        raise TypeError(f"{name} is not a formatter class.")
    return formatter


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _as_v2(formatter: Any, descriptor: FileDescriptor, ref: DatasetRef) -> FormatterV2:
    """Wrap a V1 formatter as a file datastore does."""
    if isinstance(formatter, Formatter):
        return FormatterV1inV2(
            descriptor,
            ref=ref,
            formatter=formatter,
            write_parameters=formatter.write_parameters,
            write_recipes=formatter.write_recipes,
        )
    if not isinstance(formatter, FormatterV2):
        raise TypeError(f"{type(formatter).__qualname__} is not a formatter.")
    return formatter


def _write_through_file(formatter: FormatterV2, obj: Any, extension: str) -> bytes:
    """Serialize with a formatter that can only write files."""
    with ResourcePath.temporary_uri(suffix=extension or None) as temporary:
        formatter.write_local_file(obj, temporary)
        return temporary.read()


def _memory_uri(path: str) -> ResourcePath:
    return ResourcePath(f"mem://serialized/{urllib.parse.quote(path.lstrip('/'))}", forceDirectory=False)


class _BytesResourcePath(InMemoryResourcePath):
    """A ``mem://`` URI that reads back bytes held in memory.

    Formatters read through a URI (``uri.read()``, ``uri.open()``,
    ``uri.as_local()``); this one serves the stored bytes without a file,
    except to a formatter that insists on a local file.
    """

    _payload: bytes

    @classmethod
    def holding(cls, path: str, payload: bytes) -> _BytesResourcePath:
        """Return a URI that reads ``payload``.

        Parameters
        ----------
        path : `str`
            Path part of the URI (its extension matters to some formatters).
        payload : `bytes`
            What reading the URI returns.

        Returns
        -------
        uri : `_BytesResourcePath`
            The URI.
        """
        parsed = urllib.parse.ParseResult(
            scheme="mem",
            netloc="serialized",
            path="/" + urllib.parse.quote(path.lstrip("/")),
            params="",
            query="",
            fragment="",
        )
        uri = cls(parsed, forceDirectory=False)
        assert isinstance(uri, _BytesResourcePath)
        uri._payload = payload
        return uri

    def _bytes(self) -> bytes:
        try:
            return self._payload
        except AttributeError:
            raise FileNotFoundError(f"{self} holds no bytes (it was derived from another URI).") from None

    def read(self, size: int = -1) -> bytes:
        data = self._bytes()
        return data if size < 0 else data[:size]

    def size(self) -> int:
        return len(self._bytes())

    def get_info(self) -> ResourceInfo:
        return ResourceInfo(uri=str(self), is_file=True, size=self.size(), last_modified=None, checksums={})

    @contextlib.contextmanager
    def _as_local(
        self, multithreaded: bool = True, tmpdir: ResourcePath | None = None
    ) -> Iterator[ResourcePath]:
        with ResourcePath.temporary_uri(prefix=tmpdir, suffix=self.getExtension() or None) as temporary:
            temporary.write(self._bytes())
            yield temporary

"""Datasets arriving as files: ingest, zip files, transfers and imported records."""

from __future__ import annotations

__all__ = (
    "READABLE_TRANSFER_MODES",
    "Incoming",
    "UnsupportedTransferModeError",
    "assemble",
    "check_transfer_mode",
    "open_zip",
    "read_file",
    "read_member",
)

import dataclasses
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from lsst.daf.butler import DatasetRef
from lsst.daf.butler.datastore.stored_file_info import StoredFileInfo
from lsst.resources import ResourcePath

from ._serialization import Formatters, SerializedDataset

READABLE_TRANSFER_MODES = ("auto", "copy", "move")
"""Transfer modes that read files into memory (``auto`` means ``copy``)."""

_LINK_MODES = frozenset({"link", "symlink", "hardlink", "relsymlink"})
_IN_PLACE_MODES = frozenset({"direct", "split", "unsafe_direct"})


class UnsupportedTransferModeError(NotImplementedError):
    """A transfer mode that cannot mean anything for datasets held in memory.

    A `NotImplementedError`, as the ``Datastore`` API says for an unsupported
    transfer mode (a chained datastore then tries its other children).
    """


def check_transfer_mode(transfer: str | None, operation: str, allowed: Sequence[str]) -> None:
    """Refuse a transfer mode an in-memory datastore cannot honour.

    Parameters
    ----------
    transfer : `str` or `None`
        The mode asked for.
    operation : `str`
        Name of the datastore method, for the message.
    allowed : `~collections.abc.Sequence` [`str`]
        The modes the operation supports.

    Raises
    ------
    UnsupportedTransferModeError
        Raised if ``transfer`` is not in ``allowed``, saying why and listing
        the supported modes.
    """
    if transfer in allowed:
        return
    if transfer is None:
        reason = (
            "it means the files are already inside the datastore, and an in-memory datastore holds no files"
        )
    elif transfer in _LINK_MODES:
        reason = "a link to a file cannot hold a dataset in memory"
    elif transfer in _IN_PLACE_MODES:
        reason = "it would leave the datastore depending on files it does not own"
    elif transfer == "move":
        reason = "the files belong to the source datastore, which would be left with records of nothing"
    else:
        reason = "it is not a transfer mode"
    raise UnsupportedTransferModeError(
        f"InMemoryDatastore.{operation} does not support transfer mode {transfer!r}: {reason}. "
        f"Supported: {', '.join(repr(mode) for mode in allowed)}."
    )


def read_file(uri: ResourcePath) -> bytes:
    """Return the bytes of a file, or of a member of a zip file.

    Parameters
    ----------
    uri : `lsst.resources.ResourcePath`
        The file; a fragment ``zip-path=<member>`` names a member of a zip
        file, as in the records of a file datastore that ingested a zip.

    Returns
    -------
    data : `bytes`
        The contents.

    Raises
    ------
    FileNotFoundError
        Raised if the file, or the zip member, does not exist, naming it.
    """
    member = None
    if uri.fragment and uri.unquoted_fragment.startswith("zip-path="):
        member = uri.unquoted_fragment.partition("=")[2]
        uri = uri.replace(fragment="")
    try:
        data = uri.read()
    except FileNotFoundError as err:
        raise FileNotFoundError(f"Cannot read {uri}: it does not exist ({err}).") from err
    if member is None:
        return data
    with open_zip(data, uri) as archive:
        try:
            return read_member(archive, member, uri)
        except KeyError as err:
            raise FileNotFoundError(f"Zip file {uri} has no member {member!r}.") from err


def open_zip(data: bytes, uri: ResourcePath) -> zipfile.ZipFile:
    """Open the bytes of a zip file.

    Parameters
    ----------
    data : `bytes`
        The zip file's contents.
    uri : `lsst.resources.ResourcePath`
        Where they were read, for messages.

    Returns
    -------
    archive : `zipfile.ZipFile`
        The open zip file.

    Raises
    ------
    ValueError
        Raised if ``data`` is not a zip file, naming ``uri``.
    """
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise ValueError(f"{uri} is not a zip file: {err}") from err


def read_member(archive: zipfile.ZipFile, member: str, uri: ResourcePath) -> bytes:
    """Return the bytes of a member of a zip file.

    Parameters
    ----------
    archive : `zipfile.ZipFile`
        The open zip file.
    member : `str`
        The member's name.
    uri : `lsst.resources.ResourcePath`
        Where the zip file was read, for messages.

    Returns
    -------
    data : `bytes`
        The member's contents.

    Raises
    ------
    KeyError
        Raised if the zip file has no such member.
    ValueError
        Raised if the member cannot be read (corrupt, truncated, encrypted,
        or compressed in a way Python cannot read), naming the zip file and
        the member.
    """
    try:
        return archive.read(member)
    except KeyError:
        raise
    except Exception as err:  # zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ...
        raise ValueError(
            f"Zip file {uri}: member {member!r} cannot be read ({type(err).__name__}: {err})."
        ) from err


@dataclasses.dataclass
class Incoming:
    """A dataset read from its files, ready to be stored.

    Attributes
    ----------
    ref : `~lsst.daf.butler.DatasetRef`
        The reference to store it under, with the storage class it was
        written with.
    obj : `object`
        The dataset, of that storage class's Python type.
    serialized : `SerializedDataset` or `None`
        Its file, when it came as one file holding the whole dataset (a
        composite that came one file per component has none).
    """

    ref: DatasetRef
    obj: Any
    serialized: SerializedDataset | None


def assemble(
    formatters: Formatters, ref: DatasetRef, files: Sequence[tuple[StoredFileInfo, bytes]]
) -> Incoming:
    """Read a dataset from its files through their formatters.

    Parameters
    ----------
    formatters : `Formatters`
        Reads the files.
    ref : `~lsst.daf.butler.DatasetRef`
        The dataset (not a component).
    files : `~collections.abc.Sequence` [`tuple`]
        Its file records (formatter, storage class, component; the path's
        extension is kept) and their contents: either one file holding the
        whole dataset, or one file per component of a composite.

    Returns
    -------
    incoming : `Incoming`
        The dataset.

    Raises
    ------
    ValueError
        Raised for a component reference, for files that are neither of the
        two layouts, if a formatter fails to read its file, or if the
        components cannot be assembled.
    """
    if ref.isComponent():
        raise ValueError(
            f"Cannot store component {ref.datasetType.name!r} on its own ({ref}): components are "
            "stored with their parent dataset."
        )
    if not files:
        raise ValueError(f"Dataset {ref} has no files to read.")
    wholes = [info for info, _ in files if info.component is None]
    if wholes:
        if len(files) != 1:
            raise ValueError(
                f"Dataset {ref} comes in {len(files)} files, {len(wholes)} of them holding the whole "
                "dataset; expected one whole file or one file per component."
            )
        info, data = files[0]
        write_ref = ref
        if info.storage_class_name != ref.datasetType.storageClass_name:
            write_ref = ref.overrideStorageClass(info.storage_class_name)
        extension = _extension(info.path)
        obj = formatters.deserialize(data, info.formatter, write_ref, path=f"{ref.id.hex}{extension}")
        return Incoming(write_ref, obj, SerializedDataset(data, info.formatter, extension))
    storage_class = ref.datasetType.storageClass
    components: dict[str, Any] = {}
    for info, data in files:
        component = info.component
        assert component is not None
        if component not in storage_class.components or component in components:
            raise ValueError(
                f"Dataset {ref} has a file for component {component!r}, which storage class "
                f"{storage_class.name} does not define (or which comes twice)."
            )
        components[component] = formatters.deserialize(
            data,
            info.formatter,
            ref,
            storage_class=info.storageClass,
            component=component,
            path=f"{ref.id.hex}.{component}{_extension(info.path)}",
        )
    try:
        obj = storage_class.delegate().assemble(components, pytype=storage_class.pytype)
    except Exception as err:
        raise ValueError(
            f"Dataset {ref}: the delegate of storage class {storage_class.name} cannot assemble its "
            f"components {sorted(components)}: {err}"
        ) from err
    return Incoming(ref, obj, None)


def _extension(path: str) -> str:
    """Return the extension of a record's path (of its zip member, if it names one)."""
    head, _, fragment = path.partition("#")
    if fragment.startswith("zip-path="):
        head = fragment.partition("=")[2]
    return ResourcePath(head, forceAbsolute=False, forceDirectory=False).getExtension()

"""Checking the dataset references handed to the datastore."""

from __future__ import annotations

__all__ = ("dataset_key", "require_id_refs", "require_ref", "require_refs")

import operator
from collections.abc import Callable, Iterable

from lsst.daf.butler import DatasetRef
from lsst.daf.butler.registry.interfaces import FakeDatasetRef


def require_ref(candidate: object, operation: str) -> DatasetRef:
    """Return ``candidate`` if it is a `~lsst.daf.butler.DatasetRef`.

    Parameters
    ----------
    candidate : `object`
        What the caller passed where a dataset reference was expected.
    operation : `str`
        Name of the datastore method, used in the error message.

    Returns
    -------
    ref : `~lsst.daf.butler.DatasetRef`
        The same object.

    Raises
    ------
    TypeError
        Raised if ``candidate`` is anything else: a dataset type, a data ID,
        a bare dataset ID or a registry-side ``FakeDatasetRef``. Every
        `~lsst.daf.butler.DatasetRef` of daf_butler 30 is resolved, so this is
        also the check for "unresolved" references.
    """
    if isinstance(candidate, DatasetRef):
        return candidate
    shown = repr(candidate)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise TypeError(
        f"{operation}() needs a resolved DatasetRef (with dataset type, data ID, run and id); "
        f"got {type(candidate).__name__}: {shown}"
    )


def require_refs(candidates: Iterable[object], operation: str) -> list[DatasetRef]:
    """Check every element of ``candidates`` before anything is changed.

    Parameters
    ----------
    candidates : `~collections.abc.Iterable` [`object`]
        The references passed to a bulk operation.
    operation : `str`
        Name of the datastore method, used in the error message.

    Returns
    -------
    refs : `list` [`~lsst.daf.butler.DatasetRef`]
        The references, materialised so that a one-shot iterator can be
        walked more than once.

    Raises
    ------
    TypeError
        Raised if ``candidates`` is not iterable or one of its elements is not
        a `~lsst.daf.butler.DatasetRef`.
    """
    if isinstance(candidates, str | bytes) or not isinstance(candidates, Iterable):
        raise TypeError(
            f"{operation}() needs a DatasetRef or an iterable of them; got {type(candidates).__name__}"
        )
    return [require_ref(candidate, operation) for candidate in candidates]


def require_id_refs(candidates: Iterable[object], operation: str) -> list[DatasetRef | FakeDatasetRef]:
    """Check every element of ``candidates`` is a real or registry-side reference.

    Parameters
    ----------
    candidates : `~collections.abc.Iterable` [`object`]
        What a bulk operation about dataset IDs was given.
    operation : `str`
        Name of the datastore method, used in the error message.

    Returns
    -------
    refs : `list`
        The `~lsst.daf.butler.DatasetRef` and ``FakeDatasetRef`` objects.

    Raises
    ------
    TypeError
        Raised if ``candidates`` is not iterable or holds anything else.
    """
    if isinstance(candidates, str | bytes) or not isinstance(candidates, Iterable):
        raise TypeError(
            f"{operation}() needs an iterable of dataset references; got {type(candidates).__name__}"
        )
    refs: list[DatasetRef | FakeDatasetRef] = []
    for ref in candidates:
        if not isinstance(ref, DatasetRef | FakeDatasetRef):
            raise TypeError(
                f"{operation}() needs DatasetRef or FakeDatasetRef elements; got "
                f"{type(ref).__name__}: {ref!r}"
            )
        refs.append(ref)
    return refs


def _key_from_public_id(ref: DatasetRef) -> int:
    return ref.id.int


# ``DatasetRef.id`` builds a new `uuid.UUID` on every access (about 1 µs and a
# fresh 72-byte object), while the reference already holds the integer in a
# private slot. Keying by that integer keeps put, get and exists cheap and
# adds no per-dataset allocation; an attrgetter reads it without a Python
# call. The slot is private to daf_butler, so fall back to the public
# property should it ever disappear.
dataset_key: Callable[[DatasetRef], int] = (
    operator.attrgetter("_id") if "_id" in getattr(DatasetRef, "__slots__", ()) else _key_from_public_id
)
"""Return the key a dataset is stored under: the integer of its UUID."""

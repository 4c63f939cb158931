"""How far stored objects are kept apart from the objects callers hold."""

from __future__ import annotations

__all__ = ("Isolation", "UncopyableDatasetError", "isolated_copy")

import copy
import enum
from typing import Any

from lsst.daf.butler import StorageClass
from lsst.daf.butler.datastore import DatastoreValidationError


class Isolation(enum.Enum):
    """Isolation modes of `~butler_testkit.InMemoryDatastore`.

    Chosen with the datastore configuration key ``isolation``.
    """

    COPY = "copy"
    """Store a copy at ``put`` and return a fresh copy from ``get``, so that,
    as with files, mutating an object never changes what is stored (default).
    """

    REFERENCE = "reference"
    """Store and return the caller's objects themselves, as upstream's
    in-memory datastore does: fastest, but a mutation on either side is
    visible on the other."""

    SERIALIZE = "serialize"
    """Serialize at ``put`` through the formatter a ``FileDatastore`` with
    the same ``formatters`` configuration would use, keeping the bytes in
    memory, and deserialize at every ``get``: an object its formatter cannot
    write fails at ``put``, as it would in production (slowest)."""

    @classmethod
    def from_config(cls, value: object) -> Isolation:
        """Parse the ``isolation`` configuration value.

        Parameters
        ----------
        value : `object`
            The configured value; `None` means the default, ``copy``.

        Returns
        -------
        isolation : `Isolation`
            The mode.

        Raises
        ------
        lsst.daf.butler.datastore.DatastoreValidationError
            Raised if the value is not one of the valid modes, listing them.
        """
        if value is None:
            return cls.COPY
        for mode in cls:
            if value == mode.value:
                return mode
        valid = ", ".join(repr(mode.value) for mode in cls)
        raise DatastoreValidationError(
            f"Unknown datastore isolation mode {value!r}; valid values are {valid}."
        )


class UncopyableDatasetError(TypeError):
    """A dataset cannot be copied, so ``copy`` isolation cannot hold it."""


# Types whose instances cannot be mutated: copying them is pointless.
_IMMUTABLE_TYPES = (int, float, complex, str, bytes, bool, type(None), frozenset)


def isolated_copy(obj: Any, storage_class: StorageClass) -> Any:
    """Copy ``obj`` with its storage class delegate, or deep-copy it.

    Parameters
    ----------
    obj : `object`
        The object to copy.
    storage_class : `~lsst.daf.butler.StorageClass`
        Storage class describing ``obj``; its delegate knows the best way to
        copy it.

    Returns
    -------
    copied : `object`
        An object sharing no mutable state with ``obj``.

    Raises
    ------
    UncopyableDatasetError
        Raised if the object cannot be copied, naming the storage class and
        the ``reference`` isolation mode that avoids copies.
    """
    if type(obj) in _IMMUTABLE_TYPES:
        return obj
    try:
        if storage_class.delegateClass is None:
            return copy.deepcopy(obj)
        return storage_class.delegate().copy(obj)
    except Exception as err:
        raise UncopyableDatasetError(
            f"Cannot copy a {type(obj).__module__}.{type(obj).__qualname__} of storage class "
            f"{storage_class.name!r} ({err}). Give its storage class a delegate whose copy() works, "
            "or configure the datastore with 'isolation: reference' to store objects without copying."
        ) from err

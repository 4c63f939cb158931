"""How far stored objects are kept apart from the objects callers hold."""

from __future__ import annotations

__all__ = ("Isolation", "UncopyableDatasetError")

import enum

from lsst.daf.butler.datastore import DatastoreValidationError


class Isolation(enum.Enum):
    """Isolation modes of `~butler_testkit.InMemoryDatastore`.

    Chosen with the datastore configuration key ``isolation``.
    """

    COPY = "copy"
    """Store a private copy at ``put`` and return a new copy from every
    ``get``, so that, as with files, mutating an object never changes what is
    stored (default). Copies are made at memory speed: see the datastore
    documentation for how each kind of object is copied."""

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

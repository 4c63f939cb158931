"""What the ``datastore_factory`` fixture of the conformance suite returns."""

from __future__ import annotations

__all__ = ("DatastoreFactory",)

from collections.abc import Mapping
from typing import Any, Protocol

from lsst.daf.butler.datastore import Datastore


class DatastoreFactory(Protocol):
    """Makes a fresh, empty datastore under test; what the ``datastore_factory`` fixture returns."""

    def __call__(self, *, constraints: Mapping[str, Any] | None = None) -> Datastore:
        """Make a new datastore sharing nothing with any other.

        Parameters
        ----------
        constraints : `~collections.abc.Mapping`, optional
            The ``constraints`` section of the datastore configuration
            (``accept`` / ``reject`` lists), or `None` for none.

        Returns
        -------
        datastore : `~lsst.daf.butler.datastore.Datastore`
            The datastore, empty.
        """
        ...

"""Test doubles, fixtures and a conformance suite for ``lsst.daf.butler``."""

from ._version import __version__
from .datastore import InMemoryDatastore, Isolation, UncopyableDatasetError

__all__ = ("InMemoryDatastore", "Isolation", "UncopyableDatasetError", "__version__")

"""Test doubles, fixtures and a conformance suite for ``lsst.daf.butler``."""

from ._version import __version__
from .datastore import (
    Fault,
    FaultPlan,
    InjectedFaultError,
    InMemoryDatastore,
    InstrumentedDatastore,
    Isolation,
    Journal,
    UncopyableDatasetError,
)

__all__ = (
    "Fault",
    "FaultPlan",
    "InMemoryDatastore",
    "InjectedFaultError",
    "InstrumentedDatastore",
    "Isolation",
    "Journal",
    "UncopyableDatasetError",
    "__version__",
)

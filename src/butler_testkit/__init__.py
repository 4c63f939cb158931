"""Test doubles, fixtures and a conformance suite for ``lsst.daf.butler``."""

from ._version import __version__
from .bridge import (
    BridgeOperation,
    ConstraintViolationError,
    InMemoryBridge,
    InMemoryBridgeManager,
    InMemoryEphemeralBridge,
    InMemoryOpaqueTable,
    InMemoryOpaqueTableManager,
    InMemoryPersistentBridge,
    InMemoryRegistry,
    SchemaMismatchError,
)
from .datastore import InMemoryDatastore, Isolation, UncopyableDatasetError

__all__ = (
    "BridgeOperation",
    "ConstraintViolationError",
    "InMemoryBridge",
    "InMemoryBridgeManager",
    "InMemoryDatastore",
    "InMemoryEphemeralBridge",
    "InMemoryOpaqueTable",
    "InMemoryOpaqueTableManager",
    "InMemoryPersistentBridge",
    "InMemoryRegistry",
    "Isolation",
    "SchemaMismatchError",
    "UncopyableDatasetError",
    "__version__",
)

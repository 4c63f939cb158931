"""Test doubles, fixtures and a conformance suite for ``lsst.daf.butler``."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
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
    from .conformance import Capabilities, DatastoreConformance
    from .datastore import (
        Fault,
        FaultPlan,
        InjectedFaultError,
        InMemoryDatastore,
        InstrumentedDatastore,
        Isolation,
        Journal,
        UncopyableDatasetError,
        UnserializableDatasetError,
        UnsupportedTransferModeError,
    )
    from .factories import (
        ButlerProvider,
        DataIdFactory,
        RefFactory,
        StorageClassScope,
        file_datastore_config,
        installed_storage_classes,
    )

__all__ = (
    "BridgeOperation",
    "ButlerProvider",
    "Capabilities",
    "ConstraintViolationError",
    "DataIdFactory",
    "DatastoreConformance",
    "Fault",
    "FaultPlan",
    "InMemoryBridge",
    "InMemoryBridgeManager",
    "InMemoryDatastore",
    "InMemoryEphemeralBridge",
    "InMemoryOpaqueTable",
    "InMemoryOpaqueTableManager",
    "InMemoryPersistentBridge",
    "InMemoryRegistry",
    "InjectedFaultError",
    "InstrumentedDatastore",
    "Isolation",
    "Journal",
    "RefFactory",
    "SchemaMismatchError",
    "StorageClassScope",
    "UncopyableDatasetError",
    "UnserializableDatasetError",
    "UnsupportedTransferModeError",
    "__version__",
    "file_datastore_config",
    "installed_storage_classes",
)

# Importing daf_butler takes seconds, and pytest imports this package at
# start-up for the plugin: public names are imported on first use.
_LAZY = {
    "BridgeOperation": ".bridge",
    "ConstraintViolationError": ".bridge",
    "InMemoryBridge": ".bridge",
    "InMemoryBridgeManager": ".bridge",
    "InMemoryEphemeralBridge": ".bridge",
    "InMemoryOpaqueTable": ".bridge",
    "InMemoryOpaqueTableManager": ".bridge",
    "InMemoryPersistentBridge": ".bridge",
    "InMemoryRegistry": ".bridge",
    "SchemaMismatchError": ".bridge",
    "Fault": ".datastore",
    "FaultPlan": ".datastore",
    "InMemoryDatastore": ".datastore",
    "InjectedFaultError": ".datastore",
    "InstrumentedDatastore": ".datastore",
    "Isolation": ".datastore",
    "Journal": ".datastore",
    "UncopyableDatasetError": ".datastore",
    "UnserializableDatasetError": ".datastore",
    "UnsupportedTransferModeError": ".datastore",
    "ButlerProvider": ".factories",
    "DataIdFactory": ".factories",
    "RefFactory": ".factories",
    "StorageClassScope": ".factories",
    "file_datastore_config": ".factories",
    "installed_storage_classes": ".factories",
    "Capabilities": ".conformance",
    "DatastoreConformance": ".conformance",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

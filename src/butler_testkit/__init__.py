"""Test doubles, fixtures and a conformance suite for ``lsst.daf.butler``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)

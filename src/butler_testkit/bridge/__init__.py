"""Fake registry bridges and opaque tables that drive any Datastore without SQL."""

from ._bridge import InMemoryBridge
from ._ephemeral import InMemoryEphemeralBridge
from ._errors import ConstraintViolationError, SchemaMismatchError
from ._manager import InMemoryBridgeManager
from ._opaque_manager import InMemoryOpaqueTableManager
from ._opaque_table import InMemoryOpaqueTable
from ._operations import BridgeOperation
from ._persistent import InMemoryPersistentBridge
from ._registry import InMemoryRegistry

__all__ = (
    "BridgeOperation",
    "ConstraintViolationError",
    "InMemoryBridge",
    "InMemoryBridgeManager",
    "InMemoryEphemeralBridge",
    "InMemoryOpaqueTable",
    "InMemoryOpaqueTableManager",
    "InMemoryPersistentBridge",
    "InMemoryRegistry",
    "SchemaMismatchError",
)

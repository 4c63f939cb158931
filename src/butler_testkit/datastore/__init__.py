"""The in-memory datastore and the pieces of its behaviour."""

from ._datastore import InMemoryDatastore
from ._faults import Fault, FaultPlan, InjectedFaultError
from ._incoming import UnsupportedTransferModeError
from ._instrumented import InstrumentedDatastore
from ._isolation import Isolation, UncopyableDatasetError
from ._journal import Journal, JournalEntry
from ._records import StoredDatasetRefInfo
from ._serialization import SerializedDataset, UnserializableDatasetError
from ._shared import release_shared_state, shared_state_for, shared_state_roots
from ._state import DatastoreState, StateSnapshot, StoredDataset

__all__ = (
    "DatastoreState",
    "Fault",
    "FaultPlan",
    "InMemoryDatastore",
    "InjectedFaultError",
    "InstrumentedDatastore",
    "Isolation",
    "Journal",
    "JournalEntry",
    "SerializedDataset",
    "StateSnapshot",
    "StoredDataset",
    "StoredDatasetRefInfo",
    "UncopyableDatasetError",
    "UnserializableDatasetError",
    "UnsupportedTransferModeError",
    "release_shared_state",
    "shared_state_for",
    "shared_state_roots",
)

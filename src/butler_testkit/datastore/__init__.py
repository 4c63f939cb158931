"""The in-memory datastore and the pieces of its behaviour."""

from ._datastore import InMemoryDatastore
from ._default_formatters import add_default_formatters, default_formatters
from ._faults import Fault, FaultPlan, InjectedFaultError
from ._incoming import UnsupportedTransferModeError
from ._instrumented import InstrumentedDatastore
from ._isolation import Isolation, UncopyableDatasetError
from ._journal import Journal, JournalEntry
from ._records import StoredDatasetRefInfo
from ._serialization import SerializedDataset, UnserializableDatasetError
from ._shared import (
    RecordScope,
    SharedRepository,
    release_shared_state,
    shared_repository_for,
    shared_state_for,
    shared_state_roots,
)
from ._state import DatastoreState, StateSnapshot, StoredDataset
from ._stored_point import StoredCheck, StoredPointHook, checking_stored_point, stored_point_check

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
    "RecordScope",
    "SerializedDataset",
    "SharedRepository",
    "StateSnapshot",
    "StoredCheck",
    "StoredDataset",
    "StoredDatasetRefInfo",
    "StoredPointHook",
    "UncopyableDatasetError",
    "UnserializableDatasetError",
    "UnsupportedTransferModeError",
    "add_default_formatters",
    "checking_stored_point",
    "default_formatters",
    "release_shared_state",
    "shared_repository_for",
    "shared_state_for",
    "shared_state_roots",
    "stored_point_check",
)

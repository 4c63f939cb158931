"""The tests of the conformance suite, one class per area; `DatastoreConformance` inherits them all."""

from .chaining import ChainTests
from .composites import CompositeTests
from .concurrency import ConcurrencyTests
from .constraints import ConstraintTests
from .construction import ConstructionTests
from .conversion import ConversionTests
from .deletion import DeletionTests
from .existence import ExistenceTests
from .put_get import PutGetTests
from .records import RecordTests
from .resources import ResourceTests
from .stateful import StatefulTests
from .transactions import TransactionTests
from .transfer import TransferTests

__all__ = (
    "ChainTests",
    "CompositeTests",
    "ConcurrencyTests",
    "ConstraintTests",
    "ConstructionTests",
    "ConversionTests",
    "DeletionTests",
    "ExistenceTests",
    "PutGetTests",
    "RecordTests",
    "ResourceTests",
    "StatefulTests",
    "TransactionTests",
    "TransferTests",
)

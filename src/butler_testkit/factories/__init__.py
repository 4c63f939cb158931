"""Storage classes and their example Python types, for tests."""

from ._metrics import MetricsRecord, MetricsRecordDelegate, MetricsRecordModel, SequenceDelegate
from .storage_classes import CATALOGUE, STORAGE_CLASS_PREFIX, installed_storage_classes

__all__ = (
    "CATALOGUE",
    "STORAGE_CLASS_PREFIX",
    "MetricsRecord",
    "MetricsRecordDelegate",
    "MetricsRecordModel",
    "SequenceDelegate",
    "installed_storage_classes",
)

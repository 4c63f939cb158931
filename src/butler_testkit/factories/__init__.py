"""Factories for tests: storage classes, data IDs, dataset types and refs."""

from ._data_ids import ButlerProvider, DataIdFactory
from ._instruments import INSTRUMENTS, DetectorPreset, InstrumentPreset, SkyMapPreset, get_instrument
from ._metrics import MetricsRecord, MetricsRecordDelegate, MetricsRecordModel, SequenceDelegate
from ._refs import RefFactory
from ._world import DimensionWorld, Observation
from .storage_classes import CATALOGUE, STORAGE_CLASS_PREFIX, installed_storage_classes

__all__ = (
    "CATALOGUE",
    "INSTRUMENTS",
    "STORAGE_CLASS_PREFIX",
    "ButlerProvider",
    "DataIdFactory",
    "DetectorPreset",
    "DimensionWorld",
    "InstrumentPreset",
    "MetricsRecord",
    "MetricsRecordDelegate",
    "MetricsRecordModel",
    "Observation",
    "RefFactory",
    "SequenceDelegate",
    "SkyMapPreset",
    "get_instrument",
    "installed_storage_classes",
)

"""Factories for tests: storage classes, data IDs, dataset types and refs."""

from ._bridges import make_bridge_manager
from ._catalogue import CATALOGUE, DISASSEMBLED, FORMATTERS, STORAGE_CLASS_PREFIX, file_datastore_config
from ._data_ids import DEFAULT_DIMENSIONS, ButlerProvider, DataIdFactory, conform_dimensions, default_universe
from ._formatters import (
    ArrayFormatter,
    CatalogueFormatter,
    CatalogueJsonFormatter,
    ImageRecordFormatter,
    LedgerFormatter,
)
from ._image import BBox, ImageArrayDelegate, ImageRecord, ImageRecordDelegate
from ._instruments import INSTRUMENTS, DetectorPreset, InstrumentPreset, SkyMapPreset, get_instrument
from ._ledger import Ledger, LedgerDelegate
from ._metrics import MetricsRecord, MetricsRecordDelegate, MetricsRecordModel, SequenceDelegate
from ._refs import RefFactory
from ._registration import StorageClassScope, installed_storage_classes
from ._world import DimensionWorld, Observation

__all__ = (
    "CATALOGUE",
    "DEFAULT_DIMENSIONS",
    "DISASSEMBLED",
    "FORMATTERS",
    "INSTRUMENTS",
    "STORAGE_CLASS_PREFIX",
    "ArrayFormatter",
    "BBox",
    "ButlerProvider",
    "CatalogueFormatter",
    "CatalogueJsonFormatter",
    "DataIdFactory",
    "DetectorPreset",
    "DimensionWorld",
    "ImageArrayDelegate",
    "ImageRecord",
    "ImageRecordDelegate",
    "ImageRecordFormatter",
    "InstrumentPreset",
    "Ledger",
    "LedgerDelegate",
    "LedgerFormatter",
    "MetricsRecord",
    "MetricsRecordDelegate",
    "MetricsRecordModel",
    "Observation",
    "RefFactory",
    "SequenceDelegate",
    "SkyMapPreset",
    "StorageClassScope",
    "conform_dimensions",
    "default_universe",
    "file_datastore_config",
    "get_instrument",
    "installed_storage_classes",
    "make_bridge_manager",
)

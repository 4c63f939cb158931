"""Configurations of upstream datastores for our storage-class catalogue."""

from __future__ import annotations

from typing import Any

FILE_DATASTORE = "lsst.daf.butler.datastores.fileDatastore.FileDatastore"
CHAINED_DATASTORE = "lsst.daf.butler.datastores.chainedDatastore.ChainedDatastore"
JSON_FORMATTER = "lsst.daf.butler.formatters.json.JsonFormatter"

# Every catalogue class a test writes, read and written as JSON.
FORMATTERS = dict.fromkeys(
    ("BtkMetrics", "BtkMetricsNoComponents", "BtkDict", "BtkList", "BtkInt"), JSON_FORMATTER
)
TEMPLATE = "{run:/}/{datasetType}.{component:?}/{datasetType}_{component:?}_{instrument}_{visit}"


def file_datastore_config(root: str, *, disassemble: bool = False, **overrides: Any) -> dict[str, Any]:
    """A FileDatastore under ``root`` that can write every catalogue class.

    ``disassemble`` stores each ``BtkMetrics`` dataset as one file per
    component (``summary``, ``output``, ``data``).
    """
    config: dict[str, Any] = {
        "cls": FILE_DATASTORE,
        "root": root,
        "formatters": FORMATTERS,
        "templates": {"default": TEMPLATE},
        "composites": {"disassembled": {"BtkMetrics": disassemble}},
    }
    config.update(overrides)
    return config

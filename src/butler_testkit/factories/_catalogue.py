"""The storage-class catalogue, its formatters, and a FileDatastore configured for it."""

from __future__ import annotations

__all__ = (
    "CATALOGUE",
    "DISASSEMBLED",
    "FORMATTERS",
    "STORAGE_CLASS_PREFIX",
    "file_datastore_config",
)

import os
from collections.abc import Mapping
from typing import Any

from lsst.daf.butler.datastore import DatastoreConfig

from ..datastore import add_default_formatters

STORAGE_CLASS_PREFIX = "Btk"
"""Prefix of every catalogue name, so that none clashes with daf_butler's."""

_METRICS = "butler_testkit.factories._metrics"
_IMAGE = "butler_testkit.factories._image"
_FORMATTERS = "butler_testkit.factories._formatters"
_LEDGER = "butler_testkit.factories._ledger"

CATALOGUE: Mapping[str, Mapping[str, Any]] = {
    "BtkDict": {"pytype": "dict"},
    "BtkList": {
        "pytype": "list",
        "delegate": f"{_METRICS}.SequenceDelegate",
        "parameters": ["slice"],
    },
    "BtkTuple": {
        "pytype": "tuple",
        "delegate": f"{_METRICS}.SequenceDelegate",
        "parameters": ["slice"],
        "converters": {"list": "builtins.tuple"},
    },
    "BtkInt": {"pytype": "int"},
    "BtkMetrics": {
        "pytype": f"{_METRICS}.MetricsRecord",
        "delegate": f"{_METRICS}.MetricsRecordDelegate",
        "parameters": ["slice"],
        "components": {"summary": "BtkDict", "output": "BtkDict", "data": "BtkList"},
        "derivedComponents": {"counter": "BtkInt"},
        "converters": {
            "dict": f"{_METRICS}.metrics_record_from_dict",
            f"{_METRICS}.MetricsRecordModel": f"{_METRICS}.metrics_record_from_model",
        },
    },
    "BtkMetricsNoComponents": {
        "pytype": f"{_METRICS}.MetricsRecord",
        "delegate": f"{_METRICS}.MetricsRecordDelegate",
        "parameters": ["slice"],
        "converters": {
            "dict": f"{_METRICS}.metrics_record_from_dict",
            f"{_METRICS}.MetricsRecordModel": f"{_METRICS}.metrics_record_from_model",
        },
    },
    "BtkMetricsModel": {
        "pytype": f"{_METRICS}.MetricsRecordModel",
        "converters": {
            f"{_METRICS}.MetricsRecord": f"{_METRICS}.metrics_record_to_model",
            "dict": f"{_METRICS}.metrics_model_from_dict",
        },
    },
    "BtkMetricsDict": {
        "pytype": "dict",
        "converters": {
            f"{_METRICS}.MetricsRecord": f"{_METRICS}.metrics_record_to_dict",
            f"{_METRICS}.MetricsRecordModel": f"{_METRICS}.metrics_model_to_dict",
        },
    },
    "BtkArray": {
        "pytype": "numpy.ndarray",
        "delegate": f"{_IMAGE}.ImageArrayDelegate",
        "parameters": ["bbox"],
    },
    "BtkBBox": {"pytype": f"{_IMAGE}.BBox"},
    "BtkImage": {
        "pytype": f"{_IMAGE}.ImageRecord",
        "delegate": f"{_IMAGE}.ImageRecordDelegate",
        "parameters": ["bbox"],
        "components": {
            "image": "BtkArray",
            "mask": "BtkArray",
            "variance": "BtkArray",
            "metadata": "BtkDict",
        },
        "derivedComponents": {"shape": "BtkTuple", "bbox": "BtkBBox"},
    },
    "BtkLedger": {
        "pytype": f"{_LEDGER}.Ledger",
        "delegate": f"{_LEDGER}.LedgerDelegate",
        "parameters": ["first"],
        "derivedComponents": {"header": "BtkDict"},
    },
}
"""Storage-class definitions, in daf_butler's ``storageClasses`` config form.

Plain types:

- ``BtkDict``, ``BtkInt``: a `dict`, an `int`.
- ``BtkList``, ``BtkTuple``: a `list`, a `tuple` (convertible from a list);
  both take the ``slice`` parameter.
- ``BtkMetricsModel``: a pydantic model, `MetricsRecordModel`.
- ``BtkMetricsNoComponents``: a dataclass, `MetricsRecord`, written whole
  (``slice`` parameter).
- ``BtkBBox``: a frozen dataclass, `BBox`.
- ``BtkArray``: a 2-d `numpy.ndarray`, with the ``bbox`` parameter.

Composites:

- ``BtkMetrics``: `MetricsRecord` with read/write components ``summary``,
  ``output`` (``BtkDict``) and ``data`` (``BtkList``), derived component
  ``counter`` (``BtkInt``, the length of ``data``) and parameter ``slice``
  (slices ``data``).
- ``BtkImage``: `ImageRecord`, an image-like composite with components
  ``image``, ``mask``, ``variance`` (``BtkArray``) and ``metadata``
  (``BtkDict``), derived components ``shape`` (``BtkTuple``) and ``bbox``
  (``BtkBBox``), and parameter ``bbox`` (a `BBox` to cut out).

With a derived component only its formatter can produce:

- ``BtkLedger``: `Ledger`, whose file holds a header (derived component
  ``header``, ``BtkDict``: the entries' count and digest) that the Python
  object does not have, as a provenance quantum graph's ``packages``; its
  ``first`` parameter is applied by the delegate or by the formatter.

Converters: `MetricsRecord` (dataclass), `MetricsRecordModel` (model) and
`dict` convert into each other in every direction, through ``BtkMetrics``
(or ``BtkMetricsNoComponents``), ``BtkMetricsModel`` and ``BtkMetricsDict``.
"""

_JSON = f"{_FORMATTERS}.CatalogueJsonFormatter"

FORMATTERS: Mapping[str, str] = {
    "BtkDict": _JSON,
    "BtkList": _JSON,
    "BtkTuple": _JSON,
    "BtkInt": _JSON,
    "BtkMetrics": _JSON,
    "BtkMetricsNoComponents": _JSON,
    "BtkMetricsModel": _JSON,
    "BtkMetricsDict": _JSON,
    "BtkBBox": _JSON,
    "BtkArray": f"{_FORMATTERS}.ArrayFormatter",
    "BtkImage": f"{_FORMATTERS}.ImageRecordFormatter",
    "BtkLedger": f"{_FORMATTERS}.LedgerFormatter",
}
"""The formatter of every catalogue storage class, in the form of a
``FileDatastore``'s ``formatters`` configuration.

Importing the catalogue makes them default formatters of every
`~butler_testkit.InMemoryDatastore` (`~butler_testkit.datastore.add_default_formatters`)."""

# Every dataset of a catalogue storage class comes through this package (its
# definitions, types and delegates live here), so registering on import gives
# the in-memory datastore the catalogue's formatters wherever they can be used.
add_default_formatters(FORMATTERS)

DISASSEMBLED: tuple[str, ...] = ("BtkMetrics", "BtkImage")
"""The catalogue's composites: what a ``FileDatastore`` can disassemble."""


def file_datastore_config(
    root: str | os.PathLike[str], *, disassemble: bool = True, name: str | None = None
) -> DatastoreConfig:
    """Return the configuration of a ``FileDatastore`` for the catalogue.

    Parameters
    ----------
    root : `str` or `os.PathLike`
        Directory the datastore writes under (a test's ``tmp_path``).
    disassemble : `bool`, optional
        Whether composites (`DISASSEMBLED`) are written one file per
        component (the default) or as one file.
    name : `str`, optional
        Name of the datastore; daf_butler derives one from ``root`` if not
        given.

    Returns
    -------
    config : `~lsst.daf.butler.datastore.DatastoreConfig`
        Configuration for ``Datastore.fromConfig``, with `FORMATTERS` and the
        local file cache disabled (a test should read what it wrote).
    """
    config: dict[str, Any] = {
        "cls": "lsst.daf.butler.datastores.fileDatastore.FileDatastore",
        "root": os.fspath(root),
        "formatters": dict(FORMATTERS),
        "composites": {"disassembled": dict.fromkeys(DISASSEMBLED, disassemble)},
        "cached": {"expiry": {"mode": "disabled"}},
    }
    if name is not None:
        config["name"] = name
    return DatastoreConfig(config)

"""The storage-class catalogue and its scoped installation."""

from __future__ import annotations

__all__ = ("CATALOGUE", "STORAGE_CLASS_PREFIX", "installed_storage_classes")

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from lsst.daf.butler import StorageClassConfig, StorageClassFactory

STORAGE_CLASS_PREFIX = "Btk"
"""Prefix of every catalogue name, so that none clashes with daf_butler's."""

_TYPES = "butler_testkit.factories._metrics"

CATALOGUE: Mapping[str, Mapping[str, Any]] = {
    "BtkDict": {"pytype": "dict"},
    "BtkList": {
        "pytype": "list",
        "delegate": f"{_TYPES}.SequenceDelegate",
        "parameters": ["slice"],
    },
    "BtkTuple": {
        "pytype": "tuple",
        "delegate": f"{_TYPES}.SequenceDelegate",
        "parameters": ["slice"],
        "converters": {"list": "builtins.tuple"},
    },
    "BtkInt": {"pytype": "int"},
    "BtkMetrics": {
        "pytype": f"{_TYPES}.MetricsRecord",
        "delegate": f"{_TYPES}.MetricsRecordDelegate",
        "parameters": ["slice"],
        "components": {"summary": "BtkDict", "output": "BtkDict", "data": "BtkList"},
        "derivedComponents": {"counter": "BtkInt"},
        "converters": {
            "dict": f"{_TYPES}.metrics_record_from_dict",
            f"{_TYPES}.MetricsRecordModel": f"{_TYPES}.metrics_record_from_model",
        },
    },
    "BtkMetricsNoComponents": {
        "pytype": f"{_TYPES}.MetricsRecord",
        "delegate": f"{_TYPES}.MetricsRecordDelegate",
        "parameters": ["slice"],
        "converters": {"dict": f"{_TYPES}.metrics_record_from_dict"},
    },
    "BtkMetricsModel": {
        "pytype": f"{_TYPES}.MetricsRecordModel",
        "converters": {f"{_TYPES}.MetricsRecord": f"{_TYPES}.metrics_record_to_model"},
    },
    "BtkMetricsDict": {
        "pytype": "dict",
        "converters": {f"{_TYPES}.MetricsRecord": f"{_TYPES}.metrics_record_to_dict"},
    },
}
"""Storage-class definitions, in daf_butler's ``storageClasses`` config form.

- ``BtkDict``, ``BtkList`` (``slice``), ``BtkInt``: plain types.
- ``BtkTuple``: a tuple, convertible from a list.
- ``BtkMetrics``: composite of `MetricsRecord` with read/write components
  ``summary``, ``output`` (``BtkDict``) and ``data`` (``BtkList``), derived
  component ``counter`` (``BtkInt``), parameter ``slice``, and converters
  from ``dict`` and `MetricsRecordModel`.
- ``BtkMetricsNoComponents``: the same Python type without components.
- ``BtkMetricsModel`` and ``BtkMetricsDict``: read a ``BtkMetrics`` as a
  pydantic model or a plain dict.
"""


@contextlib.contextmanager
def installed_storage_classes(
    definitions: Mapping[str, Mapping[str, Any]] = CATALOGUE,
) -> Iterator[StorageClassFactory]:
    """Register storage classes for the duration of a ``with`` block.

    Parameters
    ----------
    definitions : `~collections.abc.Mapping`, optional
        Storage-class definitions by name; the catalogue by default.

    Yields
    ------
    factory : `~lsst.daf.butler.StorageClassFactory`
        The process-wide factory, with the definitions added.

    Notes
    -----
    On exit the factory holds exactly the storage classes it held on entry,
    so that nothing a test defines or redefines leaks into another test.
    """
    factory = StorageClassFactory()
    # The factory has no public way to take a definition back; restore its
    # table, under its own lock, to what it was.
    with factory._lock:
        saved = dict(factory._storageClasses)
    try:
        factory.addFromConfig(StorageClassConfig({"storageClasses": dict(definitions)}))
        yield factory
    finally:
        with factory._lock:
            factory._storageClasses.clear()
            factory._storageClasses.update(saved)

"""Datasets the conformance tests store, and a way to see whether any copy of one is still alive."""

from __future__ import annotations

__all__ = (
    "BARE_STORAGE_CLASS",
    "GAIN",
    "SAMPLE_FORMATTERS",
    "SAMPLE_STORAGE_CLASSES",
    "CalibratedRecord",
    "CalibratedRecordDelegate",
    "DeliberateError",
    "TracedRecord",
    "TracingDelegate",
    "TrackedRecord",
    "calibrate",
    "live_tracked",
    "sample_data",
    "sample_image",
    "sample_metrics",
    "sample_value",
    "traced_provenance",
)

import dataclasses
import gc
import weakref
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from lsst.daf.butler import DatasetProvenance, DatasetRef, StorageClassDelegate

from ..factories import FORMATTERS, ImageRecord, MetricsRecord, MetricsRecordModel

GAIN = 2
"""The factor `calibrate` scales ``data`` by."""


class DeliberateError(Exception):
    """Raised by a test inside a transaction to make it roll back."""


def sample_data(size: int = 5) -> list[int]:
    """Return the ``data`` of `sample_metrics`.

    Parameters
    ----------
    size : `int`, optional
        Its length.

    Returns
    -------
    data : `list` [`int`]
        Consecutive integers.
    """
    return list(range(10, 10 + size))


def sample_metrics(size: int = 5, *, token: str = "sample") -> MetricsRecord:
    """Return a `MetricsRecord` whose values survive any serialization.

    Parameters
    ----------
    size : `int`, optional
        Length of ``data``.
    token : `str`, optional
        Stored in ``summary``, to tell datasets apart.

    Returns
    -------
    record : `MetricsRecord`
        String keys and plain values only, so that a JSON file gives back an
        equal record.
    """
    return MetricsRecord(
        summary={"token": token, "mean": 1.5, "count": size},
        output={"written": True, "flags": ["ok"]},
        data=sample_data(size),
    )


def sample_image() -> ImageRecord:
    """Return a small image-like composite with every component set.

    Returns
    -------
    image : `ImageRecord`
        A 4x5 image, mask and variance and a metadata dictionary.
    """
    shape = (4, 5)
    return ImageRecord(
        image=np.arange(20, dtype=np.float32).reshape(shape),
        mask=(np.arange(20, dtype=np.int32).reshape(shape) % 3),
        variance=np.full(shape, 0.25, dtype=np.float32),
        metadata={"EXPTIME": 30.0, "FILTER": "r"},
    )


def sample_value(storage_class: str) -> Any:
    """Return a value of one catalogue storage class's Python type.

    Parameters
    ----------
    storage_class : `str`
        A storage class of the catalogue.

    Returns
    -------
    value : `object`
        A value equal to itself after any round trip.

    Raises
    ------
    KeyError
        Raised if the suite has no sample of that storage class.
    """
    record = sample_metrics()
    samples: dict[str, Any] = {
        "BtkMetrics": record,
        "BtkMetricsNoComponents": record,
        "BtkMetricsModel": MetricsRecordModel(summary=record.summary, output=record.output, data=record.data),
        "BtkMetricsDict": {"summary": record.summary, "output": record.output, "data": record.data},
        "BtkDict": {"exposure_time": 30.0, "nested": {"filters": ["g", "r"]}},
        "BtkList": [3, 1, 4, 1, 5, 9],
        "BtkTuple": (2, 7, 1, 8),
        "BtkInt": 42,
    }
    return samples[storage_class]


class TrackedRecord(MetricsRecord):
    """A `MetricsRecord` whose every instance, copies included, can be found.

    Copies made by ``copy.deepcopy`` or pickle do not call ``__init__``, so
    instances are recorded when they are allocated.
    """

    # Keyed by id(): dataclass equality makes instances unhashable.
    _instances: ClassVar[weakref.WeakValueDictionary[int, TrackedRecord]] = weakref.WeakValueDictionary()

    def __new__(cls, *args: Any, **kwargs: Any) -> TrackedRecord:
        instance = super().__new__(cls)
        cls._instances[id(instance)] = instance
        return instance


def live_tracked(token: str) -> int:
    """Count the live `TrackedRecord` instances carrying a token.

    Parameters
    ----------
    token : `str`
        The ``summary["token"]`` of the records to count.

    Returns
    -------
    count : `int`
        Instances still reachable after a full garbage collection.
    """

    def count() -> int:
        return sum(
            1
            for record in list(TrackedRecord._instances.values())
            if isinstance(record.summary, dict) and record.summary.get("token") == token
        )

    # A full collection costs a tenth of a second with daf_butler loaded;
    # only pay for it when reference counting has not already freed them.
    live = count()
    if live:
        gc.collect()
        live = count()
    return live


@dataclasses.dataclass
class CalibratedRecord:
    """The calibrated form of a `MetricsRecord`, reachable only by conversion.

    Its components differ from the record's after conversion (see
    `calibrate`), so that reading a component through its storage class
    shows whether the datastore converted the dataset before taking the
    component.

    Parameters
    ----------
    summary : `dict`, optional
        The record's summary, marked ``calibrated``.
    data : `list`, optional
        The record's data scaled by `GAIN` (sliced by the parameter
        ``slice``; derived component ``total``, their sum).
    flags : `list`, optional
        The record's ``output["flags"]``: a list the composite's ``slice``
        leaves alone, but which a read of the component alone slices.
    """

    summary: dict[str, Any] | None = None
    data: list[Any] | None = None
    flags: list[Any] | None = None


def calibrate(record: MetricsRecord) -> CalibratedRecord:
    """Convert a `MetricsRecord` to its calibrated form.

    Parameters
    ----------
    record : `MetricsRecord`
        The record; never modified.

    Returns
    -------
    calibrated : `CalibratedRecord`
        ``data`` scaled by `GAIN`, ``summary`` copied with
        ``calibrated: True``, ``flags`` copied from ``output``.
    """
    summary = None if record.summary is None else {**record.summary, "calibrated": True}
    data = None if record.data is None else [GAIN * value for value in record.data]
    flags = None if record.output is None else list(record.output.get("flags", []))
    return CalibratedRecord(summary=summary, data=data, flags=flags)


class CalibratedRecordDelegate(StorageClassDelegate):
    """Delegate for `CalibratedRecord`: ``slice`` and the derived ``total``."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return a record whose ``data`` is sliced by ``slice``.

        Parameters
        ----------
        inMemoryDataset : `CalibratedRecord`
            The record; never modified.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``slice``.

        Returns
        -------
        sliced : `CalibratedRecord`
            A new record, or the input if there is nothing to apply.
        """
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if not used or inMemoryDataset.data is None:
            return inMemoryDataset
        return dataclasses.replace(inMemoryDataset, data=inMemoryDataset.data[used["slice"]])

    def getComponent(self, composite: Any, componentName: str) -> Any:
        """Return a component; ``total`` is the sum of ``data``.

        Parameters
        ----------
        composite : `CalibratedRecord`
            The record.
        componentName : `str`
            ``summary``, ``data`` or ``total``.

        Returns
        -------
        component : `object`
            The component.
        """
        if componentName == "total":
            return None if composite.data is None else sum(composite.data)
        return super().getComponent(composite, componentName)


@dataclasses.dataclass
class TracedRecord:
    """A dataset whose delegate records where it was put (`TracingDelegate`).

    Parameters
    ----------
    data : `list`, optional
        The values.
    provenance : `dict`, optional
        Set by the delegate when the dataset is put; `None` before.
    """

    data: list[Any] | None = None
    provenance: dict[str, Any] | None = None


class TracingDelegate(StorageClassDelegate):
    """Delegate for `TracedRecord`: attaches provenance when the dataset is put."""

    def can_accept(self, inMemoryDataset: Any) -> bool:
        """Accept a `TracedRecord` as it is, so that a datastore need not convert it.

        Parameters
        ----------
        inMemoryDataset : `object`
            What is put.

        Returns
        -------
        accepts : `bool`
            Whether it is a `TracedRecord`.
        """
        return isinstance(inMemoryDataset, TracedRecord)

    def add_provenance(
        self, inMemoryDataset: Any, ref: DatasetRef, provenance: DatasetProvenance | None = None
    ) -> Any:
        """Return a copy of the record carrying where it was put.

        Parameters
        ----------
        inMemoryDataset : `TracedRecord`
            The record; never modified.
        ref : `~lsst.daf.butler.DatasetRef`
            The dataset it is put as.
        provenance : `~lsst.daf.butler.DatasetProvenance`, optional
            What produced it.

        Returns
        -------
        traced : `TracedRecord`
            With `traced_provenance` of the reference and provenance.
        """
        return dataclasses.replace(inMemoryDataset, provenance=traced_provenance(ref, provenance))


def traced_provenance(ref: DatasetRef, provenance: DatasetProvenance | None = None) -> dict[str, Any]:
    """Return what `TracingDelegate` attaches to a dataset put as ``ref``.

    Parameters
    ----------
    ref : `~lsst.daf.butler.DatasetRef`
        The dataset.
    provenance : `~lsst.daf.butler.DatasetProvenance`, optional
        What produced it.

    Returns
    -------
    trace : `dict` [`str`, `object`]
        Plain JSON values: the dataset's ID, run and dataset type, and the
        quantum and inputs of the provenance, if given.
    """
    trace: dict[str, Any] = {"dataset_id": str(ref.id), "run": ref.run, "dataset_type": ref.datasetType.name}
    if provenance is not None:
        trace["quantum_id"] = None if provenance.quantum_id is None else str(provenance.quantum_id)
        trace["inputs"] = sorted(str(input.id) for input in provenance.inputs)
    return trace


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


SAMPLE_STORAGE_CLASSES: Mapping[str, Mapping[str, Any]] = {
    "BtkConformanceCalibrated": {
        "pytype": _type_name(CalibratedRecord),
        "delegate": _type_name(CalibratedRecordDelegate),
        "parameters": ["slice"],
        "components": {"summary": "BtkDict", "data": "BtkList", "flags": "BtkList"},
        "derivedComponents": {"total": "BtkInt"},
        "converters": {_type_name(MetricsRecord): f"{__name__}.calibrate"},
    },
    "BtkConformanceTraced": {
        "pytype": _type_name(TracedRecord),
        "delegate": _type_name(TracingDelegate),
    },
}
"""Storage classes the suite installs next to the catalogue, for what the catalogue cannot show:

- ``BtkConformanceCalibrated``: `CalibratedRecord`, a composite (components
  ``summary``, ``data`` and ``flags``, derived ``total``, parameter
  ``slice`` of ``data`` only) that a `MetricsRecord` converts to with
  different component values; only ever read, never written.
- ``BtkConformanceTraced``: `TracedRecord`, whose delegate attaches
  provenance on ``put`` (`TracingDelegate`).
"""

BARE_STORAGE_CLASS = "BtkConformanceBare"
"""A storage class of `dict` without any delegate, which a test defines in
Python (configuration would give it the default delegate)."""

SAMPLE_FORMATTERS: Mapping[str, str] = {
    "BtkConformanceTraced": FORMATTERS["BtkDict"],
    BARE_STORAGE_CLASS: FORMATTERS["BtkDict"],
}
"""Formatters a file-backed datastore needs, besides the catalogue's, for the
suite's own storage classes that are written (the catalogue's JSON formatter)."""

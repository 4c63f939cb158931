"""Datasets the conformance tests store, and a way to see whether any copy of one is still alive."""

from __future__ import annotations

__all__ = (
    "DeliberateError",
    "TrackedRecord",
    "live_tracked",
    "sample_data",
    "sample_image",
    "sample_metrics",
    "sample_value",
)

import gc
import weakref
from typing import Any, ClassVar

import numpy as np

from ..factories import ImageRecord, MetricsRecord, MetricsRecordModel


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

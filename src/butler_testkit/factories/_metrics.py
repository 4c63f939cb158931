"""Example Python types of the storage-class catalogue, and their delegates."""

from __future__ import annotations

__all__ = (
    "MetricsRecord",
    "MetricsRecordDelegate",
    "MetricsRecordModel",
    "SequenceDelegate",
    "metrics_model_from_dict",
    "metrics_model_to_dict",
    "metrics_record_from_dict",
    "metrics_record_from_model",
    "metrics_record_to_dict",
    "metrics_record_to_model",
)

import dataclasses
from collections.abc import Mapping
from typing import Any

import pydantic
from lsst.daf.butler import StorageClassDelegate


@dataclasses.dataclass
class MetricsRecord:
    """A composite with three read/write components, as pipelines produce.

    Parameters
    ----------
    summary : `dict`, optional
        Summary statistics (component ``summary``).
    output : `dict`, optional
        Named outputs (component ``output``).
    data : `list`, optional
        The measurements (component ``data``; sliceable with ``slice``; its
        length is the derived component ``counter``).
    """

    summary: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    data: list[Any] | None = None


class MetricsRecordModel(pydantic.BaseModel):
    """The pydantic form of `MetricsRecord`, reachable by conversion."""

    # A converter that silently dropped unknown keys would hide typos.
    model_config = pydantic.ConfigDict(extra="forbid")

    summary: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    data: list[Any] | None = None


def metrics_record_from_dict(mapping: Mapping[str, Any]) -> MetricsRecord:
    """Build a `MetricsRecord` from a mapping with its field names.

    Parameters
    ----------
    mapping : `~collections.abc.Mapping` [`str`, `object`]
        Any of ``summary``, ``output`` and ``data``.

    Returns
    -------
    record : `MetricsRecord`
        The record.

    Raises
    ------
    TypeError
        Raised if the mapping has keys that are not fields.
    """
    unknown = set(mapping) - {"summary", "output", "data"}
    if unknown:
        raise TypeError(f"Not MetricsRecord fields: {sorted(unknown)}")
    return MetricsRecord(**mapping)


def metrics_record_to_dict(record: MetricsRecord) -> dict[str, Any]:
    """Return the fields of a `MetricsRecord` as a new dictionary.

    Parameters
    ----------
    record : `MetricsRecord`
        The record.

    Returns
    -------
    mapping : `dict` [`str`, `object`]
        ``summary``, ``output`` and ``data``.
    """
    return {"summary": record.summary, "output": record.output, "data": record.data}


def metrics_record_from_model(model: MetricsRecordModel) -> MetricsRecord:
    """Convert the pydantic form to a `MetricsRecord`.

    Parameters
    ----------
    model : `MetricsRecordModel`
        The model.

    Returns
    -------
    record : `MetricsRecord`
        The record.
    """
    return MetricsRecord(summary=model.summary, output=model.output, data=model.data)


def metrics_record_to_model(record: MetricsRecord) -> MetricsRecordModel:
    """Convert a `MetricsRecord` to its pydantic form.

    Parameters
    ----------
    record : `MetricsRecord`
        The record.

    Returns
    -------
    model : `MetricsRecordModel`
        The model.
    """
    return MetricsRecordModel(summary=record.summary, output=record.output, data=record.data)


def metrics_model_from_dict(mapping: Mapping[str, Any]) -> MetricsRecordModel:
    """Build a `MetricsRecordModel` from a mapping with its field names.

    Parameters
    ----------
    mapping : `~collections.abc.Mapping` [`str`, `object`]
        Any of ``summary``, ``output`` and ``data``.

    Returns
    -------
    model : `MetricsRecordModel`
        The model.

    Raises
    ------
    TypeError
        Raised if the mapping has keys that are not fields, or values of the
        wrong type.
    """
    try:
        return MetricsRecordModel.model_validate(dict(mapping))
    except pydantic.ValidationError as err:
        # StorageClass.coerce_type reports a TypeError for an unconvertible
        # object; a converter should fail the same way.
        raise TypeError(f"Cannot build a MetricsRecordModel from {dict(mapping)!r}: {err}") from err


def metrics_model_to_dict(model: MetricsRecordModel) -> dict[str, Any]:
    """Return the fields of a `MetricsRecordModel` as a new dictionary.

    Parameters
    ----------
    model : `MetricsRecordModel`
        The model.

    Returns
    -------
    mapping : `dict` [`str`, `object`]
        ``summary``, ``output`` and ``data``.
    """
    return model.model_dump()


class SequenceDelegate(StorageClassDelegate):
    """Delegate for lists: applies the ``slice`` parameter."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return the sequence sliced by the ``slice`` parameter.

        Parameters
        ----------
        inMemoryDataset : `list`
            The sequence.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``slice``, a `slice`.

        Returns
        -------
        sliced : `list`
            A new list, or the input if there is nothing to apply.
        """
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if not used:
            return inMemoryDataset
        return inMemoryDataset[used["slice"]]


class MetricsRecordDelegate(StorageClassDelegate):
    """Delegate for `MetricsRecord`: ``slice`` and the ``counter`` component."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return a record whose ``data`` is sliced by ``slice``.

        Parameters
        ----------
        inMemoryDataset : `MetricsRecord`
            The record; never modified.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``slice``, a `slice`.

        Returns
        -------
        sliced : `MetricsRecord`
            A new record sharing ``summary`` and ``output`` with the input, or
            the input itself if there is nothing to apply.
        """
        used = self.storageClass.filterParameters(parameters, subset={"slice"})
        if not used or inMemoryDataset.data is None:
            return inMemoryDataset
        return dataclasses.replace(inMemoryDataset, data=inMemoryDataset.data[used["slice"]])

    def getComponent(self, composite: Any, componentName: str) -> Any:
        """Return a component; ``counter`` is the length of ``data``.

        Parameters
        ----------
        composite : `MetricsRecord`
            The record.
        componentName : `str`
            ``summary``, ``output``, ``data`` or ``counter``.

        Returns
        -------
        component : `object`
            The component (``counter`` is `None` when there is no data).
        """
        if componentName == "counter":
            return None if composite.data is None else len(composite.data)
        return super().getComponent(composite, componentName)

    @classmethod
    def selectResponsibleComponent(cls, derivedComponent: str, fromComponents: set[str | None]) -> str:
        """Name the stored component that can compute a derived one.

        Parameters
        ----------
        derivedComponent : `str`
            The derived component wanted (``counter``).
        fromComponents : `set` [`str` or `None`]
            Components available.

        Returns
        -------
        component : `str`
            ``data`` for ``counter``.

        Raises
        ------
        ValueError
            Raised if no available component can compute it.
        """
        if derivedComponent == "counter" and "data" in fromComponents:
            return "data"
        raise ValueError(
            f"Cannot compute component {derivedComponent!r} from {sorted(map(str, fromComponents))}"
        )

"""Turning a stored object into what a ``get`` asked for."""

from __future__ import annotations

__all__ = ("DerivedComponentUnavailableError", "read_stored")

from collections.abc import Mapping
from typing import Any

from lsst.daf.butler import DatasetRef, StorageClass, UnknownComponentError


class DerivedComponentUnavailableError(Exception):
    """The delegate of a storage class cannot compute one of its derived components.

    Only the formatter may know how (a file datastore always asks it); the
    delegate's own error is the ``__cause__``.
    """


def read_stored(
    stored: Any,
    write_storage_class: StorageClass,
    read_ref: DatasetRef,
    parameters: Mapping[str, Any] | None,
) -> Any:
    """Apply components, parameters and conversion to a stored object.

    This is what a file datastore does after its formatter has read the
    artifact, done on the object held in memory.

    Parameters
    ----------
    stored : `object`
        The object as stored by ``put``.
    write_storage_class : `~lsst.daf.butler.StorageClass`
        Storage class the object was stored with.
    read_ref : `~lsst.daf.butler.DatasetRef`
        The reference asked for, with any storage-class override already
        applied; it may name a component.
    parameters : `~collections.abc.Mapping` or `None`
        Read parameters.

    Returns
    -------
    dataset : `object`
        The requested dataset, component or slice, of the read storage
        class's Python type (a component may be `None`).

    Raises
    ------
    KeyError
        Raised if a parameter is not known to the storage class that must
        apply it.
    DerivedComponentUnavailableError
        Raised if the write storage class's delegate fails to compute a
        derived component (the formatter may know how).
    lsst.daf.butler.UnknownComponentError
        Raised if neither the write storage class nor the reference's parent
        storage class defines the requested component.
    TypeError
        Raised if the result cannot be converted to the read storage class.

    Notes
    -----
    Parameters and components transform ``stored`` (a delegate may do so in
    place) and the result may share state with it: under ``copy`` isolation
    the caller passes a fresh copy, never the stored object.
    """
    read_storage_class = read_ref.datasetType.storageClass
    component = read_ref.datasetType.component()
    dataset = stored

    if component is not None and component in write_storage_class.derivedComponents:
        # A derived component (e.g. a length) is computed from the composite
        # after the composite's own parameters have been applied to it.
        write_storage_class.validateParameters(parameters)
        try:
            delegate = write_storage_class.delegate()
            if parameters:
                dataset = delegate.handleParameters(dataset, parameters)
            dataset = delegate.getComponent(dataset, component)
        except Exception as err:
            raise DerivedComponentUnavailableError(
                f"The delegate of storage class {write_storage_class.name} cannot compute derived "
                f"component {component!r} ({type(err).__name__}: {err})."
            ) from err
        if dataset is None:
            return None
        return read_storage_class.coerce_type(dataset)

    read_storage_class.validateParameters(parameters)
    if component is not None:
        composite_storage_class = write_storage_class
        if component not in write_storage_class.allComponents():
            # Stored under a storage class without this component (e.g. one
            # with no components at all): read it as the ref's parent.
            parent = read_ref.datasetType.parentStorageClass
            if parent is None or component not in parent.allComponents():
                raise UnknownComponentError(
                    f"Component {component!r} of {read_ref} is defined neither by the storage class it "
                    f"was stored with ({write_storage_class.name}) nor by its parent storage class "
                    f"({parent.name if parent is not None else 'none'})."
                )
            dataset = parent.coerce_type(dataset)
            composite_storage_class = parent
        dataset = composite_storage_class.delegate().getComponent(dataset, component)

    if parameters:
        dataset = read_storage_class.delegate().handleParameters(dataset, parameters)

    if dataset is None and component is not None:
        return None
    return read_storage_class.coerce_type(dataset)

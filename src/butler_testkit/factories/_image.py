"""An image-like composite backed by numpy arrays, and its delegates."""

from __future__ import annotations

__all__ = ("BBox", "ImageArrayDelegate", "ImageRecord", "ImageRecordDelegate")

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
from lsst.daf.butler import StorageClassDelegate

# The planes of an ImageRecord, in the order they are written.
_PLANES = ("image", "mask", "variance")


@dataclasses.dataclass(frozen=True)
class BBox:
    """An integer pixel box: the ``bbox`` parameter and derived component.

    Parameters
    ----------
    x0, y0 : `int`
        Lower-left pixel (column, row), inclusive.
    width, height : `int`
        Size in pixels; both positive.

    Raises
    ------
    TypeError
        Raised if a value is not an `int`.
    ValueError
        Raised if the origin is negative or the size is not positive.
    """

    x0: int
    y0: int
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("x0", "y0", "width", "height"):
            value = getattr(self, name)
            # bool is an int, and numpy integers are not: accept exactly what
            # a pixel index can be.
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"BBox.{name} must be an int; got {value!r}.")
            object.__setattr__(self, name, int(value))
        if self.x0 < 0 or self.y0 < 0:
            raise ValueError(f"BBox origin must not be negative; got ({self.x0}, {self.y0}).")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"BBox size must be positive; got {self.width}x{self.height}.")

    @property
    def slices(self) -> tuple[slice, slice]:
        """The (row, column) slices that cut this box out of an array."""
        return (slice(self.y0, self.y0 + self.height), slice(self.x0, self.x0 + self.width))

    @property
    def shape(self) -> tuple[int, int]:
        """The (rows, columns) shape of the box."""
        return (self.height, self.width)


def crop(array: np.ndarray, bbox: Any) -> np.ndarray:
    """Return a copy of the part of a 2-d array inside a box.

    Parameters
    ----------
    array : `numpy.ndarray`
        A 2-d array.
    bbox : `BBox`
        The box, which must lie inside the array.

    Returns
    -------
    cropped : `numpy.ndarray`
        A new array of shape ``bbox.shape``.

    Raises
    ------
    TypeError
        Raised if ``bbox`` is not a `BBox`.
    ValueError
        Raised if the box does not lie inside the array.
    """
    if not isinstance(bbox, BBox):
        raise TypeError(f"The 'bbox' parameter must be a butler_testkit.factories.BBox; got {bbox!r}.")
    rows, columns = array.shape
    if bbox.x0 + bbox.width > columns or bbox.y0 + bbox.height > rows:
        raise ValueError(f"The 'bbox' parameter {bbox} does not fit inside a {columns}x{rows} image.")
    return array[bbox.slices].copy()


@dataclasses.dataclass(eq=False)
class ImageRecord:
    """An image with a mask, a variance and metadata, like a calibrated exposure.

    Parameters
    ----------
    image : `numpy.ndarray`, optional
        Pixel values (component ``image``), 2-d.
    mask : `numpy.ndarray`, optional
        Mask bits per pixel (component ``mask``), 2-d, same shape.
    variance : `numpy.ndarray`, optional
        Variance per pixel (component ``variance``), 2-d, same shape.
    metadata : `dict`, optional
        Header-like key/value pairs (component ``metadata``).

    Raises
    ------
    TypeError
        Raised if a plane is not a `numpy.ndarray` or the metadata not a
        `dict`.
    ValueError
        Raised if a plane is not 2-d or the planes differ in shape.

    Notes
    -----
    Any plane may be `None`, as after reading a single component. The
    derived components are ``shape`` (rows, columns) and ``bbox`` (a `BBox`
    at the origin); the ``bbox`` parameter cuts out a box.
    """

    image: np.ndarray | None = None
    mask: np.ndarray | None = None
    variance: np.ndarray | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = {}
        for name in _PLANES:
            plane = getattr(self, name)
            if plane is None:
                continue
            if not isinstance(plane, np.ndarray):
                raise TypeError(f"ImageRecord.{name} must be a numpy array; got {type(plane).__name__}.")
            if plane.ndim != 2:
                raise ValueError(f"ImageRecord.{name} must be 2-d; got shape {plane.shape}.")
            shapes[name] = plane.shape
        if len(set(shapes.values())) > 1:
            raise ValueError(f"ImageRecord planes differ in shape: {shapes}.")
        # Annotated as a dict, but callers (and assembly from parts) may pass None.
        metadata: object = self.metadata
        if metadata is None:
            self.metadata = {}
        elif not isinstance(metadata, dict):
            raise TypeError(f"ImageRecord.metadata must be a dict; got {type(metadata).__name__}.")

    @property
    def shape(self) -> tuple[int, int] | None:
        """(rows, columns) of the planes, or `None` if there is none."""
        for name in _PLANES:
            plane = getattr(self, name)
            if plane is not None:
                rows, columns = plane.shape
                return (int(rows), int(columns))
        return None

    @property
    def bbox(self) -> BBox | None:
        """The box covering the whole image, or `None` if there is no plane."""
        shape = self.shape
        if shape is None:
            return None
        return BBox(0, 0, shape[1], shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImageRecord):
            return NotImplemented
        return self.metadata == other.metadata and all(
            _planes_equal(getattr(self, name), getattr(other, name)) for name in _PLANES
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like the arrays it holds


def _planes_equal(first: np.ndarray | None, second: np.ndarray | None) -> bool:
    if first is None or second is None:
        return first is second
    # dtype matters: a float64 image read back from a float32 one is a bug.
    return first.dtype == second.dtype and np.array_equal(first, second, equal_nan=True)


class ImageArrayDelegate(StorageClassDelegate):
    """Delegate for one image plane: copies fast and applies ``bbox``."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return the part of the array inside the ``bbox`` parameter.

        Parameters
        ----------
        inMemoryDataset : `numpy.ndarray`
            A 2-d array; never modified.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``bbox``, a `BBox`.

        Returns
        -------
        cropped : `numpy.ndarray`
            A new array, or the input if there is nothing to apply.

        Raises
        ------
        TypeError
            Raised if ``bbox`` is not a `BBox`.
        ValueError
            Raised if the box does not lie inside the array.
        """
        used = self.storageClass.filterParameters(parameters, subset={"bbox"})
        if not used:
            return inMemoryDataset
        return crop(inMemoryDataset, used["bbox"])

    def copy(self, inMemoryDataset: Any) -> Any:
        """Return a copy of the array (faster than a deep copy).

        Parameters
        ----------
        inMemoryDataset : `numpy.ndarray`
            The array.

        Returns
        -------
        copied : `numpy.ndarray`
            A new array with the same contents.
        """
        return np.array(inMemoryDataset, copy=True)


class ImageRecordDelegate(StorageClassDelegate):
    """Delegate for `ImageRecord`: ``bbox``, ``shape`` and assembly from parts."""

    def handleParameters(self, inMemoryDataset: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        """Return a record cut to the ``bbox`` parameter.

        Parameters
        ----------
        inMemoryDataset : `ImageRecord`
            The record; never modified.
        parameters : `~collections.abc.Mapping`, optional
            May hold ``bbox``, a `BBox`.

        Returns
        -------
        cropped : `ImageRecord`
            A new record with every plane cropped and the same metadata, or
            the input itself if there is nothing to apply.

        Raises
        ------
        TypeError
            Raised if ``bbox`` is not a `BBox`.
        ValueError
            Raised if the box does not lie inside the image.
        """
        used = self.storageClass.filterParameters(parameters, subset={"bbox"})
        if not used:
            return inMemoryDataset
        planes = {
            name: None
            if getattr(inMemoryDataset, name) is None
            else crop(getattr(inMemoryDataset, name), used["bbox"])
            for name in _PLANES
        }
        return ImageRecord(**planes, metadata=inMemoryDataset.metadata)

    def getComponent(self, composite: Any, componentName: str) -> Any:
        """Return a plane, the metadata, or a derived ``shape`` or ``bbox``.

        Parameters
        ----------
        composite : `ImageRecord`
            The record.
        componentName : `str`
            ``image``, ``mask``, ``variance``, ``metadata``, ``shape`` or
            ``bbox``.

        Returns
        -------
        component : `object`
            The component; ``shape`` and ``bbox`` are `None` when there is no
            plane.
        """
        if componentName in ("shape", "bbox"):
            return getattr(composite, componentName)
        return super().getComponent(composite, componentName)

    def assemble(self, components: dict[str, Any], pytype: type | None = None) -> Any:
        """Build a record from whichever components are given.

        Parameters
        ----------
        components : `dict` [`str`, `object`]
            Some of ``image``, ``mask``, ``variance`` and ``metadata``.
        pytype : `type`, optional
            Ignored: the result is always an `ImageRecord`.

        Returns
        -------
        record : `ImageRecord`
            The record; missing planes are `None`, missing metadata empty.

        Raises
        ------
        ValueError
            Raised if a component is not one of this storage class's.
        """
        unknown = set(components) - set(self.storageClass.components)
        if unknown:
            raise ValueError(
                f"Cannot assemble an ImageRecord from unknown components {sorted(unknown)} "
                f"(storage class {self.storageClass.name} has {sorted(self.storageClass.components)})."
            )
        return ImageRecord(**components)

    def copy(self, inMemoryDataset: Any) -> Any:
        """Return a copy sharing no array or metadata with the input.

        Parameters
        ----------
        inMemoryDataset : `ImageRecord`
            The record.

        Returns
        -------
        copied : `ImageRecord`
            A new record with copied planes and deep-copied metadata.
        """
        planes = {
            name: None if getattr(inMemoryDataset, name) is None else np.array(getattr(inMemoryDataset, name))
            for name in _PLANES
        }
        return ImageRecord(**planes, metadata=copy.deepcopy(inMemoryDataset.metadata))

    @classmethod
    def selectResponsibleComponent(cls, derivedComponent: str, fromComponents: set[str | None]) -> str:
        """Name the stored plane from which ``shape`` or ``bbox`` is computed.

        Parameters
        ----------
        derivedComponent : `str`
            ``shape`` or ``bbox``.
        fromComponents : `set` [`str` or `None`]
            Components available.

        Returns
        -------
        component : `str`
            The first of ``image``, ``mask`` and ``variance`` available.

        Raises
        ------
        ValueError
            Raised if the component is not derived or no plane is available.
        """
        if derivedComponent in ("shape", "bbox"):
            for name in _PLANES:
                if name in fromComponents:
                    return name
        raise ValueError(
            f"Cannot compute component {derivedComponent!r} from {sorted(map(str, fromComponents))}"
        )

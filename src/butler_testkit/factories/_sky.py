"""Sky geometry for dimension records: pointings, detector footprints, tracts and patches."""

from __future__ import annotations

__all__ = (
    "detector_centre",
    "detector_region",
    "patch_of",
    "patch_region",
    "tract_centre",
    "tract_of",
    "tract_region",
    "unit_vector",
    "visit_region",
)

import functools
import math

import numpy as np
from lsst.sphgeom import ConvexPolygon, LonLat, UnitVector3d

from ._instruments import DetectorPreset, SkyMapPreset

# The golden angle spreads Fibonacci-lattice points evenly in longitude.
_GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def unit_vector(ra: float, dec: float) -> UnitVector3d:
    """Return the direction of a sky position.

    Parameters
    ----------
    ra, dec : `float`
        Right ascension and declination, in degrees.

    Returns
    -------
    vector : `lsst.sphgeom.UnitVector3d`
        The direction.
    """
    return UnitVector3d(LonLat.fromDegrees(ra, dec))


def _tangent_basis(ra: float, dec: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the centre, east and north unit vectors at a sky position."""
    a, d = math.radians(ra), math.radians(dec)
    centre = np.array([math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d)])
    east = np.array([-math.sin(a), math.cos(a), 0.0])
    north = np.cross(centre, east)
    return centre, east, north


def _tangent_polygon(
    ra: float, dec: float, corners: list[tuple[float, float]], rotation: float = 0.0
) -> ConvexPolygon:
    """Build a polygon from corners given in a tangent plane.

    Parameters
    ----------
    ra, dec : `float`
        Tangent point, in degrees.
    corners : `list` [`tuple` [`float`, `float`]]
        Corners as (x, y) offsets in degrees (x east, y north), in order.
    rotation : `float`, optional
        Rotation of the offsets, in degrees east of north.

    Returns
    -------
    polygon : `lsst.sphgeom.ConvexPolygon`
        The region.
    """
    centre, east, north = _tangent_basis(ra, dec)
    cos_r, sin_r = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    vertices = []
    for x, y in corners:
        u = math.radians(x * cos_r - y * sin_r)
        v = math.radians(x * sin_r + y * cos_r)
        point = centre + u * east + v * north
        vertices.append(UnitVector3d(*point))
    return ConvexPolygon.convexHull(vertices)


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def visit_region(ra: float, dec: float, radius: float, rotation: float) -> ConvexPolygon:
    """Return the footprint of a pointing: an octagon around the field of view.

    Parameters
    ----------
    ra, dec : `float`
        Boresight, in degrees.
    radius : `float`
        Radius of the field of view, in degrees.
    rotation : `float`
        Sky angle of the camera, in degrees.

    Returns
    -------
    region : `lsst.sphgeom.ConvexPolygon`
        The footprint.
    """
    # An octagon drawn around the circle contains it.
    outer = radius / math.cos(math.pi / 8)
    corners = [
        (outer * math.cos(math.pi / 8 + k * math.pi / 4), outer * math.sin(math.pi / 8 + k * math.pi / 4))
        for k in range(8)
    ]
    return _tangent_polygon(ra, dec, corners, rotation)


def detector_region(ra: float, dec: float, rotation: float, detector: DetectorPreset) -> ConvexPolygon:
    """Return the footprint of one detector for a pointing.

    Parameters
    ----------
    ra, dec : `float`
        Boresight, in degrees.
    rotation : `float`
        Sky angle of the camera, in degrees.
    detector : `DetectorPreset`
        The detector.

    Returns
    -------
    region : `lsst.sphgeom.ConvexPolygon`
        The footprint.
    """
    half = detector.size / 2
    corners = _rectangle(detector.x - half, detector.y - half, detector.x + half, detector.y + half)
    return _tangent_polygon(ra, dec, corners, rotation)


def detector_centre(ra: float, dec: float, rotation: float, detector: DetectorPreset) -> tuple[float, float]:
    """Return where the centre of a detector points.

    Parameters
    ----------
    ra, dec : `float`
        Boresight, in degrees.
    rotation : `float`
        Sky angle of the camera, in degrees.
    detector : `DetectorPreset`
        The detector.

    Returns
    -------
    ra, dec : `float`
        The sky position, in degrees.
    """
    centre, east, north = _tangent_basis(ra, dec)
    cos_r, sin_r = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    u = math.radians(detector.x * cos_r - detector.y * sin_r)
    v = math.radians(detector.x * sin_r + detector.y * cos_r)
    point = centre + u * east + v * north
    point /= np.linalg.norm(point)
    return math.degrees(math.atan2(point[1], point[0])) % 360.0, math.degrees(math.asin(point[2]))


@functools.cache
def _tract_centres(tract_max: int) -> np.ndarray:
    index = np.arange(tract_max)
    z = 1 - (2 * index + 1) / tract_max
    ra = np.mod(index * _GOLDEN_ANGLE, 2 * math.pi)
    cos_dec = np.sqrt(1 - z * z)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), z], axis=1)


def tract_centre(skymap: SkyMapPreset, tract: int) -> tuple[float, float]:
    """Return the centre of a tract.

    Parameters
    ----------
    skymap : `SkyMapPreset`
        The sky map.
    tract : `int`
        The tract id.

    Returns
    -------
    ra, dec : `float`
        The centre, in degrees.
    """
    x, y, z = _tract_centres(skymap.tract_max)[tract]
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.asin(max(-1.0, min(1.0, z))))


def tract_of(skymap: SkyMapPreset, ra: float, dec: float) -> int:
    """Return the tract whose centre is nearest a position (the tract containing it).

    Parameters
    ----------
    skymap : `SkyMapPreset`
        The sky map.
    ra, dec : `float`
        The position, in degrees.

    Returns
    -------
    tract : `int`
        The tract id.
    """
    centre, _, _ = _tangent_basis(ra, dec)
    return int(np.argmax(_tract_centres(skymap.tract_max) @ centre))


def _tract_plane(skymap: SkyMapPreset, tract: int, ra: float, dec: float) -> tuple[float, float]:
    """Return a position's (x, y) offset in degrees in a tract's tangent plane."""
    centre, east, north = _tangent_basis(*tract_centre(skymap, tract))
    point, _, _ = _tangent_basis(ra, dec)
    depth = float(point @ centre)
    return math.degrees(float(point @ east) / depth), math.degrees(float(point @ north) / depth)


def patch_of(skymap: SkyMapPreset, tract: int, ra: float, dec: float) -> int:
    """Return the patch of a tract that contains a position.

    Parameters
    ----------
    skymap : `SkyMapPreset`
        The sky map.
    tract : `int`
        The tract id.
    ra, dec : `float`
        The position, in degrees; near the tract.

    Returns
    -------
    patch : `int`
        The patch id, ``cell_y * patch_nx_max + cell_x``.
    """
    x, y = _tract_plane(skymap, tract, ra, dec)
    width = skymap.tract_width
    cell_x = int((x + width / 2) // (width / skymap.patch_nx_max))
    cell_y = int((y + width / 2) // (width / skymap.patch_ny_max))
    cell_x = min(max(cell_x, 0), skymap.patch_nx_max - 1)
    cell_y = min(max(cell_y, 0), skymap.patch_ny_max - 1)
    return cell_y * skymap.patch_nx_max + cell_x


def tract_region(skymap: SkyMapPreset, tract: int) -> ConvexPolygon:
    """Return the footprint of a tract.

    Parameters
    ----------
    skymap : `SkyMapPreset`
        The sky map.
    tract : `int`
        The tract id.

    Returns
    -------
    region : `lsst.sphgeom.ConvexPolygon`
        A square in the tract's tangent plane.
    """
    half = skymap.tract_width / 2
    return _tangent_polygon(*tract_centre(skymap, tract), _rectangle(-half, -half, half, half))


def patch_region(skymap: SkyMapPreset, tract: int, patch: int) -> ConvexPolygon:
    """Return the footprint of a patch.

    Parameters
    ----------
    skymap : `SkyMapPreset`
        The sky map.
    tract : `int`
        The tract id.
    patch : `int`
        The patch id.

    Returns
    -------
    region : `lsst.sphgeom.ConvexPolygon`
        Its cell of the tract's tangent-plane square.
    """
    cell_y, cell_x = divmod(patch, skymap.patch_nx_max)
    width = skymap.tract_width
    step_x, step_y = width / skymap.patch_nx_max, width / skymap.patch_ny_max
    x0, y0 = -width / 2 + cell_x * step_x, -width / 2 + cell_y * step_y
    return _tangent_polygon(*tract_centre(skymap, tract), _rectangle(x0, y0, x0 + step_x, y0 + step_y))

"""Unit-sphere geometry for the KD-trees: points as xyz, metres as chords, and distances.

Searching uses the sphere (mean Earth radius): on a sphere the chord between two unit vectors grows
with the great-circle distance, so a Euclidean KD-tree over xyz finds great-circle neighbours.
Shown distances are geodesic on the WGS-84 ellipsoid, which differs from the sphere by at most
about 0.5 %; ``SPHERE_ERROR`` bounds that when a search must not miss a neighbour. They come from
geographiclib's ``Geodesic.WGS84``, the solver behind geopy's ``geodesic``, called directly because
geopy builds a new solver per call (twice the cost for the same number).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from geographiclib.geodesic import Geodesic

EARTH_RADIUS_M = 6_371_008.8
SPHERE_ERROR = 0.006  # |geodesic / spherical - 1| stays below this everywhere
_WGS84 = Geodesic.WGS84
_DISTANCE = Geodesic.DISTANCE


def to_xyz(lat: npt.ArrayLike, lon: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Unit vectors, one row per point (float64, shape (n, 3))."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    cos_la = np.cos(la)
    return np.column_stack((cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)))


def chord_for_metres(metres: float) -> float:
    """The chord on the unit sphere that spans ``metres`` of great circle."""
    angle = min(metres / EARTH_RADIUS_M, math.pi)
    return 2.0 * math.sin(angle / 2.0)


def metres_for_chord(chord: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Great-circle metres for unit-sphere chords (inverse of ``chord_for_metres``)."""
    clipped = np.clip(np.asarray(chord, dtype=np.float64), 0.0, 2.0)
    return 2.0 * np.arcsin(clipped / 2.0) * EARTH_RADIUS_M


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic metres on the WGS-84 ellipsoid; for the few distances that are shown."""
    return float(_WGS84.Inverse(lat1, lon1, lat2, lon2, _DISTANCE)["s12"])

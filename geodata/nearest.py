"""The nearest facilities of a kind: nearest first, within a radius, with distance, walking time and
whether they are open now.

The KD-tree ranks by great-circle distance on a sphere; shown distances are geodesic on the WGS-84
ellipsoid, which can differ by up to ``SPHERE_ERROR``. So the search keeps every candidate whose
spherical distance could still put it among the nearest by geodesic distance, computes geodesic
distances for those few only, and ranks by (geodesic distance, source line). The result is the
same as ranking every row by geodesic distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from bot.core.geo import CANONICAL, GeoPoint
from geodata import models
from geodata.hours import OpenStatus, status_at
from geodata.index import DEFAULT_CACHE, IndexCache, Searchable
from geodata.kinds import PoiKind
from geodata.spatial import SPHERE_ERROR, chord_for_metres, metres_between, metres_for_chord, to_xyz

_WIDEN = (1 + SPHERE_ERROR) / (1 - SPHERE_ERROR)


@dataclass(frozen=True, slots=True)
class NearbyEntry:
    poi_id: int
    name: str
    address: str
    point: GeoPoint  # WGS-84
    distance_m: float  # geodesic, straight line
    walking_minutes: int
    status: OpenStatus | None  # None: the row has no opening hours
    opening_hours: str | None
    capacity: int | None
    within_radius: bool


@dataclass(frozen=True, slots=True)
class NearestResult:
    kind: PoiKind
    origin: GeoPoint  # WGS-84
    radius_m: float
    entries: tuple[NearbyEntry, ...]
    has_dataset: bool  # False: the kind has no active dataset at all
    in_season: bool = True  # False: the dataset has rows but none of them is in season now

    @property
    def beyond_radius(self) -> bool:
        """Nothing within the radius; the entry shown is the nearest beyond it."""
        return bool(self.entries) and not self.entries[0].within_radius


def walking_minutes(distance_m: float, *, speed_m_per_min: float, detour: float) -> int:
    return max(1, math.ceil(distance_m * detour / speed_m_per_min))


def _candidates(found: Searchable, origin_xyz: np.ndarray, limit: int, radius_m: float) -> np.ndarray:
    """Ids of every point that could rank among the ``limit`` nearest by geodesic distance (or, when
    none is within the radius, could be the nearest beyond it)."""
    n = len(found)
    if found.tree is None or n == 0:
        return np.zeros(0, dtype=np.int64)
    radius_bound = radius_m / (1 - SPHERE_ERROR)
    k = min(n, limit + 8)
    while True:
        chords, positions = found.tree.query(origin_xyz, k=k)
        metres = metres_for_chord(np.atleast_1d(chords))
        positions = np.atleast_1d(positions)
        exhausted = k >= n
        if len(metres) >= limit and metres[limit - 1] <= radius_bound:
            bound = min(metres[limit - 1] * _WIDEN + 1.0, radius_bound)
        else:
            bound = radius_bound  # fewer than ``limit`` inside: take all of them
        # Always keep the nearest and its near-ties: it is shown when nothing is inside the radius.
        bound = max(bound, metres[0] * _WIDEN + 1.0)
        if exhausted or metres[-1] > bound:
            return found.ids[positions[metres <= bound]]
        k = min(n, k * 2)


def nearest(
    session: Session,
    kind: PoiKind,
    origin: GeoPoint,
    *,
    limit: int,
    radius_m: float,
    now: datetime,
    cache: IndexCache | None = None,
    timezone: str = "Asia/Shanghai",
    holiday_country: str = "CN",
    walking_speed: float = 75.0,
    walking_detour: float = 1.3,
) -> NearestResult:
    """The ``limit`` nearest facilities of ``kind`` within ``radius_m`` of ``origin`` (any datum).

    ``now`` (aware) decides open status and seasons, in ``timezone``.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kind = PoiKind(kind)
    here = origin.to(CANONICAL)
    index = (cache or DEFAULT_CACHE).get(session, kind)
    if index is None:
        return NearestResult(kind, here, radius_m, (), has_dataset=False)
    local_day = now.astimezone(ZoneInfo(timezone)).date()
    found = index.searchable(local_day)
    if len(index.all) and not len(found):
        return NearestResult(kind, here, radius_m, (), has_dataset=True, in_season=False)
    ids = _candidates(found, to_xyz([here.lat], [here.lon])[0], limit, radius_m)
    rows = models.shown_pois(session, [int(i) for i in ids])
    measured = [(metres_between(here.lat, here.lon, p.lat, p.lon), p.source_line, p) for p in rows]
    ranked = sorted(measured, key=lambda item: (item[0], item[1]))
    inside = [item for item in ranked if item[0] <= radius_m]
    chosen = inside[:limit] if inside else ranked[:1]
    entries = tuple(
        NearbyEntry(
            poi_id=poi.id,
            name=poi.name,
            address=poi.address,
            point=GeoPoint(poi.lat, poi.lon, CANONICAL),
            distance_m=distance,
            walking_minutes=walking_minutes(distance, speed_m_per_min=walking_speed, detour=walking_detour),
            status=status_at(
                poi.opening_hours, now, lat=poi.lat, lon=poi.lon, timezone=timezone, country=holiday_country
            ),
            opening_hours=poi.opening_hours,
            capacity=poi.capacity,
            within_radius=distance <= radius_m,
        )
        for distance, _line, poi in chosen
    )
    return NearestResult(kind, here, radius_m, entries, has_dataset=True)


__all__ = ["NearbyEntry", "NearestResult", "OpenStatus", "chord_for_metres", "nearest", "walking_minutes"]

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
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from bot.core.geo import CANONICAL, GeoPoint
from geodata import models
from geodata.hours import HoursNow, OpenStatus, evaluate
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
    opens: datetime | None = None  # closed (or unknown) now: when it next opens, local time
    closes: datetime | None = None  # open now: when it closes within a day, local time
    season: tuple[str, str] | None = None  # (season_start, season_end) as in the dataset


@dataclass(frozen=True, slots=True)
class NearestResult:
    kind: PoiKind
    origin: GeoPoint  # WGS-84
    radius_m: float
    entries: tuple[NearbyEntry, ...]
    has_dataset: bool  # False: the kind has no active dataset at all
    in_season: bool = True  # False: the dataset has rows but none of them is in season now
    season_opens: date | None = None  # out of season: the day the next season starts, if any
    too_far: bool = False  # the nearest facility is beyond max_distance_m: nothing is shown
    max_distance_m: float | None = None
    outside_area: bool = False  # the origin is outside the configured service area
    now: datetime | None = None  # the moment of the search, in the bureau's time zone

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
    max_distance_m: float | None = None,
) -> NearestResult:
    """The ``limit`` nearest facilities of ``kind`` within ``radius_m`` of ``origin`` (any datum).

    ``now`` (aware) decides open status and seasons, in ``timezone``. When nothing is within the
    radius, the nearest beyond it is shown, unless it is beyond ``max_distance_m`` (``too_far``).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kind = PoiKind(kind)
    here = origin.to(CANONICAL)
    index = (cache or DEFAULT_CACHE).get(session, kind)
    local_now = now.astimezone(ZoneInfo(timezone))
    blank = NearestResult(kind, here, radius_m, (), True, max_distance_m=max_distance_m, now=local_now)
    if index is None:
        return replace(blank, has_dataset=False)
    local_day = local_now.date()
    found = index.searchable(local_day)
    if len(index.all) and not len(found):
        opens = index.seasons.next_start(local_day) if index.seasons is not None else None
        return replace(blank, in_season=False, season_opens=opens)
    ids = _candidates(found, to_xyz([here.lat], [here.lon])[0], limit, radius_m)
    rows = models.shown_pois(session, [int(i) for i in ids])
    measured = [(metres_between(here.lat, here.lon, p.lat, p.lon), p.source_line, p) for p in rows]
    ranked = sorted(measured, key=lambda item: (item[0], item[1]))
    inside = [item for item in ranked if item[0] <= radius_m]
    chosen = inside[:limit] if inside else ranked[:1]
    if not inside and chosen and max_distance_m is not None and chosen[0][0] > max_distance_m:
        return replace(blank, too_far=True)
    entries = tuple(
        _entry(
            poi,
            distance,
            radius_m,
            evaluate(
                poi.opening_hours, now, lat=poi.lat, lon=poi.lon, timezone=timezone, country=holiday_country
            ),
            walking_minutes(distance, speed_m_per_min=walking_speed, detour=walking_detour),
        )
        for distance, _line, poi in chosen
    )
    return replace(blank, entries=entries)


def _entry(
    poi: models.ShownPoi, distance: float, radius_m: float, hours: HoursNow | None, minutes: int
) -> NearbyEntry:
    season = (poi.season_start, poi.season_end) if poi.season_start and poi.season_end else None
    return NearbyEntry(
        poi_id=poi.id,
        name=poi.name,
        address=poi.address,
        point=GeoPoint(poi.lat, poi.lon, CANONICAL),
        distance_m=distance,
        walking_minutes=minutes,
        status=None if hours is None else hours.status,
        opening_hours=poi.opening_hours,
        capacity=poi.capacity,
        within_radius=distance <= radius_m,
        opens=None if hours is None else hours.opens,
        closes=None if hours is None else hours.closes,
        season=season,
    )


__all__ = ["NearbyEntry", "NearestResult", "OpenStatus", "chord_for_metres", "nearest", "walking_minutes"]

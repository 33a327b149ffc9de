"""Coordinates that know their map datum: WGS-84, GCJ-02 and BD-09, and the scalar conversions.

A shared value type of every layer: the WeChat edge parses locations into a :class:`GeoPoint`, the
features store and search them. Stored coordinates are WGS-84 (``CANONICAL``). The conversions are
prcoords' (CC0) with its iterative inverses; geodata.datums explains where the offset applies and
adds the same arithmetic vectorised for bulk loads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import prcoords


class Datum(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


CANONICAL = Datum.WGS84

# prcoords' box for "in China" (lat_min, lat_max, lon_min, lon_max), and the boxes cut out of it.
CHINA_BOX = (0.8293, 55.8271, 72.004, 137.8347)
NOT_OFFSET = (
    (21.85, 25.35, 119.9, 122.1),  # Taiwan, main island (Pingtan at 25.5 N stays in)
    (23.15, 23.85, 119.3, 119.8),  # Penghu
)


class CoordinateError(ValueError):
    """A latitude or longitude outside its range, or not a finite number."""


def check_range(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise CoordinateError(f"coordinates must be finite numbers, got {lat!r}, {lon!r}")
    if not -90.0 <= lat <= 90.0:
        raise CoordinateError(f"latitude {lat} is outside -90..90")
    if not -180.0 <= lon <= 180.0:
        raise CoordinateError(f"longitude {lon} is outside -180..180")


def in_offset_region(lat: float, lon: float) -> bool:
    """Whether GCJ-02 (and so BD-09) differs from WGS-84 at this point: mainland China."""
    lat_min, lat_max, lon_min, lon_max = CHINA_BOX
    if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
        return False
    return not any(s <= lat <= n and w <= lon <= e for s, n, w, e in NOT_OFFSET)


def convert(lat: float, lon: float, source: Datum, target: Datum) -> tuple[float, float]:
    """Convert one coordinate pair between datums, through GCJ-02.

    The region is decided once, on the given point, so a point and its conversion are always
    treated alike (``convert_arrays`` decides the same way).
    """
    source, target = Datum(source), Datum(target)
    if source == target or not in_offset_region(lat, lon):
        return lat, lon
    point = prcoords.Coords(lat, lon)
    if source == Datum.WGS84:
        point = prcoords.wgs_gcj(point, False)
    elif source == Datum.BD09:
        point = prcoords.bd_gcj_bored(point, False)
    if target == Datum.WGS84:
        point = prcoords.gcj_wgs_bored(point, False)
    elif target == Datum.BD09:
        point = prcoords.gcj_bd(point)
    return point.lat, point.lon


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A coordinate pair that knows its datum. Construction validates the ranges."""

    lat: float
    lon: float
    datum: Datum

    def __post_init__(self) -> None:
        try:
            lat, lon = float(self.lat), float(self.lon)
            datum = Datum(self.datum)
        except (TypeError, ValueError) as exc:
            raise CoordinateError(f"not a coordinate: {self.lat!r}, {self.lon!r}, {self.datum!r}") from exc
        check_range(lat, lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "datum", datum)

    def to(self, datum: Datum | str) -> GeoPoint:
        target = Datum(datum)
        if target == self.datum:
            return self
        lat, lon = convert(self.lat, self.lon, self.datum, target)
        return GeoPoint(lat, lon, target)

    def canonical(self) -> GeoPoint:
        return self.to(CANONICAL)

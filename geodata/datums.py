"""Geodetic datums (WGS-84, GCJ-02, BD-09) and points tagged with theirs.

Temporary minimal version: the full module lands with the geodata package.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import prcoords


class Datum(enum.StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float
    datum: Datum

    def to(self, datum: Datum) -> GeoPoint:
        if datum == self.datum:
            return self
        coords = prcoords.Coords(self.lat, self.lon)
        converted = _CONVERT[(self.datum, datum)](coords)
        return GeoPoint(converted.lat, converted.lon, datum)


_CONVERT = {
    (Datum.WGS84, Datum.GCJ02): prcoords.wgs_gcj,
    (Datum.WGS84, Datum.BD09): prcoords.wgs_bd,
    (Datum.GCJ02, Datum.WGS84): prcoords.gcj_wgs_bored,
    (Datum.GCJ02, Datum.BD09): prcoords.gcj_bd,
    (Datum.BD09, Datum.WGS84): prcoords.bd_wgs_bored,
    (Datum.BD09, Datum.GCJ02): prcoords.bd_gcj,
}

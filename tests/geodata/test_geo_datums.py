"""Datum conversions: published reference values, round trips, the region without an offset."""

from __future__ import annotations

import math
import warnings

import numpy as np
import prcoords
import pytest
from geopy.distance import geodesic

from bot.core.geo import CANONICAL, CoordinateError, Datum, GeoPoint, convert, in_offset_region
from geodata.datums import convert_arrays

pytestmark = pytest.mark.unit


def metres(a: GeoPoint, b: GeoPoint) -> float:
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


# Amap Web Service API, "坐标转换" (/v3/assistant/coordinate/convert), the documented example:
# locations=116.481499,39.990475|116.481499,39.990375 & coordsys=gps ->
# "116.487585177952,39.991754014757;116.487585177952,39.991653917976" (lon,lat; WGS-84 -> GCJ-02).
AMAP_EXAMPLES = [
    ((39.990475, 116.481499), (39.991754014757, 116.487585177952)),
    ((39.990375, 116.481499), (39.991653917976, 116.487585177952)),
]

# Baidu Maps Web Service API, "坐标转换" (geoconv v1), the documented example:
# coords=114.21892734521,29.575429778924 & from=1 (WGS-84) & to=5 (BD-09)
# -> x 114.23074871003, y 29.579084787485.
BAIDU_EXAMPLES = [((29.575429778924, 114.21892734521), (29.579084787485, 114.23074871003))]

# googollee/eviltransform (MIT), test vectors shared by its Go and Python suites (lat, lon WGS-84 -> GCJ-02):
EVILTRANSFORM_EXAMPLES = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), AMAP_EXAMPLES + EVILTRANSFORM_EXAMPLES)
def test_published_wgs_to_gcj(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    expected = GeoPoint(*gcj, Datum.GCJ02)
    got = GeoPoint(*wgs, Datum.WGS84).to(Datum.GCJ02)
    assert got.datum is Datum.GCJ02
    assert metres(got, expected) < 1.0
    back = expected.to(Datum.WGS84)
    assert metres(back, GeoPoint(*wgs, Datum.WGS84)) < 1.0


@pytest.mark.parametrize(("wgs", "bd"), BAIDU_EXAMPLES)
def test_published_wgs_to_bd(wgs: tuple[float, float], bd: tuple[float, float]) -> None:
    got = GeoPoint(*wgs, Datum.WGS84).to(Datum.BD09)
    assert metres(got, GeoPoint(*bd, Datum.BD09)) < 1.0
    assert metres(GeoPoint(*bd, Datum.BD09).to(Datum.WGS84), GeoPoint(*wgs, Datum.WGS84)) < 1.0


def test_offset_in_mainland_is_hundreds_of_metres() -> None:
    # If the conversion were silently skipped, the distance would be 0.
    suzhou = GeoPoint(31.2990, 120.5853, Datum.WGS84)
    shifted = suzhou.to(Datum.GCJ02)
    offset = metres(suzhou, GeoPoint(shifted.lat, shifted.lon, Datum.WGS84))
    assert 300 < offset < 700


def random_mainland(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Eastern and central mainland, away from the region's edges.
    return rng.uniform(22.8, 45.0, n), rng.uniform(102.0, 122.0, n)


PAIRS = [(Datum.WGS84, Datum.GCJ02), (Datum.WGS84, Datum.BD09), (Datum.GCJ02, Datum.BD09)]


@pytest.mark.parametrize("pair", PAIRS)
def test_round_trips_agree_within_a_metre(pair: tuple[Datum, Datum]) -> None:
    first, second = pair
    lats, lons = random_mainland(300, seed=7)
    worst = 0.0
    for lat, lon in zip(lats, lons, strict=True):
        start = GeoPoint(lat, lon, first)
        for a, b in ((first, second), (second, first)):
            origin = GeoPoint(lat, lon, a)
            back = origin.to(b).to(a)
            worst = max(worst, metres(origin, back))
        assert start.to(second).to(first).datum is first
    assert worst < 1.0


def test_taipei_and_abroad_have_no_offset() -> None:
    places = {
        "Taipei 101": (25.0339, 121.5645),
        "Kaohsiung": (22.6273, 120.3014),
        "Penghu": (23.5655, 119.5793),
        "Tokyo": (35.6812, 139.7671),
        "London": (51.5074, -0.1278),
        "Sydney": (-33.8688, 151.2093),
    }
    for name, (lat, lon) in places.items():
        assert not in_offset_region(lat, lon), name
        for source in Datum:
            for target in Datum:
                got = GeoPoint(lat, lon, source).to(target)
                assert got == GeoPoint(lat, lon, target), (name, source, target)


def test_mainland_edges_next_to_the_cut_keep_their_offset() -> None:
    # Xiamen, Pingtan island (Fujian, just north of the Taiwan cut), Shenzhen next to Hong Kong.
    for lat, lon in [(24.4798, 118.0894), (25.5033, 119.7909), (22.5431, 114.0579)]:
        assert in_offset_region(lat, lon)
        point = GeoPoint(lat, lon, Datum.WGS84)
        shifted = point.to(Datum.GCJ02)
        assert metres(point, GeoPoint(shifted.lat, shifted.lon, Datum.WGS84)) > 100


def test_no_warnings_outside_prcoords_box() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GeoPoint(48.8566, 2.3522, Datum.GCJ02).to(Datum.WGS84)
        GeoPoint(48.8566, 2.3522, Datum.WGS84).to(Datum.BD09)


def test_vectorised_equals_prcoords_point_by_point() -> None:
    lats, lons = random_mainland(2000, seed=11)
    # Mix in points without an offset: Taipei and abroad.
    lats = np.concatenate([lats, [25.05, 51.5, -33.9]])
    lons = np.concatenate([lons, [121.52, -0.12, 151.2]])
    for source in Datum:
        for target in Datum:
            got_lat, got_lon = convert_arrays(lats, lons, source, target)
            for i in range(0, len(lats), 7):
                want = convert(float(lats[i]), float(lons[i]), source, target)
                assert math.isclose(got_lat[i], want[0], abs_tol=1e-9), (source, target, i)
                assert math.isclose(got_lon[i], want[1], abs_tol=1e-9), (source, target, i)


def test_scalar_forward_is_prcoords() -> None:
    lat, lon = 31.3, 120.6
    assert convert(lat, lon, Datum.WGS84, Datum.GCJ02) == tuple(prcoords.wgs_gcj((lat, lon), False))
    assert convert(lat, lon, Datum.GCJ02, Datum.BD09) == tuple(prcoords.gcj_bd((lat, lon)))


def test_geopoint_validates_and_normalises() -> None:
    point = GeoPoint("31.5", 120, "gcj02")  # type: ignore[arg-type]
    assert point == GeoPoint(31.5, 120.0, Datum.GCJ02)
    assert isinstance(point.lat, float)
    assert point.canonical().datum is CANONICAL is Datum.WGS84
    for lat, lon in [(91, 0), (-90.5, 0), (0, 180.1), (0, -181), (float("nan"), 0), (0, float("inf"))]:
        with pytest.raises(CoordinateError):
            GeoPoint(lat, lon, Datum.WGS84)
    with pytest.raises(CoordinateError):
        GeoPoint(30, 120, "mars")  # type: ignore[arg-type]
    with pytest.raises(CoordinateError):
        GeoPoint("north", 120, Datum.WGS84)  # type: ignore[arg-type]
    assert GeoPoint(90, 180, Datum.WGS84).lat == 90

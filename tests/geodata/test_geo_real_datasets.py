"""Real, dirty facility data from ../shared/datasets (skipped cleanly where absent).

The files are not in our input formats, so small converters here turn them into our CSV (the bike
stations' JSON, the Taipei toilets' SOAP XML) or GeoJSON. One source record becomes one CSV line,
so a record's index i is CSV line i + 2 (after the header) and GeoJSON ``features[i]``: the tests
compute the expected lines from the source files independently of the loader.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree
from flask import Flask
from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic
from sqlalchemy import select

from bot.core.database import session_scope
from bot.core.geo import Datum, GeoPoint
from geodata import models
from geodata.datasets import LoadStatus, load_dataset
from geodata.index import IndexCache
from geodata.kinds import PoiKind
from geodata.loaders import ErrorCode, Rules, ServiceArea
from geodata.models import Poi
from geodata.nearest import nearest
from tests.conftest import shared_path

pytestmark = [pytest.mark.integration, pytest.mark.datasets]

BIKES = ("datasets", "cn_public_bike_stations")
AREAS = {  # per test: the city around each file, WGS-84 [south, west, north, east]
    "suzhou": ServiceArea(30.9, 120.2, 31.6, 121.0),
    "kunshan": ServiceArea(31.1, 120.7, 31.6, 121.2),
    "wujiang": ServiceArea(30.7, 120.3, 31.3, 121.1),
    "zhenjiang": ServiceArea(31.9, 119.2, 32.4, 120.1),
    "taipei": ServiceArea(24.9, 121.4, 25.25, 121.7),
}
NOON = datetime(2025, 7, 15, 4, 0, tzinfo=UTC)


def bike_records(city: str) -> list[dict[str, Any]]:
    path = shared_path(*BIKES, f"{city}.json")
    return json.loads(path.read_text(encoding="utf-8-sig"))


def bike_csv(records: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "lat", "lon", "address", "capacity", "external_id"])
        for r in records:
            writer.writerow(
                [r["name"], r["lat"], r["lng"], r.get("address", ""), r.get("capacity", ""), r["id"]]
            )
    return path


def toilet_records() -> list[dict[str, str]]:
    """The <Table> rows of the SOAP response, fields by local name."""
    root = ElementTree.parse(shared_path("datasets", "taipei_public_toilets", "taipeiToilet.xml")).getroot()
    rows = []
    for table in root.iter():
        if table.tag.rsplit("}", 1)[-1] == "Table" and table.find("Lat") is not None:
            rows.append({child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in table})
    return rows


def toilet_csv(records: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "lat", "lon", "address", "notes"])
        for r in records:
            writer.writerow(
                [r["Title"].removeprefix("公廁坐落："), r["Lat"], r["Lng"], r["Address"], r["Content"]]
            )
    return path


def toilet_geojson(records: list[dict[str, str]], path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(r["Lng"]), float(r["Lat"])]},
            "properties": {"name": r["Title"].removeprefix("公廁坐落："), "address": r["Address"]},
        }
        for r in records
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8"
    )
    return path


def load(app: Flask, kind: PoiKind, path: Path, datum: Datum, area: ServiceArea) -> Any:
    with session_scope(app) as session:
        return load_dataset(
            session, kind, path, datum, dry_run=False, rules=Rules(area=area, max_errors=10_000)
        )


def lines(result: Any, code: ErrorCode) -> list[int]:
    return [p.where for p in result.errors if p.code is code]


def assert_nearest_is_brute_force(app: Flask, kind: PoiKind, area: ServiceArea, seed: int) -> None:
    rng = random.Random(seed)
    cache = IndexCache()
    with session_scope(app) as session:
        dataset_id = models.active_dataset_id(session, kind)
        rows = session.execute(
            select(Poi.id, Poi.lat, Poi.lon, Poi.source_line).where(Poi.dataset_id == dataset_id)
        ).all()
        for _ in range(30):
            here = GeoPoint(
                rng.uniform(area.south, area.north), rng.uniform(area.west, area.east), Datum.WGS84
            )
            limit, radius = rng.choice([1, 5, 10]), rng.choice([500.0, 2000.0])
            measured = sorted(
                (Geodesic.WGS84.Inverse(here.lat, here.lon, lat, lon)["s12"], line, pid)
                for pid, lat, lon, line in rows
            )
            inside = [m for m in measured if m[0] <= radius]
            want = inside[:limit] if inside else measured[:1]
            got = nearest(session, kind, here, limit=limit, radius_m=radius, now=NOON, cache=cache)
            assert [e.poi_id for e in got.entries] == [pid for _, _, pid in want]
            assert [round(e.distance_m, 2) for e in got.entries] == [round(d, 2) for d, _, _ in want]


def test_suzhou_bike_stations_gcj02_load(app: Flask, tmp_path: Path) -> None:
    records = bike_records("suzhou")
    result = load(app, PoiKind.BIKE, bike_csv(records, tmp_path / "suzhou.csv"), Datum.GCJ02, AREAS["suzhou"])
    assert result.status is LoadStatus.LOADED, [str(p) for p in result.errors[:5]]
    assert result.row_count == len(records) == 845
    with session_scope(app) as session:
        stored = {p.external_id: p for p in session.scalars(select(Poi))}
    for record in records[::37]:
        expected = GeoPoint(record["lat"], record["lng"], Datum.GCJ02).to(Datum.WGS84)
        poi = stored[str(record["id"])]
        assert poi.name == record["name"]
        assert geodesic((poi.lat, poi.lon), (expected.lat, expected.lon)).meters < 0.05
        assert geodesic((poi.lat, poi.lon), (record["lat"], record["lng"])).meters > 300  # really converted
    assert_nearest_is_brute_force(app, PoiKind.BIKE, AREAS["suzhou"], seed=1)


def test_kunshan_zero_coordinates_and_far_outlier(app: Flask, tmp_path: Path) -> None:
    records = bike_records("kunshan")
    result = load(
        app, PoiKind.BIKE, bike_csv(records, tmp_path / "kunshan.csv"), Datum.GCJ02, AREAS["kunshan"]
    )
    assert result.status is LoadStatus.INVALID
    zero = [i + 2 for i, r in enumerate(records) if r["lat"] == 0 or r["lng"] == 0]
    outlier = [i + 2 for i, r in enumerate(records) if r["lng"] > 125]
    assert len(zero) == 145
    assert len(outlier) == 1
    assert lines(result, ErrorCode.ZERO) == zero
    assert lines(result, ErrorCode.OUTSIDE_AREA) == outlier
    assert "131.036161" in next(str(p) for p in result.errors if p.code is ErrorCode.OUTSIDE_AREA)
    assert result.error_count == 146
    with session_scope(app) as session:
        assert models.versions(session) == []


def test_wujiang_zero_coordinates(app: Flask, tmp_path: Path) -> None:
    records = bike_records("wujiang")
    result = load(
        app, PoiKind.BIKE, bike_csv(records, tmp_path / "wujiang.csv"), Datum.GCJ02, AREAS["wujiang"]
    )
    zero = [i + 2 for i, r in enumerate(records) if r["lat"] == 0 or r["lng"] == 0]
    assert len(zero) == 55
    assert lines(result, ErrorCode.ZERO) == zero
    assert result.error_count == 55


def test_byte_identical_zhenjiang_and_yangzhong(app: Flask, tmp_path: Path) -> None:
    raw = [shared_path(*BIKES, f"{city}.json").read_bytes() for city in ("zhenjiang", "yangzhong")]
    assert raw[0] == raw[1]
    records = {city: bike_records(city) for city in ("zhenjiang", "yangzhong")}
    files = {city: bike_csv(records[city], tmp_path / f"{city}.csv") for city in records}
    results = {city: load(app, PoiKind.BIKE, files[city], Datum.GCJ02, AREAS["zhenjiang"]) for city in files}
    # Both are refused with the same line-numbered errors: a zero row and 沃尔玛 listed twice.
    zhen = records["zhenjiang"]
    zero = [i + 2 for i, r in enumerate(zhen) if r["lat"] == 0 or r["lng"] == 0]
    walmart = [i + 2 for i, r in enumerate(zhen) if r["name"] == "沃尔玛"]
    for result in results.values():
        assert result.status is LoadStatus.INVALID
        assert lines(result, ErrorCode.ZERO) == zero
        assert lines(result, ErrorCode.DUPLICATE) == walmart[1:]
        assert f"same name as line {walmart[0]}" in str(result.errors[-1])
    assert [str(p) for p in results["zhenjiang"].errors] == [str(p) for p in results["yangzhong"].errors]
    assert results["zhenjiang"].checksum == results["yangzhong"].checksum
    # Cleaned the same way, the first loads and the identical second is a no-op.
    seen: set[tuple[str, float, float]] = set()
    cleaned = []
    for r in zhen:
        key = (r["name"], r["lat"], r["lng"])
        if r["lat"] and r["lng"] and key not in seen:
            seen.add(key)
            cleaned.append(r)
    first, second = (
        load(
            app,
            PoiKind.BIKE,
            bike_csv(cleaned, tmp_path / f"{city}-clean.csv"),
            Datum.GCJ02,
            AREAS["zhenjiang"],
        )
        for city in ("zhenjiang", "yangzhong")
    )
    assert (first.status, first.row_count) == (LoadStatus.LOADED, len(zhen) - 2)
    assert (second.status, second.version) == (LoadStatus.UNCHANGED, first.version)
    with session_scope(app) as session:
        assert len(models.versions(session)) == 1


def test_taipei_toilets_wgs84(app: Flask, tmp_path: Path) -> None:
    records = toilet_records()
    assert len(records) == 1777
    swapped = [i for i, r in enumerate(records) if float(r["Lat"]) > 90]
    assert len(swapped) == 1
    result = load(
        app, PoiKind.TOILET, toilet_csv(records, tmp_path / "taipei.csv"), Datum.WGS84, AREAS["taipei"]
    )
    assert result.status is LoadStatus.INVALID
    assert [(p.where, p.code) for p in result.errors] == [(swapped[0] + 2, ErrorCode.SWAPPED)]
    # Without a service area the swap is still obvious (a latitude of 121.5 does not exist).
    with session_scope(app) as session:
        bare = load_dataset(session, PoiKind.TOILET, tmp_path / "taipei.csv", Datum.WGS84, dry_run=True)
    assert [(p.where, p.code) for p in bare.errors] == [(swapped[0] + 2, ErrorCode.SWAPPED)]
    # The GeoJSON form names the feature.
    as_geojson = load(
        app,
        PoiKind.TOILET,
        toilet_geojson(records, tmp_path / "taipei.geojson"),
        Datum.WGS84,
        AREAS["taipei"],
    )
    assert [(p.where, p.code, p.place) for p in as_geojson.errors] == [
        (swapped[0], ErrorCode.SWAPPED, f"features[{swapped[0]}]")
    ]
    # Put right, the whole file loads: Taiwan has no offset, so the stored points are the source's.
    fixed = [dict(r, Lat=r["Lng"], Lng=r["Lat"]) if i in swapped else r for i, r in enumerate(records)]
    loaded = load(
        app, PoiKind.TOILET, toilet_csv(fixed, tmp_path / "taipei-fixed.csv"), Datum.WGS84, AREAS["taipei"]
    )
    assert loaded.status is LoadStatus.LOADED, [str(p) for p in loaded.errors[:5]]
    assert loaded.row_count == 1777
    with session_scope(app) as session:
        stored = session.execute(select(Poi.source_line, Poi.lat, Poi.lon)).all()
    for line, lat, lon in stored[::50]:
        source = fixed[line - 2]
        assert (lat, lon) == (float(source["Lat"]), float(source["Lng"]))
    assert_nearest_is_brute_force(app, PoiKind.TOILET, AREAS["taipei"], seed=2)


def test_converters_keep_one_record_per_line(tmp_path: Path) -> None:
    records = bike_records("kunshan")
    text = bike_csv(records, tmp_path / "k.csv").read_text(encoding="utf-8")
    assert len(list(csv.reader(io.StringIO(text)))) == len(records) + 1
    assert text.count("\n") == len(records) + 1

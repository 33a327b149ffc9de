"""GET /api/v1/places/nearest over geodata's nearest search, in the datum the client asked for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from bot.core import services
from bot.core.clock import utcnow
from bot.core.geo import Datum, GeoPoint
from geodata.answer import search
from geodata.demo import centre, load_demo
from geodata.kinds import PoiKind
from tests.support.api_fixtures import Resident, error_of
from tests.support.clock import T0, at
from tests.support.reports import unit

pytestmark = pytest.mark.integration


def test_nearest_toilets_in_either_datum(api_app: Flask, login: Callable[..., Resident]) -> None:
    with unit(api_app) as session:
        load_demo(session)
    resident = login()
    here = centre()  # GCJ-02
    gcj = resident.get(f"/places/nearest?kind=toilet&lat={here.lat}&lon={here.lon}&datum=gcj02&limit=3")
    assert gcj.status_code == 200, gcj.get_json()
    body = gcj.get_json()
    assert body["kind"] == "toilet"
    assert body["label"] == "公共厕所"
    assert body["has_dataset"] is True
    places = body["places"]
    assert len(places) == 3
    distances = [p["distance_m"] for p in places]
    assert distances == sorted(distances)
    with unit(api_app) as session:
        expected = search(session, PoiKind.TOILET, here, services.settings(api_app).geo, utcnow())
    assert [p["id"] for p in places] == [e.poi_id for e in expected.entries[:3]]
    first = places[0]
    assert first["datum"] == "gcj02"
    as_gcj = expected.entries[0].point.to(Datum.GCJ02)
    assert abs(first["lat"] - as_gcj.lat) < 1e-6
    assert abs(first["lon"] - as_gcj.lon) < 1e-6
    assert first["navigation_url"].startswith("https://uri.amap.com/navigation?")
    assert first["walking_minutes"] >= 1
    assert first["open_status"] in ("open", "closed", "unknown", None)

    # the same physical place given in WGS-84 gives the same answer, coordinates in WGS-84
    wgs = here.to(Datum.WGS84)
    other = resident.get(f"/places/nearest?kind=toilet&lat={wgs.lat}&lon={wgs.lon}&datum=wgs84&limit=3")
    again = other.get_json()["places"]
    assert [p["id"] for p in again] == [p["id"] for p in places]
    assert [abs(a["distance_m"] - b["distance_m"]) <= 1 for a, b in zip(again, places, strict=True)] == [
        True
    ] * 3
    assert again[0]["datum"] == "wgs84"
    back = GeoPoint(again[0]["lat"], again[0]["lon"], Datum.WGS84).to(Datum.GCJ02)
    assert abs(back.lat - first["lat"]) < 1e-5
    assert abs(first["lat"] - again[0]["lat"]) > 1e-4  # the datum offset is there, not ignored


def test_nearest_without_a_dataset_and_bad_queries(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login()
    empty = resident.get("/places/nearest?kind=bike&lat=31.3&lon=120.59")
    assert empty.status_code == 200
    assert empty.get_json()["has_dataset"] is False
    assert empty.get_json()["places"] == []
    for query in (
        "kind=spaceship&lat=31.3&lon=120.59",
        "kind=bike&lat=95&lon=120.59",
        "kind=bike&lat=31.3",
        "kind=bike&lat=31.3&lon=120.59&datum=bd09",
        "kind=bike&lat=31.3&lon=120.59&limit=21",
        "kind=bike&lat=31.3&lon=120.59&limit=0",
        "kind=bike&lat=31.3&lon=120.59&extra=1",
    ):
        response = resident.get(f"/places/nearest?{query}")
        assert (response.status_code, error_of(response)["code"]) == (422, "validation_failed"), query


def test_nearest_says_the_hours_in_words(api_app: Flask, login: Callable[..., Resident]) -> None:
    """Beside the dataset's OSM syntax the API gives the words the chat shows, for the app's clock."""
    with unit(api_app) as session:
        load_demo(session)
    here = centre()
    late = T0 + timedelta(hours=13)  # 23:00 on a Friday in Shanghai
    with at(late, tick=False):
        resident = login()
        body = resident.get(f"/places/nearest?kind=toilet&lat={here.lat}&lon={here.lon}&limit=10").get_json()
    by_hours = {p["opening_hours"]: p for p in body["places"]}
    always, daytime = by_hours["24/7"], by_hours["06:00-22:00"]
    assert (always["hours_text"], always["status_text"]) == ("全天开放", "全天开放")
    assert daytime["hours_text"] == "每天 06:00–22:00"
    assert daytime["open_status"] == "closed"
    assert daytime["status_text"].startswith("现已关闭，明天 06:00 开放")

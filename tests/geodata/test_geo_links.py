"""Navigation links: GCJ-02 coordinates for Amap and Tencent, walking, names encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from geopy.distance import geodesic

from bot.core.geo import Datum, GeoPoint
from geodata.links import NavProvider, amap_url, navigation_url, tencent_url

pytestmark = pytest.mark.unit

PLACE = GeoPoint(31.3115, 120.6290, Datum.WGS84)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_amap_walking_link_in_gcj02() -> None:
    url = amap_url(PLACE, "观前街公厕", app="citybot-test")
    assert url.startswith("https://uri.amap.com/navigation?")
    params = query(url)
    lon, lat, name = params["to"].split(",")
    expected = PLACE.to(Datum.GCJ02)
    assert geodesic((float(lat), float(lon)), (expected.lat, expected.lon)).meters < 0.2
    # And not the WGS-84 point: the offset here is hundreds of metres.
    assert geodesic((float(lat), float(lon)), (PLACE.lat, PLACE.lon)).meters > 300
    assert name == "观前街公厕"
    assert params["mode"] == "walk"
    assert params["coordinate"] == "gaode"
    assert params["src"] == "citybot-test"
    assert "from" not in params
    assert '"' not in url
    assert " " not in url


def test_tencent_walking_link_in_gcj02_lat_first() -> None:
    url = tencent_url(PLACE, "观前街公厕", app="citybot-test")
    assert url.startswith("https://apis.map.qq.com/uri/v1/routeplan?")
    params = query(url)
    lat, lon = (float(v) for v in params["tocoord"].split(","))
    expected = PLACE.to(Datum.GCJ02)
    assert geodesic((lat, lon), (expected.lat, expected.lon)).meters < 0.2
    assert params["type"] == "walk"
    assert params["to"] == "观前街公厕"
    assert params["referer"] == "citybot-test"


@pytest.mark.parametrize("provider", list(NavProvider))
def test_any_input_datum_gives_the_same_link(provider: NavProvider) -> None:
    links = {navigation_url(provider, PLACE.to(datum), "站", app="x") for datum in (Datum.WGS84, Datum.GCJ02)}
    assert len(links) == 1
    assert navigation_url(provider.value, PLACE, "站", app="x") in links


def test_origin_is_optional_and_converted() -> None:
    origin = GeoPoint(31.30, 120.62, Datum.WGS84)
    amap = query(amap_url(PLACE, "站", app="x", origin=origin))
    lon, lat = (float(v) for v in amap["from"].split(","))
    expected = origin.to(Datum.GCJ02)
    assert geodesic((lat, lon), (expected.lat, expected.lon)).meters < 0.2
    tencent = query(tencent_url(PLACE, "站", app="x", origin=origin))
    lat, lon = (float(v) for v in tencent["fromcoord"].split(","))
    assert geodesic((lat, lon), (expected.lat, expected.lon)).meters < 0.2


def test_names_cannot_break_the_link() -> None:
    name = '甲,乙，丙 "<丁>" & 戊' + "很长" * 20
    params = query(amap_url(PLACE, name, app="x"))
    parts = params["to"].split(",")
    assert len(parts) == 3  # lon, lat, name: the commas in the name are gone
    assert len(parts[2]) <= 20
    tricky = query(amap_url(PLACE, "a&mode=car#x", app="x"))
    assert tricky["to"].endswith(",a&mode=car#x")
    assert tricky["mode"] == "walk"


def test_taipei_has_no_offset_in_links() -> None:
    taipei = GeoPoint(25.0339, 121.5645, Datum.WGS84)
    lon, lat, _ = query(amap_url(taipei, "101", app="x"))["to"].split(",")
    assert (float(lat), float(lon)) == (25.0339, 121.5645)

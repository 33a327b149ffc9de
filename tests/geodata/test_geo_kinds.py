"""Kinds as data on the enum, and the [geo] settings that rename or re-key them."""

from __future__ import annotations

import pytest

from bot.app import load_settings
from bot.core.config import ConfigError
from geodata.kinds import KindCatalogue, PoiKind
from tests.conftest import SECRET_ENV

pytestmark = pytest.mark.unit


def test_kinds_carry_their_keyword_label_and_attributes() -> None:
    assert [(k.value, k.keyword) for k in PoiKind] == [
        ("bike", "1"),
        ("vendor", "2"),
        ("toilet", "3"),
        ("watermelon", "4"),
    ]
    assert PoiKind.TOILET.label == "公共厕所"
    assert PoiKind.WATERMELON.seasonal
    assert not PoiKind.TOILET.seasonal
    assert PoiKind.BIKE.shows_capacity
    assert not PoiKind.VENDOR.shows_capacity
    assert PoiKind("toilet") is PoiKind.TOILET
    assert PoiKind.TOILET == "toilet"


def test_parse_accepts_value_or_keyword() -> None:
    assert PoiKind.parse("3") is PoiKind.TOILET
    assert PoiKind.parse(" Watermelon ") is PoiKind.WATERMELON
    with pytest.raises(ValueError, match="unknown kind"):
        PoiKind.parse("9")


def test_default_catalogue() -> None:
    catalogue = KindCatalogue.build()
    assert catalogue.kind_for("3") is PoiKind.TOILET
    assert catalogue.kind_for("３") is PoiKind.TOILET  # full-width digit from a Chinese keyboard
    assert catalogue.kind_for(" 1 ") is PoiKind.BIKE
    assert catalogue.kind_for("5") is None
    assert catalogue.kind_for(None) is None
    assert catalogue.label(PoiKind.VENDOR) == "便民疏导点"
    assert catalogue.keyword(PoiKind.WATERMELON) == "4"


def test_settings_rename_and_rekey() -> None:
    settings = load_settings(
        None, {"geo": {"keywords": {"toilet": "厕所"}, "labels": {"toilet": "公厕"}}}, environ=SECRET_ENV
    )
    catalogue = settings.geo.kinds()
    assert catalogue.kind_for("厕所") is PoiKind.TOILET
    assert catalogue.kind_for("3") is None
    assert catalogue.label(PoiKind.TOILET) == "公厕"
    assert catalogue.label(PoiKind.BIKE) == "公共自行车站点"


@pytest.mark.parametrize(
    ("geo", "message"),
    [
        ({"keywords": {"toilet": "1"}}, "share a keyword"),
        ({"keywords": {"lamp": "5"}}, "unknown kinds lamp"),
        ({"labels": {"bike": " "}}, "must not be empty"),
        ({"service_area": [32, 120, 31, 121]}, "south < north"),
        ({"timezone": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"holiday_country": "China"}, "two-letter"),
        ({"navigation": "baidu"}, "geo.navigation"),
        ({"radius": 100}, "unknown setting"),
    ],
)
def test_bad_geo_settings_name_the_key(geo: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, {"geo": geo}, environ=SECRET_ENV)


def test_geo_defaults_and_environment() -> None:
    geo = load_settings(
        None, environ={**SECRET_ENV, "CITYBOT_GEO_RADIUS_M": "1500", "CITYBOT_GEO_NAVIGATION": "tencent"}
    ).geo
    assert (geo.results, geo.radius_m, geo.origin_ttl) == (5, 1500.0, 1800)
    assert geo.navigation == "tencent"
    assert geo.service_area is None
    assert geo.timezone == "Asia/Shanghai"
    area = load_settings(
        None, {"geo": {"service_area": [31.0, 120.3, 31.6, 121.1]}}, environ=SECRET_ENV
    ).geo.service_area
    assert area == (31.0, 120.3, 31.6, 121.1)

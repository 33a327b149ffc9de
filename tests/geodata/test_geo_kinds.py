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
        ({"words": {"bike": ["厕所"]}}, "厕所"),  # a word of two kinds
        ({"words": {"toilet": ["1"]}}, "'1'"),  # a word that is another kind's keyword
        ({"words": {"lamp": ["路灯"]}}, "unknown kinds lamp"),
        ({"words": {"toilet": [" "]}}, "must not be empty"),
        ({"max_distance_m": 1000}, "at least radius_m"),
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
    assert (geo.max_distance_m, geo.walking_max_m, geo.area_name) == (20_000.0, 3000.0, "")
    area = load_settings(
        None, {"geo": {"service_area": [31.0, 120.3, 31.6, 121.1]}}, environ=SECRET_ENV
    ).geo.service_area
    assert area == (31.0, 120.3, 31.6, 121.1)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("厕所", PoiKind.TOILET),
        ("公厕", PoiKind.TOILET),
        ("洗手间", PoiKind.TOILET),
        ("卫生间", PoiKind.TOILET),
        ("公共厕所", PoiKind.TOILET),  # the label is always a word
        ("廁所", PoiKind.TOILET),  # traditional
        ("衞生間", PoiKind.TOILET),  # Hong Kong variant
        ("附近的厕所", PoiKind.TOILET),
        ("厕所在哪里？", PoiKind.TOILET),
        ("哪裡有洗手間?", PoiKind.TOILET),
        ("wc", PoiKind.TOILET),
        ("自行车", PoiKind.BIKE),
        ("自行車", PoiKind.BIKE),
        ("单车", PoiKind.BIKE),
        ("公共自行車", PoiKind.BIKE),
        ("疏导点", PoiKind.VENDOR),
        ("疏導點", PoiKind.VENDOR),
        ("西瓜", PoiKind.WATERMELON),
        ("找西瓜", PoiKind.WATERMELON),
        ("电池", None),
        ("厕", None),
        ("附近的", None),
    ],
)
def test_words_name_a_kind(text: str, kind: PoiKind | None) -> None:
    assert KindCatalogue.build().kind_for(text) is kind


def test_every_listed_phrase_reads_back_as_its_kind() -> None:
    catalogue = KindCatalogue.build()
    phrases = catalogue.phrases()
    assert {"厕所", "廁所", "附近的廁所", "自行車在哪裡", "WC"} <= phrases
    assert all(catalogue.kind_for(phrase) is not None for phrase in phrases)
    assert catalogue.phrases() is phrases  # built once per configuration


def test_settings_replace_a_kinds_words() -> None:
    settings = load_settings(None, {"geo": {"words": {"toilet": ["茅房"]}}}, environ=SECRET_ENV)
    catalogue = settings.geo.kinds()
    assert catalogue.kind_for("茅房") is PoiKind.TOILET
    assert catalogue.kind_for("公共厕所") is PoiKind.TOILET  # the label stays
    assert catalogue.kind_for("洗手间") is None  # the defaults are replaced
    assert catalogue.kind_for("单车") is PoiKind.BIKE  # other kinds keep theirs

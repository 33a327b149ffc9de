"""The reply text: at most 2048 UTF-8 bytes, whole entries only, sentences from the catalogue."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import load_texts
from bot.core.geo import Datum, GeoPoint
from geodata.format import MAX_REPLY_BYTES, ReplyStyle, fit, format_distance, format_entry, format_nearest
from geodata.hours import OpenStatus
from geodata.kinds import PoiKind
from geodata.links import NavProvider
from geodata.nearest import NearbyEntry, NearestResult

pytestmark = pytest.mark.unit

TEXTS = load_texts()
SHANGHAI = ZoneInfo("Asia/Shanghai")
STYLE = ReplyStyle(label="公共厕所")
ORIGIN = GeoPoint(31.3, 120.6, Datum.WGS84)


def entry(
    i: int, *, distance: float = 100.0, name: str | None = None, address: str = "", **kw: object
) -> NearbyEntry:
    values: dict[str, object] = {
        "poi_id": i,
        "name": name or f"第{i}公厕",
        "address": address,
        "point": GeoPoint(31.3 + i / 1000, 120.6, Datum.WGS84),
        "distance_m": distance,
        "walking_minutes": 2,
        "status": None,
        "opening_hours": None,
        "capacity": None,
        "within_radius": True,
    }
    values.update(kw)
    return NearbyEntry(**values)  # type: ignore[arg-type]


def result(*entries: NearbyEntry, **kw: object) -> NearestResult:
    values: dict[str, object] = {"has_dataset": True}
    values.update(kw)
    return NearestResult(PoiKind.TOILET, ORIGIN, 2000.0, tuple(entries), **values)  # type: ignore[arg-type]


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def test_distances() -> None:
    assert format_distance(TEXTS, 0.4) == "1m"
    assert format_distance(TEXTS, 85.4) == "85m"
    assert format_distance(TEXTS, 999.4) == "999m"
    assert format_distance(TEXTS, 999.6) == "1.0km"
    assert format_distance(TEXTS, 1249) == "1.2km"
    assert format_distance(TEXTS, 12_345) == "12.3km"


def test_entry_shows_everything_it_has() -> None:
    text = format_entry(
        TEXTS,
        STYLE,
        2,
        entry(
            2,
            distance=1530,
            address="观前街1号",
            status=OpenStatus.CLOSED,
            opening_hours="06:00-22:00",
            capacity=24,
        ),
    )
    lines = text.split("\n")
    assert lines[0] == "2. 第2公厕"
    assert lines[1] == TEXTS("nearby.address", address="观前街1号")
    assert lines[2] == TEXTS("nearby.distance", distance="1.5km", minutes=2)
    assert lines[3] == TEXTS("nearby.capacity", capacity=24)
    assert lines[4] == "现已关闭（每天 06:00–22:00）"  # the hours in words, never the OSM syntax
    assert re.fullmatch(r'<a href="https://uri\.amap\.com/navigation\?[^"]+">导航</a>', lines[5])


NOW = datetime(2025, 7, 14, 20, 0, tzinfo=SHANGHAI)  # a Monday evening


@pytest.mark.parametrize(
    ("status", "hours", "change", "line"),
    [
        (OpenStatus.OPEN, "24/7", None, "全天开放"),
        (
            OpenStatus.OPEN,
            "06:00-22:00",
            NOW.replace(hour=22),
            "正在开放，今天 22:00 关闭（每天 06:00–22:00）",
        ),
        (OpenStatus.OPEN, "06:00-22:00", None, "正在开放（每天 06:00–22:00）"),
        (
            OpenStatus.CLOSED,
            "06:00-09:00",
            NOW + timedelta(hours=10),
            "现已关闭，明天 06:00 开放（每天 06:00–09:00）",
        ),
        (
            OpenStatus.CLOSED,
            "Mo-Fr 16:30-22:30; Sa,Su 10:00-22:30",
            datetime(2025, 7, 19, 10, 0, tzinfo=SHANGHAI),
            "现已关闭，周六 10:00 开放（周一至周五 16:30–22:30；周六、周日 10:00–22:30）",
        ),
        (
            OpenStatus.CLOSED,
            "Jul-Sep 07:30-22:00",
            datetime(2026, 7, 1, 7, 30, tzinfo=SHANGHAI),
            "现已关闭，2026年7月1日 07:30 开放（7月至9月 每天 07:30–22:00）",
        ),
        (OpenStatus.CLOSED, "24/7 off", None, "现已关闭（暂停开放）"),
        (OpenStatus.UNKNOWN, "Mo[1] 08:00-12:00", None, "开放时间不详"),  # no words for it: not shown raw
        (
            OpenStatus.UNKNOWN,
            "早6点至晚10点",
            None,
            "开放时间：早6点至晚10点",
        ),  # written in words: as written
    ],
)
def test_status_lines(status: OpenStatus, hours: str, change: datetime | None, line: str) -> None:
    times = {"closes": change} if status is OpenStatus.OPEN else {"opens": change}
    text = format_entry(TEXTS, STYLE, 1, entry(1, status=status, opening_hours=hours, **times), NOW)
    assert text.split("\n")[2] == line
    assert hours not in text or not hours.isascii()
    assert format_entry(TEXTS, STYLE, 1, entry(1)).count("\n") == 2  # name, distance, link: no status


def test_walking_time_only_for_a_walk() -> None:
    near = format_entry(TEXTS, STYLE, 1, entry(1, distance=2999, walking_minutes=52))
    assert TEXTS("nearby.distance", distance="3.0km", minutes=52) in near
    far = format_entry(TEXTS, STYLE, 1, entry(1, distance=3001, walking_minutes=53))
    assert "步行" not in far
    assert TEXTS("nearby.distance_far", distance="3.0km") in far
    assert "步行" in format_entry(
        TEXTS, ReplyStyle(label="x", walking_max_m=5000), 1, entry(1, distance=4000)
    )


def test_a_seasonal_entry_shows_its_season() -> None:
    text = format_entry(TEXTS, STYLE, 1, entry(1, season=("07-01", "09-30")), NOW)
    assert TEXTS("nearby.season", start="7月1日", end="9月30日") in text
    assert TEXTS("nearby.season", start="7月1日", end="9月30日") in format_entry(
        TEXTS, STYLE, 1, entry(1, season=("07-01", "09-30"))
    )  # without the moment of the search: the every-year dates still
    dated = format_entry(TEXTS, STYLE, 1, entry(1, season=("2025-07-01", "2026-01-15")), NOW)
    assert "经营季节：7月1日至2026年1月15日" in dated


def test_nothing_within_the_farthest_distance() -> None:
    far = result(too_far=True, max_distance_m=20_000.0)
    text = format_nearest(far, TEXTS, STYLE)
    advice = TEXTS("nearby.too_far_advice", area="本市")
    assert text == TEXTS("nearby.too_far", distance="20.0km", label="公共厕所", advice=advice)
    assert "步行" not in text
    outside = format_nearest(
        result(too_far=True, max_distance_m=20_000.0, outside_area=True),
        TEXTS,
        ReplyStyle("公共厕所", area="苏州市"),
    )
    assert outside.startswith("您发送的位置不在苏州市的服务范围内，附近20.0km以内没有公共厕所。")
    assert "如您在苏州市，请重新发送位置" in outside


@pytest.mark.parametrize(
    ("opens", "line"),
    [
        (date(2025, 7, 20), TEXTS("nearby.out_of_season_starts", label="公共厕所", date="7月20日")),
        (date(2026, 6, 1), TEXTS("nearby.out_of_season_ended", label="公共厕所", date="6月1日")),
        (date(2027, 6, 1), TEXTS("nearby.out_of_season_later", label="公共厕所", date="2027年6月1日")),
        (None, TEXTS("nearby.out_of_season", label="公共厕所")),
    ],
)
def test_out_of_season_says_when_the_season_starts(opens: date | None, line: str) -> None:
    assert format_nearest(result(in_season=False, season_opens=opens, now=NOW), TEXTS, STYLE) == line


def test_markup_in_names_is_neutralised() -> None:
    text = format_entry(TEXTS, STYLE, 1, entry(1, name='<a href="x">坏</a>', address="<b>"))
    assert text.count("<a ") == 1
    assert "＜a href" in text


def test_header_and_tencent_links() -> None:
    style = ReplyStyle(label="公共厕所", provider=NavProvider.TENCENT, app="bureau")
    text = format_nearest(result(entry(1), entry(2)), TEXTS, style)
    assert text.startswith(TEXTS("nearby.header", label="公共厕所", radius="2.0km"))
    assert text.count("apis.map.qq.com") == 2
    assert "referer=bureau" in text


def test_special_results() -> None:
    assert format_nearest(result(has_dataset=False), TEXTS, STYLE) == TEXTS(
        "nearby.no_dataset", label="公共厕所"
    )
    assert format_nearest(result(in_season=False), TEXTS, STYLE) == TEXTS(
        "nearby.out_of_season", label="公共厕所"
    )  # no season starts again
    assert format_nearest(result(), TEXTS, STYLE) == TEXTS("nearby.empty", label="公共厕所")
    beyond = format_nearest(result(entry(1, distance=3456, within_radius=False)), TEXTS, STYLE)
    assert beyond.startswith(TEXTS("nearby.beyond", radius="2.0km", label="公共厕所", distance="3.5km"))
    assert "1. 第1公厕" in beyond


def test_long_reply_drops_whole_trailing_entries() -> None:
    long_name = "很长的名字" * 19  # 95 characters, within the loader's limit of 100
    long_address = "地" * 200
    entries = [entry(i, name=f"{i}{long_name}", address=long_address) for i in range(1, 6)]
    full = [format_entry(TEXTS, STYLE, i, e) for i, e in enumerate(entries, 1)]
    assert sum(size(block) for block in full) > MAX_REPLY_BYTES  # the test is meaningful
    text = format_nearest(result(*entries), TEXTS, STYLE)
    assert size(text) <= MAX_REPLY_BYTES
    blocks = text.split("\n\n")
    shown = blocks[1:-1]
    assert shown == full[: len(shown)]  # whole entries, in order, none cut
    assert 1 <= len(shown) < 5
    assert blocks[-1] == TEXTS("nearby.omitted", count=5 - len(shown))
    assert text.count("<a href=") == text.count("</a>") == len(shown)


def test_short_reply_keeps_everything() -> None:
    text = format_nearest(result(*(entry(i) for i in range(1, 6))), TEXTS, STYLE)
    assert "另有" not in text
    assert text.count("导航</a>") == 5


def test_fit_counts_the_omitted_line_too() -> None:
    header = "头"
    blocks = ["a" * 1010, "b" * 1010, "c" * 100]
    # The two big blocks fit on their own (2027 bytes) ...
    assert fit(header, blocks[:2], TEXTS) == "\n\n".join([header, *blocks[:2]])
    # ... but not with the line saying that the third was left out: only one stays.
    text = fit(header, blocks, TEXTS, max_bytes=2048)
    assert text.split("\n\n")[1:] == ["a" * 1010, TEXTS("nearby.omitted", count=2)]
    with pytest.raises(ValueError, match="header"):
        fit("x" * 3000, blocks, TEXTS)

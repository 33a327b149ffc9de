"""一键查找 end to end through the real webhook, on both storage backends."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from geopy.distance import geodesic
from sqlalchemy import select

from bot.app import load_texts
from bot.chat.journal import JournalEntry
from bot.chat.replies import TEXT_LIMIT_BYTES
from bot.core import services
from bot.core.database import session_scope
from bot.core.geo import Datum, GeoPoint
from devtools.simulator import WeChatSimulator
from geodata.datasets import load_dataset
from geodata.demo import centre, load_demo
from geodata.kinds import PoiKind
from geodata.models import Poi
from geodata.origin import recall
from tests.support.clock import at
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

OPENID = "oResidentNearby0000000001"
TEXTS = load_texts()
HERE_GCJ = centre().to(Datum.GCJ02)  # the demo city's centre, as WeChat's picker would send it
HERE_WGS = HERE_GCJ.to(Datum.WGS84)


def demo_app(make_app: Callable[..., Flask], **overrides: object) -> Flask:
    app = make_app(**overrides)
    with session_scope(app) as session:
        assert all(result.ok for result in load_demo(session))
    return app


def send(sim: WeChatSimulator, xml: str) -> str | None:
    reply = sim.send(xml)
    assert reply.status == 200
    return reply.text


def entries(reply: str) -> list[str]:
    return re.findall(r"^\d+\. (.+)$", reply, flags=re.M)


def handlers_of(app: Flask) -> list[str | None]:
    with session_scope(app) as session:
        return list(session.scalars(select(JournalEntry.handler).order_by(JournalEntry.id)))


def test_location_then_three(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    saved = send(sim, sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon, "观前街"))
    assert saved is not None
    assert "观前街" in saved
    for kind in PoiKind:
        assert f"{kind.keyword} {kind.label}" in saved
    answer = send(sim, sim.text(OPENID, "3"))
    assert answer is not None
    assert answer.startswith(TEXTS("nearby.header", label="公共厕所", radius="2.0km"))
    assert len(entries(answer)) == 5
    assert answer.count('">导航</a>') == 5
    assert "uri.amap.com/navigation" in answer
    assert len(answer.encode("utf-8")) <= TEXT_LIMIT_BYTES
    origin = recall(services.store(app), OPENID)
    assert origin is not None
    assert origin.source == "location_message"
    assert origin.label == "观前街"
    assert handlers_of(app) == ["handlers.nearby.location", "handlers.nearby.kind_keyword"]


def test_one_then_location_answers_at_once(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    prompt = send(sim, sim.text(OPENID, "１"))  # full-width, as some keyboards send it
    assert prompt == TEXTS("nearby.ask_location", label="公共自行车站点")
    answer = send(sim, sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon, "观前街"))
    assert answer is not None
    assert answer.startswith(TEXTS("nearby.header", label="公共自行车站点", radius="2.0km"))
    assert "车位：" in answer
    # The kind was answered: the next location is just remembered.
    again = send(sim, sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
    assert again is not None
    assert "1 公共自行车站点" in again


def test_location_select_answers_a_waiting_kind(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    send(sim, sim.text(OPENID, "2"))
    info = {
        "Location_X": HERE_GCJ.lat,
        "Location_Y": HERE_GCJ.lon,
        "Scale": 15,
        "Label": "观前街",
        "Poiname": "",
    }
    answer = send(sim, sim.event(OPENID, "location_select", "NEARBY_PICK", SendLocationInfo=info))
    assert answer is not None
    assert answer.startswith(TEXTS("nearby.header", label="便民疏导点", radius="2.0km"))


def test_location_event_and_location_message_at_one_place_agree(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    reply = sim.send(sim.location_event(OPENID, HERE_WGS.lat, HERE_WGS.lon))
    assert reply.is_success  # WeChat wants "success" for the LOCATION report
    origin = recall(services.store(app), OPENID)
    assert origin is not None
    assert origin.source == "location_event"
    by_event = send(sim, sim.text(OPENID, "3"))
    send(sim, sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
    by_message = send(sim, sim.text(OPENID, "3"))
    assert by_event is not None
    assert by_message is not None
    assert entries(by_event) == entries(by_message)
    distances = re.findall(r"直线(\S+?)，", by_event)
    assert distances == re.findall(r"直线(\S+?)，", by_message)


def watermelon_file(tmp_path: Path, start: date, end: date) -> Path:
    path = tmp_path / f"melons-{start}.csv"
    rows = [
        f"西瓜摊{i},{HERE_WGS.lat + i / 2000:.6f},{HERE_WGS.lon:.6f},{start:%m-%d},{end:%m-%d}"
        for i in range(1, 4)
    ]
    path.write_text("name,lat,lon,season_start,season_end\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


SUMMER = datetime(2026, 7, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # seasons are the bureau's dates


def test_location_event_then_four_in_and_out_of_season(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app()
    sim = simulator_for(app)
    today = SUMMER.date()
    in_season = watermelon_file(tmp_path, today - timedelta(days=3), today + timedelta(days=3))
    later = watermelon_file(tmp_path, date(2026, 7, 15), date(2026, 7, 30))
    over = watermelon_file(tmp_path, date(2026, 6, 1), date(2026, 7, 5))
    with at(SUMMER):
        sim.send(sim.location_event(OPENID, HERE_WGS.lat, HERE_WGS.lon))
        with session_scope(app) as session:
            assert load_dataset(session, PoiKind.WATERMELON, in_season, Datum.WGS84, dry_run=False).ok
        answer = send(sim, sim.text(OPENID, "4"))
        assert answer is not None
        assert entries(answer) == ["西瓜摊1", "西瓜摊2", "西瓜摊3"]
        assert TEXTS("nearby.season", start="7月7日", end="7月13日") in answer

        with session_scope(app) as session:  # a new version: the worker picks it up without a restart
            assert load_dataset(session, PoiKind.WATERMELON, later, Datum.WGS84, dry_run=False).ok
        assert send(sim, sim.text(OPENID, "西瓜")) == TEXTS(
            "nearby.out_of_season_starts", label="西瓜零售点", date="7月15日"
        )
        with session_scope(app) as session:
            assert load_dataset(session, PoiKind.WATERMELON, over, Datum.WGS84, dry_run=False).ok
        assert send(sim, sim.text(OPENID, "4")) == TEXTS(
            "nearby.out_of_season_ended", label="西瓜零售点", date="6月1日"
        )


def test_a_kind_without_data_says_so(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    sim = simulator_for(app)
    sim.send(sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
    assert send(sim, sim.text(OPENID, "3")) == TEXTS("nearby.no_dataset", label="公共厕所")


def test_long_reply_keeps_whole_entries_within_2048_bytes(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app()
    path = tmp_path / "long.csv"
    name, address = "很长的公共厕所名称" * 11, "某某区某某街道某某社区某某路" * 14  # 99 and 196 characters
    lines = [
        f"{i}号{name[:97]},{HERE_WGS.lat + i / 5000:.6f},{HERE_WGS.lon:.6f},{address}" for i in range(1, 8)
    ]
    path.write_text("name,lat,lon,address\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with session_scope(app) as session:
        assert load_dataset(session, PoiKind.TOILET, path, Datum.WGS84, dry_run=False).ok
    sim = simulator_for(app)
    sim.send(sim.location_event(OPENID, HERE_WGS.lat, HERE_WGS.lon))
    answer = send(sim, sim.text(OPENID, "3"))
    assert answer is not None
    assert len(answer.encode("utf-8")) <= TEXT_LIMIT_BYTES
    assert TEXTS("common.truncated") not in answer  # the webhook did not have to cut it
    shown = entries(answer)
    assert 1 <= len(shown) < 5
    assert answer.count("<a href=") == answer.count("</a>") == len(shown)
    assert answer.rstrip().endswith(TEXTS("nearby.omitted", count=5 - len(shown)))


def test_keywords_and_labels_come_from_the_settings(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app, geo={"keywords": {"toilet": "厕所"}, "labels": {"toilet": "公厕"}})
    sim = simulator_for(app)
    sim.send(sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
    answer = send(sim, sim.text(OPENID, "厕所"))
    assert answer is not None
    assert answer.startswith(TEXTS("nearby.header", label="公厕", radius="2.0km"))
    assert "一键查找" in (send(sim, sim.text(OPENID, "3")) or "")  # "3" is no longer a keyword: help
    assert handlers_of(app)[-1] == "handlers.cases.fallback"  # the chat's fallback (有问必答)


@pytest.mark.parametrize("provider", ["tencent"])
def test_navigation_provider_setting(make_app: Callable[..., Flask], provider: str) -> None:
    app = demo_app(make_app, geo={"navigation": provider, "navigation_app": "bureau-app"})
    sim = simulator_for(app)
    sim.send(sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
    answer = send(sim, sim.text(OPENID, "3")) or ""
    assert "apis.map.qq.com/uri/v1/routeplan" in answer
    assert "referer=bureau-app" in answer
    # The link's destination is the first entry's stored WGS-84 point converted to GCJ-02.
    found = re.search(r"tocoord=([\d.]+),([\d.]+)", answer)
    assert found is not None
    with session_scope(app) as session:
        poi = session.scalars(select(Poi).where(Poi.name == entries(answer)[0])).one()
    expected = GeoPoint(poi.lat, poi.lon, Datum.WGS84).to(Datum.GCJ02)
    assert geodesic((float(found[1]), float(found[2])), (expected.lat, expected.lon)).meters < 0.2
    assert geodesic((float(found[1]), float(found[2])), (poi.lat, poi.lon)).meters > 300


DAWN = datetime(2026, 7, 13, 5, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday in the melon season
BEIJING_GCJ = GeoPoint(39.9087, 116.3975, Datum.WGS84).to(Datum.GCJ02)


@pytest.mark.parametrize(
    ("word", "label"),
    [
        ("厕所", "公共厕所"),
        ("廁所", "公共厕所"),
        ("附近的洗手间", "公共厕所"),
        ("卫生间在哪里？", "公共厕所"),
        ("自行車", "公共自行车站点"),
        ("单车", "公共自行车站点"),
        ("疏导点", "便民疏导点"),
        ("西瓜", "西瓜零售点"),
    ],
)
def test_words_and_traditional_forms_ask_for_a_kind(
    make_app: Callable[..., Flask], word: str, label: str
) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    with at(DAWN):
        assert send(sim, sim.text(OPENID, word)) == TEXTS("nearby.ask_location", label=label)
        answer = send(sim, sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon, "观前街"))
        assert answer is not None
        assert answer.startswith(TEXTS("nearby.header", label=label, radius="2.0km"))
        again = send(sim, sim.text(OPENID, word))  # with a remembered location: at once
    assert again is not None
    assert again.startswith(TEXTS("nearby.header", label=label, radius="2.0km"))
    assert handlers_of(app)[-1] == "handlers.nearby.kind_keyword"


def test_an_unknown_word_is_no_kind_and_is_left_to_the_fallback(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    send(sim, sim.text(OPENID, "加油站"))
    assert handlers_of(app)[-1] == "handlers.cases.fallback"  # 有问必答 takes what no feature does


def test_opening_hours_read_in_chinese_with_the_next_opening(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    with at(DAWN):
        sim.send(sim.location(OPENID, HERE_GCJ.lat, HERE_GCJ.lon))
        toilets = send(sim, sim.text(OPENID, "3")) or ""
        vendors = send(sim, sim.text(OPENID, "2")) or ""
        bikes = send(sim, sim.text(OPENID, "1")) or ""
    assert "现已关闭，今天 06:00 开放（每天 06:00–22:00）" in toilets
    assert "全天开放" in toilets  # 24/7
    assert "现已关闭，今天 16:30 开放（周一至周五 16:30–22:30；周六、周日 10:00–22:30）" in vendors
    assert "全天开放" in bikes
    for answer in (toilets, vendors, bikes):
        assert not re.search(r"24/7|\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b|\d\d:\d\d-\d\d", answer), answer


def test_far_from_the_city_the_answer_says_there_is_nothing_nearby(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    sim.send(sim.location(OPENID, BEIJING_GCJ.lat, BEIJING_GCJ.lon, "天安门"))
    answer = send(sim, sim.text(OPENID, "3"))
    advice = TEXTS("nearby.too_far_advice", area="本市")
    assert answer == TEXTS("nearby.too_far", distance="20.0km", label="公共厕所", advice=advice)
    assert "步行" not in answer
    assert "<a href" not in answer  # no walking link to another city


def test_outside_the_named_service_area(make_app: Callable[..., Flask]) -> None:
    geo = {"service_area": [31.0, 120.3, 31.6, 121.1], "area_name": "苏州市", "max_distance_m": 50_000}
    app = demo_app(make_app, geo=geo)
    sim = simulator_for(app)
    sim.send(sim.location(OPENID, BEIJING_GCJ.lat, BEIJING_GCJ.lon))
    answer = send(sim, sim.text(OPENID, "厕所")) or ""
    assert answer.startswith("您发送的位置不在苏州市的服务范围内，附近50.0km以内没有公共厕所。")
    assert "如您在苏州市，请重新发送位置" in answer


def test_a_long_way_shows_the_distance_but_no_walking_time(make_app: Callable[..., Flask]) -> None:
    app = demo_app(make_app)
    sim = simulator_for(app)
    away = GeoPoint(HERE_WGS.lat + 0.08, HERE_WGS.lon, Datum.WGS84).to(Datum.GCJ02)  # about 9 km north
    sim.send(sim.location(OPENID, away.lat, away.lon))
    answer = send(sim, sim.text(OPENID, "3")) or ""
    assert answer.startswith("2.0km以内没有公共厕所，最近的一处距您")
    assert "步行" not in answer
    assert "距离较远，建议骑车或乘车前往" in answer
    assert len(entries(answer)) == 1

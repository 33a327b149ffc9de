"""Opening hours: open, closed or unknown, in the bureau's time zone, never a guess; when a place opens
or closes next; the hours in words, never the OSM syntax."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import load_texts
from geodata.describe import describe, moment_text
from geodata.hours import HoursNow, OpenStatus, evaluate, is_valid

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUZHOU = {"lat": 31.30, "lon": 120.62}
TEXTS = load_texts()


def status_at(expression: str | None, when: datetime, **place: Any) -> OpenStatus | None:
    found = evaluate(expression, when, **place)
    return None if found is None else found.status


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)  # 2025-07-14 is a Monday


@pytest.mark.parametrize(
    ("expression", "when", "expected"),
    [
        ("06:00-22:00", at(14, 5, 59), OpenStatus.CLOSED),
        ("06:00-22:00", at(14, 6, 0), OpenStatus.OPEN),
        ("06:00-22:00", at(14, 21, 59), OpenStatus.OPEN),
        ("06:00-22:00", at(14, 22, 0), OpenStatus.CLOSED),
        ("24/7", at(14, 3), OpenStatus.OPEN),
        ("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", at(14, 8, 30), OpenStatus.OPEN),  # Monday
        ("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", at(19, 8, 30), OpenStatus.CLOSED),  # Saturday
        ("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", at(20, 16, 59), OpenStatus.OPEN),  # Sunday
        ("22:00-06:00", at(15, 2), OpenStatus.OPEN),  # past midnight
        ("22:00-06:00", at(15, 12), OpenStatus.CLOSED),
        ("０６：００～２２：００", at(14, 12), OpenStatus.OPEN),  # full-width, tilde
        ("06:00 — 22:00", at(14, 23), OpenStatus.CLOSED),
        ("08:00-18:00 unknown", at(14, 9), OpenStatus.UNKNOWN),  # the expression itself says unknown
        ("早6点至晚10点", at(14, 9), OpenStatus.UNKNOWN),  # unparseable: unknown, not a guess
        ("Mo-Fr 08:00-18:00; PH off", at(1, 10, month=10), OpenStatus.CLOSED),  # National Day, a Wednesday
        ("Mo-Fr 08:00-18:00; PH off", at(8, 10, month=10), OpenStatus.OPEN),
    ],
)
def test_status(expression: str, when: datetime, expected: OpenStatus) -> None:
    assert status_at(expression, when, **SUZHOU) is expected


def test_time_zone_is_the_bureaus() -> None:
    # 23:30 UTC is 07:30 next morning in Shanghai.
    when = datetime(2025, 7, 14, 23, 30, tzinfo=UTC)
    assert status_at("07:00-08:00", when, **SUZHOU) is OpenStatus.OPEN
    assert status_at("07:00-08:00", when, **SUZHOU, timezone="UTC") is OpenStatus.CLOSED


def test_sun_events_use_the_place() -> None:
    # Around the summer solstice the sun sets near 19:00 in Suzhou and near 21:00 in Urumqi (same clock).
    evening = at(21, 20, 0, month=6)
    assert status_at("sunrise-sunset", evening, **SUZHOU) is OpenStatus.CLOSED
    assert status_at("sunrise-sunset", evening, lat=43.8, lon=87.6) is OpenStatus.OPEN


def test_no_hours_is_no_status() -> None:
    assert status_at(None, at(14, 12), **SUZHOU) is None
    assert status_at("  ", at(14, 12), **SUZHOU) is None
    with pytest.raises(ValueError, match="aware"):
        status_at("24/7", datetime(2025, 7, 14, 12), **SUZHOU)


def test_validity() -> None:
    assert is_valid("Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00")
    assert is_valid("０６：００～２２：００")
    assert not is_valid("全天")
    assert not is_valid("")


# -- the next opening and closing, and the hours in words -----------------------------------------


@pytest.mark.parametrize(
    ("expression", "when", "status", "change"),
    [
        ("06:00-22:00", at(14, 23), OpenStatus.CLOSED, at(15, 6)),  # tomorrow morning
        ("06:00-22:00", at(14, 5), OpenStatus.CLOSED, at(14, 6)),  # later today
        ("06:00-22:00", at(14, 12), OpenStatus.OPEN, at(14, 22)),  # closes tonight
        ("Mo-Fr 16:30-22:30; Sa,Su 10:00-22:30", at(19, 8), OpenStatus.CLOSED, at(19, 10)),  # Saturday
        ("Mo-Fr 08:00-18:00; Sa,Su off", at(18, 19), OpenStatus.CLOSED, at(21, 8)),  # Friday night: Monday
        ("Mo-Fr 08:00-18:00; PH off", at(30, 19, month=9), OpenStatus.CLOSED, at(2, 8, month=10)),  # 国庆
        ("Jul-Sep 07:30-22:00", at(14, 12, month=6), OpenStatus.CLOSED, at(1, 7, 30, month=7)),
        ("22:00-06:00", at(14, 23), OpenStatus.OPEN, at(15, 6)),  # past midnight
    ],
)
def test_when_it_opens_or_closes_next(
    expression: str, when: datetime, status: OpenStatus, change: datetime
) -> None:
    found = evaluate(expression, when, **SUZHOU)
    assert found is not None
    assert found.status is status
    if status is OpenStatus.OPEN:
        assert (found.closes, found.opens) == (change, None)
    else:
        assert (found.opens, found.closes) == (change, None)


def test_never_changing_hours_have_no_next_time() -> None:
    always = evaluate("24/7", at(14, 3), **SUZHOU)
    assert always == HoursNow(OpenStatus.OPEN)  # open all day: no closing to announce
    shut = evaluate("24/7 off", at(14, 3), **SUZHOU)
    assert shut == HoursNow(OpenStatus.CLOSED)
    assert evaluate("早6点至晚10点", at(14, 3), **SUZHOU) == HoursNow(OpenStatus.UNKNOWN)
    assert evaluate(None, at(14, 3), **SUZHOU) is None


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("24/7", "全天开放"),
        ("Mo-Su 00:00-24:00", "全天开放"),
        ("Mo-Su 06:00-22:00", "每天 06:00–22:00"),
        ("06:00-22:00", "每天 06:00–22:00"),
        ("０６：００～２２：００", "每天 06:00–22:00"),
        ("Mo-Fr 16:30-22:30; Sa,Su 10:00-22:30", "周一至周五 16:30–22:30；周六、周日 10:00–22:30"),
        ("Mo-Fr 08:00-18:00; PH off", "周一至周五 08:00–18:00；法定节假日休息"),
        (
            "Mo-Fr 08:00-18:00; Sa,Su,PH 09:00-12:00",
            "周一至周五 08:00–18:00；周六、周日、法定节假日 09:00–12:00",
        ),
        ("Mo-Sa 08:00-18:00; Su off", "周一至周六 08:00–18:00；周日休息"),
        ("Mo-We,Fr 09:00-12:00,14:00-17:00", "周一至周三、周五 09:00–12:00、14:00–17:00"),
        ("22:00-06:00", "每天 22:00–次日06:00"),
        ("Jul-Sep 07:30-22:00", "7月至9月 每天 07:30–22:00"),
        ("sunrise-sunset", "每天 日出–日落"),
        ("12:00+", "每天 12:00起"),
        ("Mo-Fr", "周一至周五 全天"),
        ("24/7; PH off", "全天开放；法定节假日休息"),
        ("24/7 off", "暂停开放"),
        ("Mo-Fr 08:00-18:00 unknown", "周一至周五 08:00–18:00（开放时间不定）"),
        ('06:00-22:00 "冬季提前至17:00"', "每天 06:00–22:00（冬季提前至17:00）"),
    ],
)
def test_hours_in_words(expression: str, words: str) -> None:
    assert describe(expression, TEXTS) == words


@pytest.mark.parametrize(
    "expression",
    ["Mo[1] 08:00-12:00", "Jan 01-Mar 31 08:00-18:00", "(sunrise+01:00)-sunset", "早6点", "", None],
)
def test_hours_without_exact_words_are_not_described(expression: str | None) -> None:
    # Never the raw syntax: the status line still says open or closed and when it opens next.
    assert describe(expression, TEXTS) is None


@pytest.mark.parametrize(
    ("moment", "words"),
    [
        (at(14, 22), "今天 22:00"),
        (at(15, 6), "明天 06:00"),
        (at(19, 10), "周六 10:00"),
        (at(21, 8), "7月21日 08:00"),  # a week ahead: the date
        (at(1, 7, 30, month=8), "8月1日 07:30"),
        (datetime(2026, 7, 1, 7, 30, tzinfo=SHANGHAI), "2026年7月1日 07:30"),
    ],
)
def test_moments_in_words(moment: datetime, words: str) -> None:
    assert moment_text(TEXTS, moment, at(14, 20)) == words  # from a Monday evening

"""Opening hours: open, closed or unknown, in the bureau's time zone; never a guess."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from geodata.hours import OpenStatus, is_valid, status_at

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUZHOU = {"lat": 31.30, "lon": 120.62}


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

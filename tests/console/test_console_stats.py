"""Console statistics on both databases: local days, zero-filled series, distinct residents."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from bot.chat.journal import JournalEntry, Outcome
from bot.core import services
from bot.core.database import session_scope
from bot.core.residents import Resident
from console import stats

pytestmark = pytest.mark.contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
_keys = itertools.count()


def journal(
    session: Session, at: datetime, sender: str, msg_type: str = "text", event: str | None = None
) -> None:
    session.add(
        JournalEntry(
            dedupe_key=f"k{next(_keys)}",
            msg_type=msg_type,
            event=event,
            sender=sender,
            payload="<xml/>",
            received_at=at,
            status=Outcome.HANDLED,
        )
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with session_scope(app) as session:
        # 2026-03-01 15:59 UTC is 23:59 on 03-01 in Shanghai; 16:00 UTC is 00:00 on 03-02.
        journal(session, utc(2026, 3, 1, 15, 59), "alice")
        journal(session, utc(2026, 3, 1, 16, 0), "alice")
        journal(session, utc(2026, 3, 1, 16, 30), "bob")
        journal(session, utc(2026, 3, 2, 1, 0), "alice", "image")
        journal(session, utc(2026, 3, 2, 2, 0), "carol", "event", "subscribe")
        journal(session, utc(2026, 3, 2, 3, 0), "carol", "event", "click")
        journal(session, utc(2026, 3, 3, 4, 0), "dave", "event", "unsubscribe")
        journal(session, utc(2026, 3, 3, 5, 0), "erin", "event", "subscribe")
        journal(session, utc(2026, 3, 5, 16, 0), "frank")  # 03-06 local: outside the range below
        journal(session, utc(2026, 2, 28, 15, 59), "gina")  # 02-28 local: outside too
        session.add_all(
            [
                Resident(openid="carol", subscribed=True),
                Resident(openid="erin", subscribed=True),
                Resident(openid="dave", subscribed=False),
            ]
        )
    return app


RANGE = stats.DayRange(date(2026, 3, 1), date(2026, 3, 5), SHANGHAI)


def test_messages_are_counted_per_local_day(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        series = stats.daily(session, RANGE).messages
    assert series.points == [
        (date(2026, 3, 1), 1),
        (date(2026, 3, 2), 3),
        (date(2026, 3, 3), 0),
        (date(2026, 3, 4), 0),
        (date(2026, 3, 5), 0),
    ]
    assert series.total == 4


def test_follows_and_unfollows_per_day(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        figures = stats.daily(session, RANGE)
    assert figures.follows.values == [0, 1, 1, 0, 0]
    assert figures.unfollows.values == [0, 0, 1, 0, 0]


def test_active_residents(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        assert stats.daily(session, RANGE).active.values == [1, 2, 0, 0, 0]
        assert stats.active_residents(session, RANGE) == 2  # alice and bob; events do not count
        whole = stats.DayRange(date(2026, 2, 28), date(2026, 3, 6), SHANGHAI)
        assert stats.active_residents(session, whole) == 4
        assert stats.followers_now(session) == 2


def test_finished_days_are_kept_in_the_store(seeded: Flask) -> None:
    store = services.store(seeded)
    today = date(2026, 3, 3)
    with session_scope(seeded) as session:
        first = stats.daily(session, RANGE, store=store, today=today)
    assert first.messages.values == [1, 3, 0, 0, 0]
    assert store.get_json(f"{stats.CACHE_PREFIX}Asia/Shanghai:2026-03-02") == {
        "messages": 3,
        "active": 2,
        "follows": 1,
        "unfollows": 0,
    }
    assert store.get_json(f"{stats.CACHE_PREFIX}Asia/Shanghai:2026-03-03") is None  # today stays live
    with session_scope(seeded) as session:
        journal(session, utc(2026, 3, 3, 6, 0), "henry")  # today: counted at once
        journal(session, utc(2026, 3, 2, 6, 0), "henry")  # a finished day: the kept figures stand
    with session_scope(seeded) as session:
        again = stats.daily(session, RANGE, store=store, today=today)
        live = stats.daily(session, RANGE)
    assert again.messages.values == [1, 3, 1, 0, 0]
    assert live.messages.values == [1, 4, 1, 0, 0]


def test_range_totals_are_kept_briefly(seeded: Flask) -> None:
    store = services.store(seeded)
    with session_scope(seeded) as session:
        assert stats.active_residents(session, RANGE, store=store) == 2
        journal(session, utc(2026, 3, 4, 6, 0), "ivan")
    with session_scope(seeded) as session:
        assert stats.active_residents(session, RANGE, store=store) == 2  # the kept count
        assert stats.active_residents(session, RANGE) == 3
    ttl = store.ttl(f"{stats.CACHE_PREFIX}active:Asia/Shanghai:2026-03-01:2026-03-05")
    assert ttl is not None
    assert 0 < ttl <= stats.RANGE_TTL


def test_range_parsing() -> None:
    today = date(2026, 3, 10)
    default = stats.DayRange.parse("", "", SHANGHAI, today)
    assert (default.start, default.end) == (date(2026, 2, 9), today)
    assert len(default.days) == 30
    chosen = stats.DayRange.parse("2026-03-01", "2026-03-05", SHANGHAI, today)
    assert chosen.utc_start == utc(2026, 2, 28, 16, 0)
    assert chosen.utc_end == utc(2026, 3, 5, 16, 0)
    with pytest.raises(stats.RangeError, match="格式"):
        stats.DayRange.parse("2026/03/01", "", SHANGHAI, today)
    with pytest.raises(stats.RangeError, match="不能晚于"):
        stats.DayRange.parse("2026-03-05", "2026-03-01", SHANGHAI, today)
    with pytest.raises(stats.RangeError, match="最长"):
        stats.DayRange.parse("2024-01-01", "2026-03-01", SHANGHAI, today)

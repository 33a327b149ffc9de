"""Statistics for the console, counted per local day of the bureau's time zone.

Each function takes a session and a ``DayRange`` and returns plain values, so the numbers are tested
without HTTP. Days are grouped in SQL: PostgreSQL converts each timestamp to the zone exactly; SQLite
(the single-process embedded default) shifts by the zone's UTC offset at the start of the range, which
is exact for zones without daylight saving such as Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.journal import JournalEntry
from bot.residents import Resident

MAX_DAYS = 366


class RangeError(ValueError):
    """A date range that cannot be used; the message is shown to staff as is."""


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date  # inclusive
    zone: ZoneInfo

    @classmethod
    def last(cls, days: int, zone: ZoneInfo, today: date) -> DayRange:
        return cls(today - timedelta(days=days - 1), today, zone)

    @classmethod
    def parse(cls, start: str, end: str, zone: ZoneInfo, today: date, default_days: int = 30) -> DayRange:
        """From ``YYYY-MM-DD`` texts (either may be empty); raises RangeError with a message for staff."""
        try:
            end_day = date.fromisoformat(end) if end else today
            start_day = date.fromisoformat(start) if start else end_day - timedelta(days=default_days - 1)
        except ValueError:
            raise RangeError("日期格式应为 YYYY-MM-DD。") from None
        if start_day > end_day:
            raise RangeError("开始日期不能晚于结束日期。")
        if (end_day - start_day).days + 1 > MAX_DAYS:
            raise RangeError(f"日期范围最长 {MAX_DAYS} 天。")
        return cls(start_day, end_day, zone)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.start, time(), self.zone)

    @property
    def utc_end(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), self.zone)

    def contains(self, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return (column >= self.utc_start) & (column < self.utc_end)


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[date, int]]

    @property
    def total(self) -> int:
        return sum(value for _, value in self.points)

    @property
    def values(self) -> list[int]:
        return [value for _, value in self.points]


def local_day(session: Session, column: InstrumentedAttribute[Any], days: DayRange) -> ColumnElement[str]:
    """SQL for the local calendar day (``YYYY-MM-DD`` text) of a UTC timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(days.zone.key, column), "YYYY-MM-DD")
    offset = days.zone.utcoffset(datetime.combine(days.start, time())) or timedelta()
    return func.date(column, f"{int(offset.total_seconds()):+d} seconds")


def _filled(name: str, days: DayRange, rows: Iterable[Sequence[Any]]) -> Series:
    counts = {str(day): int(count) for day, count in rows}
    return Series(name, [(day, counts.get(day.isoformat(), 0)) for day in days.days])


def _per_day(session: Session, days: DayRange, name: str, *where: ColumnElement[bool]) -> Series:
    day = local_day(session, JournalEntry.received_at, days)
    rows = session.execute(
        select(day, func.count()).where(days.contains(JournalEntry.received_at), *where).group_by(day)
    )
    return _filled(name, days, rows)


def messages_per_day(session: Session, days: DayRange) -> Series:
    """Messages residents sent (events such as follows and menu clicks are not messages)."""
    return _per_day(session, days, "消息", JournalEntry.msg_type != "event")


def follows_per_day(session: Session, days: DayRange) -> tuple[Series, Series]:
    follows = _per_day(
        session, days, "关注", JournalEntry.msg_type == "event", JournalEntry.event == "subscribe"
    )
    unfollows = _per_day(
        session, days, "取消关注", JournalEntry.msg_type == "event", JournalEntry.event == "unsubscribe"
    )
    return follows, unfollows


def active_per_day(session: Session, days: DayRange) -> Series:
    """Residents who sent at least one message that day."""
    day = local_day(session, JournalEntry.received_at, days)
    rows = session.execute(
        select(day, func.count(func.distinct(JournalEntry.sender)))
        .where(days.contains(JournalEntry.received_at), JournalEntry.msg_type != "event")
        .group_by(day)
    )
    return _filled("活跃居民", days, rows)


def active_residents(session: Session, days: DayRange) -> int:
    """Residents who sent at least one message in the range."""
    return (
        session.scalar(
            select(func.count(func.distinct(JournalEntry.sender))).where(
                days.contains(JournalEntry.received_at), JournalEntry.msg_type != "event"
            )
        )
        or 0
    )


def followers_now(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(Resident).where(Resident.subscribed.is_(True))) or 0
    )

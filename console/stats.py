"""Statistics for the console, counted per local day of the bureau's time zone.

Each function takes a session (and, for per-day figures, optionally the store that keeps finished
days) and a ``DayRange`` and returns plain values, so the numbers are tested without HTTP. Days are
grouped in SQL: PostgreSQL converts each timestamp to the zone exactly; SQLite (the single-process
embedded default) shifts by the zone's UTC offset at the start of the range, which is exact for zones
without daylight saving such as Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.chat.journal import JournalEntry
from bot.core.audit import AuditEntry
from bot.core.residents import Resident
from bot.core.store import Store
from reports.models import TARGET as REPORT
from reports.models import Category, LineStatus, PayoutBatch, PayoutLine, Report, ReportStatus

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


METRICS: dict[str, str] = {
    "messages": "消息",
    "active": "活跃居民",
    "follows": "关注",
    "unfollows": "取消关注",
}
CACHE_PREFIX = "console:stats:v1:"
CACHE_TTL = 40 * 86400


@dataclass(frozen=True)
class Daily:
    """Per-day figures: messages residents sent (events such as follows and menu clicks are not
    messages), residents who sent at least one (active), follows and unfollows."""

    series: dict[str, Series]

    @property
    def messages(self) -> Series:
        return self.series["messages"]

    @property
    def active(self) -> Series:
        return self.series["active"]

    @property
    def follows(self) -> Series:
        return self.series["follows"]

    @property
    def unfollows(self) -> Series:
        return self.series["unfollows"]


def _count_days(session: Session, days: DayRange) -> dict[str, dict[str, int]]:
    """Every metric for every day of ``days`` that has any activity, in two passes over the journal."""
    day = local_day(session, JournalEntry.received_at, days)
    is_event = JournalEntry.msg_type == "event"

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    found: dict[str, dict[str, int]] = {}
    activity = session.execute(
        select(
            day,
            count_if(~is_event),
            count_if(is_event & (JournalEntry.event == "subscribe")),
            count_if(is_event & (JournalEntry.event == "unsubscribe")),
        )
        .where(days.contains(JournalEntry.received_at))
        .group_by(day)
    )
    for key, messages, follows, unfollows in activity:
        found[str(key)] = {
            "messages": int(messages or 0),
            "active": 0,
            "follows": int(follows or 0),
            "unfollows": int(unfollows or 0),
        }
    active = session.execute(
        select(day, func.count(func.distinct(JournalEntry.sender)))
        .where(days.contains(JournalEntry.received_at), ~is_event)
        .group_by(day)
    )
    for key, count in active:
        found.setdefault(str(key), dict.fromkeys(METRICS, 0))["active"] = int(count)
    return found


def daily(
    session: Session, days: DayRange, *, store: Store | None = None, today: date | None = None
) -> Daily:
    """Per-day figures for ``days``.

    With a store, the figures of days before ``today`` are kept there once counted: the journal only
    gains rows stamped with the moment they arrive, so a finished day never changes. Only today and
    days not yet counted reach the database.
    """

    def cacheable(day: date) -> bool:
        return store is not None and today is not None and day < today

    def cache_key(day: date) -> str:
        return f"{CACHE_PREFIX}{days.zone.key}:{day.isoformat()}"

    counts: dict[date, dict[str, int]] = {}
    missing: list[date] = []
    for day in days.days:
        cached = store.get_json(cache_key(day)) if store is not None and cacheable(day) else None
        if isinstance(cached, dict) and set(cached) == set(METRICS):
            counts[day] = cached
        else:
            missing.append(day)
    if missing:
        fresh = _count_days(session, DayRange(missing[0], missing[-1], days.zone))
        for day in missing:
            counts[day] = fresh.get(day.isoformat(), dict.fromkeys(METRICS, 0))
            if store is not None and cacheable(day):
                store.set_json(cache_key(day), counts[day], ttl=CACHE_TTL)
    return Daily(
        {
            metric: Series(name, [(day, counts[day][metric]) for day in days.days])
            for metric, name in METRICS.items()
        }
    )


RANGE_TTL = 300


def _kept(store: Store | None, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept in ``store`` for RANGE_TTL seconds when a store is given."""
    if store is None:
        return compute()
    found = store.get_json(CACHE_PREFIX + key)
    if isinstance(found, dict) and "value" in found:
        return found["value"]
    value = compute()
    store.set_json(CACHE_PREFIX + key, {"value": value}, ttl=RANGE_TTL)
    return value


def active_residents(session: Session, days: DayRange, *, store: Store | None = None) -> int:
    """Residents who sent at least one message in the range. With a store, the count is kept for
    RANGE_TTL seconds: a distinct count over a long range is the page's dearest query."""
    key = f"active:{days.zone.key}:{days.start}:{days.end}"
    return int(_kept(store, key, lambda: _active_residents(session, days)))


def _active_residents(session: Session, days: DayRange) -> int:
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


# 文明随手拍 -----------------------------------------------------------------------------------


def reports_per_day(session: Session, days: DayRange) -> Series:
    day = local_day(session, Report.created_at, days)
    rows = session.execute(select(day, func.count()).where(days.contains(Report.created_at)).group_by(day))
    counts = {str(key): int(count) for key, count in rows}
    return Series("举报", [(d, counts.get(d.isoformat(), 0)) for d in days.days])


def reports_by_status(session: Session, days: DayRange) -> dict[ReportStatus, int]:
    """Reports submitted in the range, by their status now."""
    rows = session.execute(
        select(Report.status, func.count()).where(days.contains(Report.created_at)).group_by(Report.status)
    )
    found = {ReportStatus(status): int(count) for status, count in rows}
    return {status: found.get(status, 0) for status in ReportStatus}


def reports_by_category(session: Session, days: DayRange) -> list[tuple[str, int]]:
    """Reports submitted in the range per category (every category, in its order)."""
    rows = session.execute(
        select(Category.name, func.count(Report.id))
        .join(Report, (Report.category_id == Category.id) & days.contains(Report.created_at), isouter=True)
        .group_by(Category.id, Category.name, Category.position)
        .order_by(Category.position, Category.id)
    )
    return [(name, int(count)) for name, count in rows]


STAFF_ROLES = ("reviewer", "admin")


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """SQL for the seconds from ``start`` to ``end`` (two UTC timestamp expressions): a Decimal from
    PostgreSQL's ``extract(epoch ...)`` (which SQLAlchemy types as an integer), a float from SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def median_first_review(session: Session, days: DayRange, *, store: Store | None = None) -> timedelta | None:
    """Median time from submission to the first act of a reviewer, over reports submitted in the range
    that a reviewer has acted on (None when there are none); kept RANGE_TTL seconds with a store."""
    key = f"first-review:{days.zone.key}:{days.start}:{days.end}"
    seconds = _kept(store, key, lambda: _median_first_review(session, days))
    return None if seconds is None else timedelta(seconds=seconds)


def _median_first_review(session: Session, days: DayRange) -> int | None:
    first = (
        select(AuditEntry.target_id.label("report_id"), func.min(AuditEntry.at).label("first_at"))
        .where(AuditEntry.target_kind == REPORT, AuditEntry.details["role"].as_string().in_(STAFF_ROLES))
        .group_by(AuditEntry.target_id)
        .subquery()
    )
    waits = sorted(
        float(value)
        for value in session.scalars(
            select(seconds_between(session, Report.created_at, first.c.first_at))
            .join(first, first.c.report_id == Report.id)
            .where(days.contains(Report.created_at))
        )
    )
    if not waits:
        return None
    middle = len(waits) // 2
    return round(waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2)


@dataclass(frozen=True)
class Payouts:
    points: int
    lines: int
    residents: int


def rewards_paid(session: Session, days: DayRange) -> Payouts:
    """Payout lines marked paid in batches confirmed within the range."""
    row = session.execute(
        select(
            func.coalesce(func.sum(PayoutLine.points), 0),
            func.count(PayoutLine.id),
            func.count(func.distinct(PayoutLine.openid)),
        )
        .join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .where(PayoutLine.status == LineStatus.PAID, days.contains(PayoutBatch.confirmed_at))
    ).one()
    return Payouts(int(row[0]), int(row[1]), int(row[2]))

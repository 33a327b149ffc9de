"""Working days of mainland China: the ``chinese-calendar`` package (holidays and make-up working days,
调休) overridden by the days admins mark in ``case_calendar``; beyond the package's known years,
weekends plus that table (with a warning in the log).

A deadline of N working days after a case's receipt is the end of office hours on the N-th working
day after the day it arrived (a case that arrives on a working day before office hours close counts
from the next working day, as an office receives mail: the day of receipt is day 0).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.models import CalendarDay
from cases.settings import CasesSettings

log = logging.getLogger("citybot.cases.workdays")

_warned: set[int] = set()


def overrides(session: Session, start: date, end: date) -> dict[date, bool]:
    """Days of ``case_calendar`` in ``[start, end]``: day -> working?"""
    query = select(CalendarDay.day, CalendarDay.working).where(
        CalendarDay.day >= start, CalendarDay.day <= end
    )
    return {day: working for day, working in session.execute(query)}


def package_says(day: date) -> bool | None:
    """Whether the package calls ``day`` a working day; None beyond the years its data knows."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning(
                "chinese-calendar has no data for %s: working days are weekdays plus the calendar table",
                day.year,
            )
        return None


def is_working_day(session: Session, day: date, *, known: dict[date, bool] | None = None) -> bool:
    """The table first, then the package, then Monday to Friday."""
    table = overrides(session, day, day) if known is None else known
    if day in table:
        return table[day]
    said = package_says(day)
    return day.weekday() < 5 if said is None else said


def add_working_days(session: Session, day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself is not counted)."""
    known = overrides(session, day, day + timedelta(days=count * 3 + 60))
    current = day
    left = count
    while left > 0:
        current += timedelta(days=1)
        if is_working_day(session, current, known=known):
            left -= 1
    return current


def in_office_hours(session: Session, settings: CasesSettings, at: datetime) -> bool:
    """Whether ``at`` falls on a working day within the configured office hours."""
    local = at.astimezone(ZoneInfo(settings.timezone))
    start, end = settings.office_hours
    return is_working_day(session, local.date()) and start <= local.time() < end


def deadline(session: Session, settings: CasesSettings, received: datetime, days: int) -> datetime:
    """The end of office hours on the ``days``-th working day after the day of ``received``."""
    zone = ZoneInfo(settings.timezone)
    local_day = received.astimezone(zone).date()
    due_day = add_working_days(session, local_day, days)
    _, end = settings.office_hours
    return datetime.combine(due_day, end, tzinfo=zone).astimezone(UTC)


def mark_day(session: Session, day: date, *, working: bool, note: str = "", by: str = "") -> CalendarDay:
    """Mark ``day`` a holiday (``working=False``) or a working day, replacing an earlier mark."""
    row = session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, working=working, note=note[:64], created_by=by[:64])
        session.add(row)
    else:
        row.working, row.note, row.created_by = working, note[:64], by[:64]
    session.flush()
    return row


def marked_days(session: Session) -> list[CalendarDay]:
    return list(session.scalars(select(CalendarDay).order_by(CalendarDay.day)))

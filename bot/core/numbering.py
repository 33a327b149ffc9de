"""Public numbers with a per-day sequence (``SP20261127-0001``, ``LY20261201-0001``), safe under
concurrency on PostgreSQL and SQLite: one counter row per local day, bumped with UPDATE ... RETURNING,
created on the day's first number (a concurrent creator's row is bumped instead)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def next_number(session: Session, counter: Any, prefix: str, zone: str, now: datetime) -> str:
    """``prefix`` + local date + ``-`` + the day's next sequence; ``counter`` is a mapped class with
    a string primary key ``day`` (YYYYMMDD) and an integer ``last``."""
    day = now.astimezone(ZoneInfo(zone)).strftime("%Y%m%d")
    bump = (
        update(counter)
        .where(counter.day == day)
        .values(last=counter.last + 1)
        .returning(counter.last)
        .execution_options(synchronize_session=False)
    )
    value = session.execute(bump).scalar_one_or_none()
    if value is None:
        try:
            with session.begin_nested():
                session.add(counter(day=day, last=1))
                session.flush()
            value = 1
        except IntegrityError:
            value = session.execute(bump).scalar_one()
    return f"{prefix}{day}-{value:04d}"

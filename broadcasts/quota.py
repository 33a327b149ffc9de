"""The monthly mass-send quota and the publishing rhythm, counted in the bureau's time zone.

A service account's followers receive at most 4 mass sends a month (a calendar month where the
bureau is). Every mass send WeChat accepted counts, withdrawn ones included: a withdrawal does not
give the quota back. Publishing without a mass send (freepublish) does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcasts.models import Publication, PublicationKind
from broadcasts.settings import BroadcastSettings


def month_bounds(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The UTC start (inclusive) and end (exclusive) of ``now``'s calendar month in ``timezone``."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start.astimezone(UTC), following.astimezone(UTC)


def sends_between(session: Session, start: datetime, end: datetime) -> int:
    return int(
        session.scalar(
            select(func.count(Publication.id)).where(
                Publication.kind == PublicationKind.MASS,
                Publication.accepted_at.is_not(None),
                Publication.accepted_at >= start,
                Publication.accepted_at < end,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Rhythm:
    month: date  # the first day of the month, local
    used: int
    quota: int
    expected: float  # sends an even pace would have made by now
    days_left: int
    warning: bool  # publishing falls clearly below the pace

    @property
    def remaining(self) -> int:
        return max(self.quota - self.used, 0)


def rhythm(session: Session, settings: BroadcastSettings, now: datetime) -> Rhythm:
    """This month's sends against the quota, and whether publishing lags clearly behind an even pace.

    The pace is the quota spread evenly over the month; the warning fires when the sends made are
    more than ``rhythm_tolerance`` below it, or when fewer days are left than sends still unused.
    """
    start, end = month_bounds(now, settings.timezone)
    used = sends_between(session, start, end)
    quota = settings.monthly_quota
    elapsed = (now - start) / (end - start)
    expected = quota * elapsed
    zone = ZoneInfo(settings.timezone)
    days_left = ((end.astimezone(zone).date()) - now.astimezone(zone).date()).days
    remaining = max(quota - used, 0)
    warning = quota > 0 and (used < expected - settings.rhythm_tolerance or remaining > days_left)
    return Rhythm(
        month=start.astimezone(zone).date(),
        used=used,
        quota=quota,
        expected=round(expected, 2),
        days_left=days_left,
        warning=warning,
    )

"""Per-resident limits on new reports (per hour and per local day), counted in the Store.

Keys carry a digest of the openid, never the openid itself.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from bot.core.errors import Codes
from bot.core.store import Store
from reports.errors import ReportsError
from reports.settings import ReportsSettings


class RateLimitedError(ReportsError):
    """Too many reports in the window; ``window`` is ``hour`` or ``day``."""

    codes: ClassVar[Codes] = {"rate_limited_hour": ("limit",), "rate_limited_day": ("limit",)}

    def __init__(self, window: str, limit: int) -> None:
        super().__init__(f"rate_limited_{window}", f"report limit reached: {limit} per {window}", limit=limit)
        self.window = window
        self.limit = limit


def subject(openid: str) -> str:
    return hashlib.sha256(openid.encode()).hexdigest()[:20]


def _windows(openid: str, settings: ReportsSettings, now: datetime) -> list[tuple[str, str, int, int]]:
    local = now.astimezone(ZoneInfo(settings.timezone))
    who = subject(openid)
    return [
        ("hour", f"reports:rate:hour:{who}:{local:%Y%m%d%H}", settings.reports_per_hour, 3600 + 60),
        ("day", f"reports:rate:day:{who}:{local:%Y%m%d}", settings.reports_per_day, 86400 + 60),
    ]


def check(store: Store, openid: str, settings: ReportsSettings, now: datetime) -> None:
    """Raise RateLimitedError if another report would exceed a limit; counts nothing."""
    for window, key, limit, _ttl in _windows(openid, settings, now):
        if int(store.get(key) or 0) >= limit:
            raise RateLimitedError(window, limit)


def consume(store: Store, openid: str, settings: ReportsSettings, now: datetime) -> None:
    """Count one report; raise RateLimitedError (counting nothing) if a limit would be exceeded."""
    taken: list[str] = []
    for window, key, limit, ttl in _windows(openid, settings, now):
        if store.incr(key, 1, ttl=ttl) > limit:
            store.incr(key, -1)
            for earlier in taken:
                store.incr(earlier, -1)
            raise RateLimitedError(window, limit)
        taken.append(key)


def retry_after(window: str, settings: ReportsSettings, now: datetime) -> int:
    """Seconds until the ``hour`` or ``day`` window of a RateLimitedError ends (local time)."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    if window == "hour":
        start = local.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1)
    else:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=1, hours=3)).replace(hour=0)  # the next local midnight, DST-safe
    return max(1, math.ceil((end - local).total_seconds()))

"""The one clock: every reading of the calendar or the wall clock in citybot goes through here.

Code that needs "now" either receives it (``ctx.now``, a ``now=`` argument) or calls one of these
functions; nothing else calls ``datetime.now``, ``date.today`` or ``time.time``
(tests/bot/core/test_clock.py enforces it). Tests pin or move this clock with time-machine, which
replaces the interpreter's clock for every thread, so jobs, photo processing, deadlines and
statistics all see the same instant. ``time.monotonic`` stays free for measuring durations: it is
not a calendar and cannot set off a date bomb.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, tzinfo


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def epoch() -> float:
    """The current instant as Unix seconds (signatures, WeChat's CreateTime, session stamps)."""
    return time.time()


def today(zone: tzinfo) -> date:
    """Today's date in ``zone`` (the bureau's local calendar, e.g. Asia/Shanghai)."""
    return utcnow().astimezone(zone).date()

"""Pinning the app's clock (bot.core.clock) in tests, with time-machine.

time-machine replaces the interpreter's wall clock for every thread (``datetime.now``,
``time.time`` ...), so code under test and the jobs it starts see the same instant; monotonic
timers (waits, timeouts) keep running. ``tick=True`` lets time flow on from the pinned instant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import time_machine

# An instant the fixed-date tests start from: 10:00 on a Friday in Shanghai.
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@contextlib.contextmanager
def at(when: datetime | None, *, tick: bool = True) -> Iterator[None]:
    """Stand the clock at ``when`` (naive means UTC) inside the block; ``None`` leaves it alone."""
    if when is None:
        yield
        return
    with time_machine.travel(when, tick=tick):
        yield

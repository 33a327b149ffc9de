"""Fixed-window request limits counted in the Store (Redis, or in-process in the embedded default).

A window is ``period`` seconds long and aligned to the clock, so every worker counts into the same
key. Keys carry a digest of the subject (an openid, an IP address), never the subject itself.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from bot.clock import epoch
from bot.store import Store


class LimitExceededError(Exception):
    """Over ``limit`` requests in the window; try again after ``retry_after`` seconds."""

    def __init__(self, scope: str, limit: int, retry_after: int) -> None:
        super().__init__(f"rate limit {scope}: {limit} per window, retry after {retry_after} s")
        self.scope = scope
        self.limit = limit
        self.retry_after = retry_after


def digest(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()[:24]


def hit(
    store: Store,
    scope: str,
    subject: str,
    limit: int,
    period: int = 60,
    *,
    clock: Callable[[], float] = epoch,
) -> int:
    """Count one request of ``subject`` in ``scope``; raise LimitExceededError beyond ``limit``.

    A ``limit`` of 0 means no limit. Returns the count in the current window.
    """
    if limit <= 0:
        return 0
    now = clock()
    window = int(now // period)
    key = f"rate:{scope}:{digest(subject)}:{window}"
    count = store.incr(key, 1, ttl=period + 5)
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * period - now))
        raise LimitExceededError(scope, limit, retry_after)
    return count

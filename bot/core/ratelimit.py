"""Sliding-window request limits counted in the Store (Redis, or in-process in the embedded default).

At most ``limit`` requests of one subject are allowed in ANY ``period`` seconds, not per clock-aligned
window: a fixed window aligned to the minute let twice the limit through in a burst straddling the
minute boundary. The Store keeps a log of the allowed requests' times per subject
(``Store.hit_window``: a sorted set updated by one Lua script on Redis, a deque under a lock
in-process), so the count is exact and atomic on both backends; memory per subject is bounded by
``limit``. Refused requests are not counted, so a client that keeps knocking is let in again as soon
as its oldest allowed request leaves the window (``retry_after``).

Keys carry a digest of the subject (an openid, an IP address), never the subject itself.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from bot.core.clock import epoch
from bot.core.store import Store


class LimitExceededError(Exception):
    """Over ``limit`` requests in the window; try again after ``retry_after`` seconds."""

    def __init__(self, scope: str, limit: int, retry_after: int) -> None:
        super().__init__(f"rate limit {scope}: {limit} per window, retry after {retry_after} s")
        self.scope = scope
        self.limit = limit
        self.retry_after = retry_after


def digest(subject: str) -> str:
    return hashlib.sha256(subject.encode()).hexdigest()[:24]


def key_for(scope: str, subject: str) -> str:
    return f"rate:{scope}:{digest(subject)}"


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

    A ``limit`` of 0 means no limit. Returns the count in the sliding window, this request included.
    """
    if limit <= 0:
        return 0
    outcome = store.hit_window(key_for(scope, subject), limit, period, clock())
    if not outcome.allowed:
        raise LimitExceededError(scope, limit, max(1, math.ceil(outcome.retry_after)))
    return outcome.count

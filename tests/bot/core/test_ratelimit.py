"""Request limits (bot.core.ratelimit) on both store backends: a sliding window, not clock-aligned buckets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import ratelimit
from bot.core.clock import epoch
from bot.core.store import InProcessStore, RedisStore, Store
from tests.support.clock import at

pytestmark = pytest.mark.contract


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "inprocess":
        yield InProcessStore()
        return
    url, prefix = request.getfixturevalue("redis_prefix_url")
    yield RedisStore.from_url(url, prefix)


def burst(store: Store, count: int, *, limit: int, clock: object = epoch) -> tuple[int, list[int]]:
    """Send ``count`` hits; return how many were allowed and the Retry-After of the refused ones."""
    allowed, retries = 0, []
    for _ in range(count):
        try:
            ratelimit.hit(store, "api:ip", "203.0.113.9", limit, 60, clock=clock)  # type: ignore[arg-type]
            allowed += 1
        except ratelimit.LimitExceededError as exc:
            retries.append(exc.retry_after)
    return allowed, retries


def test_a_burst_across_the_minute_boundary_stays_within_the_limit(store: Store) -> None:
    boundary = datetime(2026, 11, 27, 2, 1, tzinfo=UTC)  # a whole minute: a fixed window ends here
    with at(boundary - timedelta(seconds=1.25), tick=False):
        before, _ = burst(store, 120, limit=120)
    with at(boundary + timedelta(seconds=1.25), tick=False):
        after, retries = burst(store, 120, limit=120)
    assert before == 120
    assert after == 0  # 2 x limit in 2.5 s: only `limit` get through
    # The first of the allowed hits leaves the window 60 s after it was made.
    assert set(retries) == {58}
    with at(boundary + timedelta(seconds=58.8), tick=False):
        assert burst(store, 5, limit=120)[0] == 5


def test_the_window_slides(store: Store) -> None:
    moment = [1_000.0]
    clock = lambda: moment[0]  # noqa: E731
    assert burst(store, 3, limit=6, clock=clock)[0] == 3
    moment[0] += 30
    assert burst(store, 3, limit=6, clock=clock)[0] == 3
    moment[0] += 29
    assert burst(store, 1, limit=6, clock=clock) == (0, [1])
    moment[0] += 1  # the first three are now 60 s old
    assert burst(store, 4, limit=6, clock=clock)[0] == 3


def test_concurrent_clients_get_the_limit_and_no_more(store: Store) -> None:
    allowed: list[int] = []
    barrier = threading.Barrier(8)

    def client() -> None:
        barrier.wait()
        allowed.append(burst(store, 40, limit=100)[0])

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100


def test_zero_means_no_limit(store: Store) -> None:
    assert burst(store, 50, limit=0) == (50, [])

"""One set of assertions, run against the in-process store and against real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bot.core.clock import epoch
from bot.core.store import InProcessStore, LockTimeoutError, RedisStore, ResilientStore, Store

pytestmark = pytest.mark.contract


@pytest.fixture(
    params=[
        "inprocess",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("resilient-redis", marks=pytest.mark.redis),
    ]
)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "inprocess":
        yield InProcessStore()
        return
    url, prefix = request.getfixturevalue("redis_prefix_url")
    redis_store = RedisStore.from_url(url, prefix)
    yield ResilientStore(redis_store) if request.param == "resilient-redis" else redis_store


def test_get_set_delete(store: Store) -> None:
    assert store.get("a") is None
    store.set("a", "1")
    assert store.get("a") == "1"
    assert store.delete("a") is True
    assert store.delete("a") is False
    assert store.get("a") is None


def test_ttl_expires(store: Store) -> None:
    store.set("short", "x", ttl=0.15)
    remaining = store.ttl("short")
    assert remaining is not None
    assert 0 < remaining <= 0.15
    time.sleep(0.3)
    assert store.get("short") is None
    assert store.ttl("short") is None


def test_add_is_add_if_absent(store: Store) -> None:
    assert store.add("k", "first", ttl=5) is True
    assert store.add("k", "second", ttl=5) is False
    assert store.get("k") == "first"


def test_add_after_expiry(store: Store) -> None:
    assert store.add("k", "first", ttl=0.1) is True
    time.sleep(0.25)
    assert store.add("k", "second", ttl=5) is True
    assert store.get("k") == "second"


def test_add_is_atomic_under_threads(store: Store) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def contend(i: int) -> None:
        barrier.wait()
        if store.add("race", str(i), ttl=5):
            winners.append(i)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert store.get("race") == str(winners[0])


def test_delete_if_equals(store: Store) -> None:
    store.set("owner", "me")
    assert store.delete_if_equals("owner", "someone-else") is False
    assert store.get("owner") == "me"
    assert store.delete_if_equals("owner", "me") is True
    assert store.get("owner") is None


def test_incr_sets_ttl_once(store: Store) -> None:
    assert store.incr("n", ttl=0.3) == 1
    assert store.incr("n", 2, ttl=100) == 3
    remaining = store.ttl("n")
    assert remaining is not None
    assert remaining <= 0.3
    time.sleep(0.45)
    assert store.incr("n") == 1
    assert store.ttl("n") is None


def test_json_round_trip(store: Store) -> None:
    store.set_json("j", {"城": "管", "n": [1, 2]}, ttl=5)
    assert store.get_json("j") == {"城": "管", "n": [1, 2]}
    assert store.get_json("missing") is None


def test_lock_excludes_and_expires(store: Store) -> None:
    held = store.lock("job", ttl=5, wait=0.1)
    held.__enter__()
    try:
        with pytest.raises(LockTimeoutError), store.lock("job", ttl=5, wait=0.1):
            pass
    finally:
        held.__exit__(None, None, None)
    with store.lock("job", ttl=0.1, wait=0):
        time.sleep(0.25)  # the holder outlived its ttl: another may take it
        with store.lock("job", ttl=5, wait=0.1):
            pass


def test_wait_for(store: Store) -> None:
    timer = threading.Timer(0.1, lambda: store.set("later", "v", ttl=5))
    timer.start()
    assert store.wait_for("later", timeout=2) == "v"
    assert store.wait_for("never", timeout=0.1) is None
    timer.join()


def test_hit_window_allows_limit_in_any_period(store: Store) -> None:
    outcomes = [store.hit_window("w", 3, 10, now) for now in (100.0, 101.0, 102.0)]
    assert [(o.allowed, o.count) for o in outcomes] == [(True, 1), (True, 2), (True, 3)]
    refused = store.hit_window("w", 3, 10, 105.0)
    assert (refused.allowed, refused.count) == (False, 3)
    assert refused.retry_after == pytest.approx(5.0)  # the hit at 100 leaves the window at 110
    # A refused hit is not counted: at 110 the first hit has left, one slot is free.
    again = store.hit_window("w", 3, 10, 110.0)
    assert (again.allowed, again.count) == (True, 3)
    assert store.hit_window("w", 3, 10, 110.5).allowed is False
    assert store.hit_window("other", 3, 10, 110.5).allowed is True
    assert store.get("w") is None  # a window log is not a plain value


def test_hit_window_retry_after_names_the_hit_that_must_leave(store: Store) -> None:
    for now in (0.0, 1.0, 2.0, 3.0):
        assert store.hit_window("r", 2, 10, now).allowed is (now < 2)
    # Two hits (at 0 and 1) fill the window: the next slot opens when the one at 0 leaves.
    assert store.hit_window("r", 2, 10, 4.0).retry_after == pytest.approx(6.0)


def test_hit_window_is_atomic_under_threads(store: Store) -> None:
    allowed: list[bool] = []
    barrier = threading.Barrier(16)

    def contend() -> None:
        barrier.wait()
        for _ in range(5):
            allowed.append(store.hit_window("busy", 20, 60, epoch()).allowed)

    threads = [threading.Thread(target=contend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 20
    assert len(allowed) == 80


def test_resilient_store_works_on_alone_while_redis_is_unreachable_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.support.servers import free_port

    unreachable = RedisStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    store = ResilientStore(unreachable, retry_after=60)
    with caplog.at_level("WARNING", logger="citybot.store"):
        store.set("k", "v", ttl=30)
        assert store.get("k") == "v"
        assert store.add("k", "w") is False
        assert store.incr("n", 2) == 2
        assert store.hit_window("w", 1, 60, epoch()).allowed is True
        assert store.hit_window("w", 1, 60, epoch()).allowed is False
    assert store.degraded
    assert store.ping() is False  # a health check sees the real state, not the fallback
    assert [r.getMessage() for r in caplog.records].count(
        "store unreachable (ConnectionError): degrading to a process-local store"
    ) == 1

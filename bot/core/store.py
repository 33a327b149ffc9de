"""Key-value store with TTLs: Redis when ``redis_url`` is set, else an in-process dictionary.

This is the only module that imports redis. Both implementations honour the same contract
(tests/bot/core/test_store_contract.py): values are str, TTLs are seconds, ``add`` is an atomic
add-if-absent, ``incr`` creates the counter with its TTL on first use, ``hit_window`` counts a hit
in a sliding window atomically (at most ``limit`` hits in any ``period`` seconds), and ``lock`` is a
mutual exclusion that expires on its own so a crashed holder cannot block others for ever.

The in-process store serves one process only: with several gunicorn workers, use Redis.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from bot.core.config import Settings

log = logging.getLogger("citybot.store")


class LockTimeoutError(Exception):
    """The lock could not be acquired within the wait."""


@dataclass(frozen=True)
class WindowHit:
    """The outcome of ``Store.hit_window``.

    ``allowed``: the hit was counted; ``count``: hits in the window (including this one when
    allowed); ``retry_after``: seconds until another hit would be allowed (0 when allowed).
    """

    allowed: bool
    count: int
    retry_after: float


class Store(ABC):
    """Tiny interface shared by both backends."""

    @abstractmethod
    def get(self, key: str) -> str | None: ...

    @abstractmethod
    def set(self, key: str, value: str, ttl: float | None = None) -> None: ...

    @abstractmethod
    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Set the key only if it is absent; return whether this call set it."""

    @abstractmethod
    def delete(self, key: str) -> bool: ...

    @abstractmethod
    def delete_if_equals(self, key: str, expected: str) -> bool:
        """Delete the key only while it still holds ``expected`` (compare-and-delete)."""

    @abstractmethod
    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to an integer counter; the TTL is set when the counter is created."""

    @abstractmethod
    def ttl(self, key: str) -> float | None:
        """Seconds left, None when the key has no expiry or does not exist."""

    @abstractmethod
    def hit_window(self, key: str, limit: int, period: float, now: float) -> WindowHit:
        """Count one hit at ``now`` (Unix seconds) unless ``limit`` hits already fall in the window.

        The window is the ``period`` seconds up to ``now``: (now - period, now]. A refused hit is not
        counted. Atomic: any number of concurrent callers on any number of processes (Redis) never
        get more than ``limit`` hits allowed in one window. The key is a log of hit times with its
        own namespace; it is not readable with ``get``.
        """

    @abstractmethod
    def ping(self) -> bool: ...

    def close(self) -> None:  # noqa: B027 - optional for backends without connections
        """Release connections (the in-process store holds none)."""

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.set(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")), ttl)

    @contextmanager
    def lock(self, name: str, ttl: float = 10.0, wait: float = 10.0, poll: float = 0.02) -> Iterator[str]:
        """Hold ``name`` for at most ``ttl`` seconds, waiting up to ``wait`` seconds to get it."""
        token = uuid.uuid4().hex
        key = f"lock:{name}"
        deadline = time.monotonic() + wait
        while not self.add(key, token, ttl):
            if time.monotonic() >= deadline:
                raise LockTimeoutError(name)
            time.sleep(poll)
        try:
            yield token
        finally:
            self.delete_if_equals(key, token)

    def wait_for(self, key: str, timeout: float, poll: float = 0.02) -> str | None:
        """Poll until ``key`` exists or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.get(key)
            if value is not None or time.monotonic() >= deadline:
                return value
            time.sleep(poll)


class InProcessStore(Store):
    """A dict guarded by a lock, with lazy expiry. One process only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        # Sliding-window logs: key -> (hit times in Unix seconds, oldest first; expiry on self._clock).
        self._windows: dict[str, tuple[deque[float], float]] = {}
        self._lock = threading.RLock()
        self._clock = clock

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= self._clock():
            del self._data[key]
            return None
        return item

    def _expiry(self, ttl: float | None) -> float | None:
        return None if ttl is None else self._clock() + ttl

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._live(key)
            return None if item is None else item[0]

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, self._expiry(ttl))

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, self._expiry(ttl))
            return True

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._live(key) is not None and self._data.pop(key, None) is not None

    def delete_if_equals(self, key: str, expected: str) -> bool:
        with self._lock:
            item = self._live(key)
            if item is None or item[0] != expected:
                return False
            del self._data[key]
            return True

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        with self._lock:
            item = self._live(key)
            if item is None:
                value, expiry = amount, self._expiry(ttl)
            else:
                value, expiry = int(item[0]) + amount, item[1]
            self._data[key] = (str(value), expiry)
            return value

    def ttl(self, key: str) -> float | None:
        with self._lock:
            item = self._live(key)
            if item is None or item[1] is None:
                return None
            return max(0.0, item[1] - self._clock())

    def hit_window(self, key: str, limit: int, period: float, now: float) -> WindowHit:
        with self._lock:
            moment = self._clock()
            item = self._windows.get(key)
            hits = item[0] if item is not None and item[1] > moment else deque()
            while hits and hits[0] <= now - period:
                hits.popleft()
            if len(hits) < limit:
                hits.append(now)
                self._windows[key] = (hits, moment + period)
                return WindowHit(True, len(hits), 0.0)
            if hits:
                self._windows[key] = (hits, item[1] if item is not None else moment + period)
            else:
                self._windows.pop(key, None)
            oldest = hits[len(hits) - limit] if limit > 0 else now
            return WindowHit(False, len(hits), max(0.0, oldest + period - now))

    def ping(self) -> bool:
        return True


_DELETE_IF_EQUALS = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

_INCR_WITH_TTL = """
local value = redis.call('incrby', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  redis.call('pexpire', KEYS[1], ARGV[2])
end
return value
"""


# A sorted set of hit times (score = Unix seconds) per key: drop what left the window, count, then
# add this hit only while under the limit. Members are unique per hit (ARGV[4]).
_HIT_WINDOW = """
local key, now, period, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('zremrangebyscore', key, '-inf', now - period)
local count = redis.call('zcard', key)
if count < limit then
  redis.call('zadd', key, now, ARGV[4])
  redis.call('pexpire', key, math.ceil(period * 1000))
  return {1, count + 1, '0'}
end
local retry = 0
if limit > 0 then
  local oldest = redis.call('zrange', key, count - limit, count - limit, 'WITHSCORES')
  retry = tonumber(oldest[2]) + period - now
end
return {0, count, tostring(retry)}
"""


class RedisStore(Store):
    """Redis-backed store; keys are namespaced by ``prefix`` so several apps can share a server."""

    def __init__(self, client: redis.Redis, prefix: str = "citybot:") -> None:
        self.client = client
        self.prefix = prefix
        self._delete_if_equals = client.register_script(_DELETE_IF_EQUALS)
        self._incr = client.register_script(_INCR_WITH_TTL)
        self._hit_window = client.register_script(_HIT_WINDOW)

    @classmethod
    def from_url(cls, url: str, prefix: str = "citybot:") -> RedisStore:
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=2.0, socket_connect_timeout=2.0
        )
        return cls(client, prefix)

    def _k(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _px(ttl: float | None) -> int | None:
        return None if ttl is None else max(1, int(ttl * 1000))

    def get(self, key: str) -> str | None:
        value = self.client.get(self._k(key))
        return None if value is None else str(value)

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self.client.set(self._k(key), value, px=self._px(ttl))

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return bool(self.client.set(self._k(key), value, px=self._px(ttl), nx=True))

    def delete(self, key: str) -> bool:
        return bool(self.client.delete(self._k(key)))

    def delete_if_equals(self, key: str, expected: str) -> bool:
        return bool(self._delete_if_equals(keys=[self._k(key)], args=[expected]))

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return int(self._incr(keys=[self._k(key)], args=[amount, self._px(ttl) or 0]))

    def ttl(self, key: str) -> float | None:
        millis = int(self.client.pttl(self._k(key)))
        return None if millis < 0 else millis / 1000

    def hit_window(self, key: str, limit: int, period: float, now: float) -> WindowHit:
        allowed, count, retry = self._hit_window(
            keys=[self._k("window:" + key)], args=[repr(now), repr(float(period)), limit, uuid.uuid4().hex]
        )
        return WindowHit(bool(allowed), int(count), max(0.0, float(retry)))

    def ping(self) -> bool:
        return bool(self.client.ping())

    def close(self) -> None:
        self.client.close()


class ResilientStore(Store):
    """Redis, degrading to a process-local store while Redis cannot be reached.

    What lives in the store is short-lived and rebuildable (remembered locations, rate-limit
    counters, console sessions, token caches), and nothing the intake's correctness rests on: the
    journal's unique key and the resident's turn are in the database. So during an outage each
    process keeps working on its own dictionary (limits count per process, a remembered location
    may be forgotten) instead of failing every message; the outage and the recovery are logged
    once each. While degraded, Redis is tried again at most every ``retry_after`` seconds.
    """

    def __init__(self, primary: Store, *, retry_after: float = 1.0) -> None:
        self.primary = primary
        self.local = InProcessStore()
        self.retry_after = retry_after
        self._down_since: float | None = None
        self._next_try = 0.0
        self._state_lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    def _call(self, name: str, *args: Any) -> Any:
        if self._down_since is not None and time.monotonic() < self._next_try:
            return getattr(self.local, name)(*args)
        try:
            result = getattr(self.primary, name)(*args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            with self._state_lock:
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    log.warning(
                        "store unreachable (%s): degrading to a process-local store", type(exc).__name__
                    )
                self._next_try = time.monotonic() + self.retry_after
            return getattr(self.local, name)(*args)
        if self._down_since is not None:
            with self._state_lock:
                if self._down_since is not None:
                    log.warning("store reachable again after %.1f s", time.monotonic() - self._down_since)
                    self._down_since = None
        return result

    def get(self, key: str) -> str | None:
        value: str | None = self._call("get", key)
        return value

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._call("set", key, value, ttl)

    def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        return bool(self._call("add", key, value, ttl))

    def delete(self, key: str) -> bool:
        return bool(self._call("delete", key))

    def delete_if_equals(self, key: str, expected: str) -> bool:
        return bool(self._call("delete_if_equals", key, expected))

    def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        return int(self._call("incr", key, amount, ttl))

    def ttl(self, key: str) -> float | None:
        left: float | None = self._call("ttl", key)
        return left

    def hit_window(self, key: str, limit: int, period: float, now: float) -> WindowHit:
        hit: WindowHit = self._call("hit_window", key, limit, period, now)
        return hit

    def ping(self) -> bool:
        """Whether the primary answers (a health check must not be fooled by the fallback)."""
        try:
            return self.primary.ping()
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def close(self) -> None:
        self.primary.close()


def binary_redis(url: str) -> redis.Redis:
    """A client that returns bytes, as job queues need (the store's client decodes to str)."""
    return redis.Redis.from_url(url, socket_timeout=None, socket_connect_timeout=5.0)


def make_store(settings: Settings) -> Store:
    """Choose the backend once, from configuration."""
    if settings.redis_url:
        return ResilientStore(RedisStore.from_url(settings.redis_url, settings.redis_prefix))
    return InProcessStore()

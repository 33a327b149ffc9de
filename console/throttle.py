"""Login throttling: failures counted per username and per client address, then a timed lock.

Counters and locks live in the store with TTLs, so they are shared by every worker (Redis) and
vanish on their own. A locked name or address is refused before its password is checked.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from bot.store import Store

PREFIX = "console:login:"


@dataclass(frozen=True)
class Lock:
    scope: str  # "user" or "ip"
    seconds: float

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def _key(kind: str, scope: str, value: str) -> str:
    # Hash what the visitor typed: bounded, opaque keys whatever the input.
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}{kind}:{scope}:{digest}"


class LoginThrottle:
    def __init__(self, store: Store, *, per_user: int, per_ip: int, lock_seconds: int) -> None:
        self.store = store
        self.limits = {"user": per_user, "ip": per_ip}
        self.lock_seconds = lock_seconds

    def locked(self, username: str, ip: str) -> Lock | None:
        for scope, value in (("user", username), ("ip", ip)):
            key = _key("lock", scope, value)
            if self.store.get(key) is not None:
                return Lock(scope, self.store.ttl(key) or float(self.lock_seconds))
        return None

    def failed(self, username: str, ip: str) -> Lock | None:
        """Count one failure; return the lock it caused, if any."""
        caused: Lock | None = None
        for scope, value in (("user", username), ("ip", ip)):
            count = self.store.incr(_key("fail", scope, value), ttl=self.lock_seconds)
            if count >= self.limits[scope]:
                self.store.set(_key("lock", scope, value), "1", ttl=self.lock_seconds)
                self.store.delete(_key("fail", scope, value))
                caused = caused or Lock(scope, float(self.lock_seconds))
        return caused

    def succeeded(self, username: str) -> None:
        """Forget the username's failures (an address's failures stay: they may be someone else's)."""
        self.store.delete(_key("fail", "user", username))

    def unlock(self, username: str) -> None:
        self.store.delete(_key("fail", "user", username))
        self.store.delete(_key("lock", "user", username))

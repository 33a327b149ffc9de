"""Login throttling: attempts counted per username and per client address, then a timed lock.

Every attempt is counted in the store BEFORE its password is checked, with one atomic ``incr`` per
scope, so however many guesses arrive at once, at most ``limit`` of them (per username and per
address) reach the slow password hash within the lock window; the others are refused as locked.
A failure while the count stands at the limit sets the lock, which then lasts
``lock_seconds``. Counters and locks live in the store with TTLs, so they are shared by every worker
(Redis) and vanish on their own.

A successful login gives its own attempt back to the address (colleagues behind one gateway do not
lock each other out by logging in) and forgets the username's attempts up to its own: attempts that
raced with it still count, so a burst of guesses cannot hide behind a login of the rightful owner.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from bot.core.store import Store

PREFIX = "console:login:"
SCOPES = ("user", "ip")


@dataclass(frozen=True)
class Lock:
    scope: str  # "user" or "ip"
    seconds: float

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


@dataclass(frozen=True)
class Attempt:
    """An admitted attempt: the values it was counted under and its place in each count."""

    values: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)


def _key(kind: str, scope: str, value: str) -> str:
    # Hash what the visitor typed: bounded, opaque keys whatever the input.
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}{kind}:{scope}:{digest}"


class LoginThrottle:
    def __init__(self, store: Store, *, per_user: int, per_ip: int, lock_seconds: int) -> None:
        self.store = store
        self.limits = {"user": per_user, "ip": per_ip}
        self.lock_seconds = lock_seconds

    def _lock_of(self, scope: str, value: str) -> Lock | None:
        key = _key("lock", scope, value)
        if self.store.get(key) is None:
            return None
        return Lock(scope, self.store.ttl(key) or float(self.lock_seconds))

    def locked(self, username: str, ip: str) -> Lock | None:
        for scope, value in (("user", username), ("ip", ip)):
            lock = self._lock_of(scope, value)
            if lock is not None:
                return lock
        return None

    def admit(self, username: str, ip: str) -> Attempt | Lock:
        """Count one attempt before its password is checked; a Lock means: do not check it.

        The count is atomic in the store: of any number of concurrent attempts, only the first
        ``limit`` per scope are admitted until the window (``lock_seconds`` from the first attempt)
        or the lock ends.
        """
        lock = self.locked(username, ip)
        if lock is not None:
            return lock
        values = {"user": username, "ip": ip}
        counts: dict[str, int] = {}
        for scope in SCOPES:
            key = _key("fail", scope, values[scope])
            count = self.store.incr(key, ttl=self.lock_seconds)
            if count > self.limits[scope]:
                # Refused attempts are not counted: take back this one and those of earlier scopes.
                self.store.incr(key, -1)
                for earlier, _count in counts.items():
                    self.store.incr(_key("fail", earlier, values[earlier]), -1)
                return self._lock_of(scope, values[scope]) or Lock(
                    scope, self.store.ttl(key) or float(self.lock_seconds)
                )
            counts[scope] = count
        return Attempt(values, counts)

    def failed(self, attempt: Attempt | str, ip: str = "") -> Lock | None:
        """The admitted attempt failed; return the lock it caused, if any.

        Called with (username, ip) instead of an Attempt, it counts a failure first (for callers
        that did not ``admit``).
        """
        if isinstance(attempt, str):
            admitted = self.admit(attempt, ip)
            if isinstance(admitted, Lock):
                return admitted
            attempt = admitted
        caused: Lock | None = None
        for scope in SCOPES:
            # The count as it stands now: a success meanwhile may have forgiven earlier attempts.
            current = self.store.get(_key("fail", scope, attempt.values[scope]))
            if scope in attempt.counts and int(current or 0) >= self.limits[scope]:
                self.store.set(_key("lock", scope, attempt.values[scope]), "1", ttl=self.lock_seconds)
                caused = caused or Lock(scope, float(self.lock_seconds))
        return caused

    def succeeded(self, attempt: Attempt) -> None:
        """The admitted attempt had the right password."""
        for scope, amount in (("user", attempt.counts.get("user", 0)), ("ip", 1)):
            if not attempt.counts.get(scope):
                continue
            key = _key("fail", scope, attempt.values[scope])
            left = self.store.incr(key, -amount, ttl=self.lock_seconds)
            if left < 0:  # the counter expired meanwhile and was started afresh: never go below zero
                self.store.incr(key, -left)

    def unlock(self, username: str) -> None:
        self.store.delete(_key("fail", "user", username))
        self.store.delete(_key("lock", "user", username))

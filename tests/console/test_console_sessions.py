"""Console sessions and the login throttle on the app's store, both backends."""

from __future__ import annotations

import pytest
from flask import Flask

from bot.core import services
from console import sessions
from console.sessions import SessionBook
from console.throttle import LoginThrottle

pytestmark = pytest.mark.contract


def test_session_lifecycle(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    moment = [1000.0]
    monkeypatch.setattr(sessions, "now", lambda: moment[0])
    book = SessionBook(services.store(app), idle_timeout=100, max_age=250)
    record = book.start(7, "stamp", "10.0.0.1")
    assert len(record.sid) >= 40
    moment[0] += 90
    loaded = book.load(record.sid)
    assert loaded is not None
    assert (loaded.staff_id, loaded.password_stamp, loaded.seen) == (7, "stamp", 1090.0)
    ttl = services.store(app).ttl(sessions.PREFIX + record.sid)
    assert ttl is not None
    assert 0 < ttl <= 100
    moment[0] += 101
    assert book.load(record.sid) is None
    assert services.store(app).get(sessions.PREFIX + record.sid) is None  # an expired record is removed
    other = book.start(8, "s", "")
    book.end(other.sid)
    assert book.load(other.sid) is None
    assert book.load("never-issued") is None


def test_throttle_locks_and_unlocks(app: Flask) -> None:
    throttle = LoginThrottle(services.store(app), per_user=3, per_ip=5, lock_seconds=120)
    assert throttle.failed("li", "1.1.1.1") is None
    assert throttle.failed("li", "1.1.1.1") is None
    lock = throttle.failed("li", "1.1.1.1")
    assert lock is not None
    assert (lock.scope, lock.minutes) == ("user", 2)
    current = throttle.locked("li", "2.2.2.2")
    assert current is not None
    assert current.scope == "user"
    assert 0 < current.seconds <= 120
    assert throttle.locked("wang", "1.1.1.1") is None
    throttle.failed("wang", "1.1.1.1")
    ip_lock = throttle.failed("zhao", "1.1.1.1")
    assert ip_lock is not None
    assert ip_lock.scope == "ip"
    locked = throttle.locked("anyone", "1.1.1.1")
    assert locked is not None
    assert locked.scope == "ip"
    throttle.unlock("li")
    assert throttle.locked("li", "3.3.3.3") is None

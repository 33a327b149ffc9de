"""Console sessions kept in the store, referenced by a random id in the signed session cookie.

Server-side records make logout final (a copied cookie stops working at once), give every session an
idle timeout (the record's TTL, refreshed on each request, and an explicit last-seen check) and an
absolute lifetime counted from login, and let a password change end every older session.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from bot.core.clock import epoch
from bot.core.store import Store

PREFIX = "console:session:"


def now() -> float:
    """Wall-clock seconds; the one clock of console sessions (tests replace it)."""
    return epoch()


@dataclass(frozen=True)
class SessionRecord:
    sid: str
    staff_id: int
    started: float
    seen: float
    # The staff member's password_changed_at when the session started (ISO text).
    password_stamp: str
    ip: str


class SessionBook:
    def __init__(self, store: Store, *, idle_timeout: int, max_age: int) -> None:
        self.store = store
        self.idle_timeout = idle_timeout
        self.max_age = max_age

    def start(self, staff_id: int, password_stamp: str, ip: str) -> SessionRecord:
        moment = now()
        record = SessionRecord(secrets.token_urlsafe(32), staff_id, moment, moment, password_stamp, ip)
        self._save(record)
        return record

    def load(self, sid: str) -> SessionRecord | None:
        """The live session for ``sid``, its last-seen time refreshed; None once expired or ended."""
        data = self.store.get_json(PREFIX + sid)
        if not isinstance(data, dict):
            return None
        try:
            record = SessionRecord(**data)
        except TypeError:
            self.end(sid)
            return None
        moment = now()
        if moment - record.seen > self.idle_timeout or moment - record.started > self.max_age:
            self.end(sid)
            return None
        refreshed = SessionRecord(**{**asdict(record), "seen": moment})
        self._save(refreshed)
        return refreshed

    def end(self, sid: str) -> None:
        self.store.delete(PREFIX + sid)

    def _save(self, record: SessionRecord) -> None:
        remaining = self.max_age - (record.seen - record.started)
        ttl = max(1.0, min(float(self.idle_timeout), remaining))
        self.store.set_json(PREFIX + record.sid, asdict(record), ttl=ttl)

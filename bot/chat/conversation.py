"""Per-resident conversation state: a named state plus data, with a timeout, kept in the database.

The state lives in the same database as the effects of the messages that change it, and is read
and written inside the resident's turn (bot.core.residents.take_turn): so a handler's conversation
change commits or rolls back with its other effects, and three photos sent at the same instant are
appended one after another instead of overwriting each other (a read-modify-write in a store beside
the transaction loses all but one). ``save`` only stages the change in the session; the caller's
commit makes it durable.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base


class ConversationRow(Base):
    __tablename__ = "conversations"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    data: Mapped[str] = mapped_column(Text, default="{}")
    started_at: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Conversation:
    def __init__(self, session: Session, openid: str, timeout: int, *, now: datetime | None = None) -> None:
        self._session = session
        self.openid = openid
        self.timeout = timeout
        self._now = now
        row = session.get(ConversationRow, openid, populate_existing=True)
        if row is not None and row.expires_at <= self._clock():
            row = None
        self.state: str | None = row.state if row is not None else None
        self.data: dict[str, Any] = dict(json.loads(row.data)) if row is not None else {}
        self.started_at: datetime | None = row.started_at if row is not None else None
        self._dirty = False

    def _clock(self) -> datetime:
        return self._now or utcnow()

    def enter(self, state: str, **data: Any) -> None:
        """Move to ``state``; keeps existing data unless new values are given."""
        if self.state is None:
            self.started_at = self._clock()
        self.state = state
        self.data.update(data)
        self._dirty = True

    def update(self, **data: Any) -> None:
        self.data.update(data)
        self._dirty = True

    def end(self) -> None:
        self.state = None
        self.data = {}
        self.started_at = None
        self._dirty = True

    def in_state(self, *states: str) -> bool:
        return self.state in states

    def save(self) -> None:
        """Stage the change in the session (flushed); durable when the caller commits."""
        if not self._dirty:
            return
        row = self._session.get(ConversationRow, self.openid)
        if self.state is None:
            if row is not None:
                self._session.delete(row)
        else:
            expires = self._clock() + timedelta(seconds=self.timeout)
            encoded = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
            if row is None:
                row = ConversationRow(openid=self.openid)
                self._session.add(row)
            row.state, row.data, row.started_at, row.expires_at = (
                self.state,
                encoded,
                self.started_at,
                expires,
            )
        self._session.flush()
        self._dirty = False

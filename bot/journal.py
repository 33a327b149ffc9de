"""The message journal: every accepted WeChat message, its handler and its outcome.

A row is committed as ``received`` before any handler runs, so a crash mid-handler leaves a
visible trace; the handler's effects and the row's outcome (``handled`` + reply, or ``failed`` +
error) are committed together afterwards. The unique ``dedupe_hash`` (SHA-256 of ``dedupe_key``) is
the durable guard against running one message twice: an event's key holds its whole EventKey (a
VIEW event's URL, up to ``bot.wechat.limits.EVENT_KEY`` characters), too long for a unique index on
the readable key itself.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Enum, Index, Integer, String, Text, select
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.clock import utcnow
from bot.database import Base


class Outcome(enum.StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    FAILED = "failed"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_hash_default(context: DefaultExecutionContext) -> str:
    return key_hash(context.get_current_parameters()["dedupe_key"])


class JournalEntry(Base):
    __tablename__ = "message_journal"
    __table_args__ = (
        Index("ix_message_journal_status_received", "status", "received_at"),
        # Covers the console's statistics (per-day counts by type and sender) without touching rows.
        Index("ix_message_journal_received_activity", "received_at", "msg_type", "event", "sender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(Text)
    dedupe_hash: Mapped[str] = mapped_column(String(64), unique=True, default=_key_hash_default)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handler: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[Outcome] = mapped_column(
        Enum(Outcome, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=Outcome.RECEIVED,
    )
    reply: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]

    @property
    def reply_data(self) -> dict[str, Any] | None:
        return None if self.reply is None else json.loads(self.reply)


def record_received(
    session: Session, *, key: str, msg_type: str, event: str | None, sender: str, payload: str
) -> JournalEntry:
    entry = JournalEntry(
        dedupe_key=key,
        msg_type=msg_type,
        event=event,
        sender=sender,
        payload=payload,
        status=Outcome.RECEIVED,
        received_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def mark_handled(entry: JournalEntry, *, handler: str, reply: dict[str, Any]) -> None:
    entry.handler = handler
    entry.status = Outcome.HANDLED
    entry.reply = json.dumps(reply, ensure_ascii=False)
    entry.error = None
    entry.attempts += 1
    entry.finished_at = utcnow()


def mark_failed(entry: JournalEntry, *, handler: str | None, error: str, reply: dict[str, Any]) -> None:
    entry.handler = handler
    entry.status = Outcome.FAILED
    entry.error = error[:4000]
    entry.reply = json.dumps(reply, ensure_ascii=False)
    entry.attempts += 1
    entry.finished_at = utcnow()


def by_key(session: Session, key: str) -> JournalEntry | None:
    query = select(JournalEntry).where(JournalEntry.dedupe_hash == key_hash(key))
    return session.scalars(query).one_or_none()


def needing_retry(session: Session, *, stuck_after: timedelta, limit: int = 100) -> list[JournalEntry]:
    """Failed messages, and messages received but never finished (a crashed worker)."""
    cutoff = utcnow() - stuck_after
    query = (
        select(JournalEntry)
        .where(
            (JournalEntry.status == Outcome.FAILED)
            | ((JournalEntry.status == Outcome.RECEIVED) & (JournalEntry.received_at < cutoff))
        )
        .order_by(JournalEntry.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def recent(session: Session, *, limit: int = 20, status: Outcome | None = None) -> list[JournalEntry]:
    query = select(JournalEntry).order_by(JournalEntry.id.desc()).limit(limit)
    if status is not None:
        query = query.where(JournalEntry.status == status)
    return list(session.scalars(query))

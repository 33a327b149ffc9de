"""The message journal: every accepted WeChat message, its handler, its outcome and its delivery.

A row is committed as ``received`` before any handler runs, so a crash mid-handler leaves a
visible trace. Whoever runs the handler holds the row's **lease**: a random token and an expiry.
The handler's effects and the row's outcome are committed together, and the outcome is written
only while the token still matches (a fencing token): if the lease expired and another attempt,
the recovery loop or ``citybot messages retry`` took it over, the late holder's work rolls back.
So one message's effects are committed at most once, however many workers try.

The unique ``dedupe_hash`` (SHA-256 of ``dedupe_key``) is the durable guard against WeChat's
retries: an event's key holds its whole EventKey (a VIEW event's URL, up to
``bot.wechat.limits.EVENT_KEY`` characters), too long for a unique index on the readable key.
``delivery`` records how the reply reached the resident, claimed once with a conditional update:
``passive`` (an HTTP answer to one of WeChat's attempts), ``sending`` then ``sent`` (a
customer-service message), or ``expired`` / ``failed`` when WeChat refused it (45015 outside the
48-hour window, other errors).
"""

from __future__ import annotations

import enum
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Enum, Index, Integer, String, Text, select, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base


class Outcome(enum.StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    FAILED = "failed"


class Delivery(enum.StrEnum):
    PASSIVE = "passive"
    SENDING = "sending"
    SENT = "sent"
    EXPIRED = "expired"  # 45015: outside the customer-service window
    FAILED = "failed"
    NONE = "none"  # nothing to say (Silence)


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_hash_default(context: DefaultExecutionContext) -> str:
    # SQLAlchemy leaves get_current_parameters unannotated.
    parameters: dict[str, Any] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return key_hash(parameters["dedupe_key"])


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE matched: Session.execute types every result as a plain Result, but an
    UPDATE's is a CursorResult, which has ``rowcount``."""
    return cast("CursorResult[Any]", result).rowcount


class JournalEntry(Base):
    __tablename__ = "message_journal"
    __table_args__ = (
        Index("ix_message_journal_status_received", "status", "received_at"),
        # Covers the console's statistics (per-day counts by type and sender) without touching rows.
        Index("ix_message_journal_received_activity", "received_at", "msg_type", "event", "sender"),
        # One resident's unfinished messages in WeChat's order (the turn's ordering check).
        Index("ix_message_journal_sender_order", "sender", "status", "sent_at", "msg_id"),
        Index("ix_message_journal_delivery", "delivery", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(Text)
    dedupe_hash: Mapped[str] = mapped_column(String(64), unique=True, default=_key_hash_default)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # WeChat's CreateTime and MsgId (0 for events): the order WeChat sent a resident's messages in.
    sent_at: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    msg_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    handler: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[Outcome] = mapped_column(_enum(Outcome), default=Outcome.RECEIVED)
    reply: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    delivery: Mapped[Delivery | None] = mapped_column(_enum(Delivery))
    delivered_at: Mapped[datetime | None]
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    next_delivery_at: Mapped[datetime | None]

    @property
    def reply_data(self) -> dict[str, Any] | None:
        return None if self.reply is None else json.loads(self.reply)

    def lease_live(self, now: datetime) -> bool:
        return self.lease_until is not None and self.lease_until > now


def new_token() -> str:
    return secrets.token_hex(16)


def record_received(
    session: Session,
    *,
    key: str,
    msg_type: str,
    event: str | None,
    sender: str,
    payload: str,
    sent_at: int = 0,
    msg_id: int = 0,
    lease: timedelta | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Add the row as ``received``; with ``lease``, the caller holds it (``entry.lease_token``)."""
    now = now or utcnow()
    entry = JournalEntry(
        dedupe_key=key,
        dedupe_hash=key_hash(key),
        msg_type=msg_type,
        event=event,
        sender=sender,
        payload=payload,
        sent_at=sent_at,
        msg_id=msg_id,
        status=Outcome.RECEIVED,
        received_at=now,
        attempts=0,
        delivery_attempts=0,
        lease_token=new_token() if lease is not None else None,
        lease_until=now + lease if lease is not None else None,
    )
    session.add(entry)
    session.flush()
    return entry


def take_lease(
    session: Session, entry_id: int, *, lease: timedelta, statuses: tuple[Outcome, ...], now: datetime
) -> str | None:
    """Take the row's lease if its status is one of ``statuses`` and no live lease holds it.

    A conditional update, so of two workers (or two ``messages retry`` runs) at most one wins.
    Taking a ``failed`` row moves it back to ``received``. Returns the new token, or None.
    """
    token = new_token()
    taken = session.execute(
        update(JournalEntry)
        .where(
            JournalEntry.id == entry_id,
            JournalEntry.status.in_(statuses),
            (JournalEntry.lease_until.is_(None)) | (JournalEntry.lease_until <= now),
        )
        .values(
            status=Outcome.RECEIVED,
            lease_token=token,
            lease_until=now + lease,
            # A replayed failure's new reply is delivered afresh (its apology went passively).
            delivery=None,
            next_delivery_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return token if _rowcount(taken) == 1 else None


def finish(
    session: Session,
    entry_id: int,
    *,
    token: str | None,
    status: Outcome,
    handler: str | None,
    reply: dict[str, Any],
    error: str | None = None,
    delivery: Delivery | None = None,
    now: datetime | None = None,
) -> bool:
    """Write the outcome inside the handler's transaction, only while ``token`` holds the lease.

    Returns False when the lease was taken over: the caller must roll back its work.
    """
    now = now or utcnow()
    values: dict[str, Any] = {
        "status": status,
        "handler": handler,
        "reply": json.dumps(reply, ensure_ascii=False),
        "error": None if error is None else error[:4000],
        "attempts": JournalEntry.attempts + 1,
        "finished_at": now,
        "lease_token": None,
        "lease_until": None,
    }
    if delivery is not None:
        values["delivery"] = delivery
        values["delivered_at"] = now
    condition = JournalEntry.lease_token == token if token is not None else JournalEntry.lease_token.is_(None)
    done = session.execute(
        update(JournalEntry)
        .where(JournalEntry.id == entry_id, JournalEntry.status == Outcome.RECEIVED, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(done) == 1


def claim_delivery(session: Session, entry_id: int, delivery: Delivery, *, now: datetime) -> bool:
    """Settle how a finished row's reply reaches the resident; only the first claim wins."""
    claimed = session.execute(
        update(JournalEntry)
        .where(
            JournalEntry.id == entry_id,
            JournalEntry.status != Outcome.RECEIVED,
            JournalEntry.delivery.is_(None),
        )
        .values(delivery=delivery, delivered_at=now, delivery_attempts=JournalEntry.delivery_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(claimed) == 1


def settle_delivery(
    session: Session,
    entry_id: int,
    delivery: Delivery,
    *,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record the result of a customer-service send claimed with ``Delivery.SENDING``.

    With ``retry_at`` (45047, over quota; WeChat unreachable) the row goes back to unclaimed and is
    tried again then.
    """
    values: dict[str, Any] = {"delivery": delivery, "delivered_at": now, "delivery_error": error}
    if retry_at is not None:
        values.update(delivery=None, next_delivery_at=retry_at)
    session.execute(
        update(JournalEntry)
        .where(JournalEntry.id == entry_id, JournalEntry.delivery == Delivery.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def by_key(session: Session, key: str) -> JournalEntry | None:
    query = select(JournalEntry).where(JournalEntry.dedupe_hash == key_hash(key))
    return session.scalars(query).one_or_none()


def earlier_unfinished(
    session: Session, *, entry_id: int, sender: str, sent_at: int, msg_id: int, now: datetime
) -> bool:
    """Whether one of the sender's earlier messages (WeChat's order) is still being handled."""
    earlier = (JournalEntry.sent_at < sent_at) | (
        (JournalEntry.sent_at == sent_at) & (JournalEntry.msg_id < msg_id)
    )
    query = (
        select(JournalEntry.id)
        .where(
            JournalEntry.sender == sender,
            JournalEntry.status == Outcome.RECEIVED,
            JournalEntry.id != entry_id,
            JournalEntry.lease_until > now,
            earlier,
        )
        .limit(1)
    )
    return session.scalars(query).first() is not None


def stuck(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Rows received but never finished whose lease ran out (a killed worker, a lost database)."""
    query = (
        select(JournalEntry.id)
        .where(
            JournalEntry.status == Outcome.RECEIVED,
            (JournalEntry.lease_until.is_(None)) | (JournalEntry.lease_until <= now),
        )
        .order_by(JournalEntry.sent_at, JournalEntry.msg_id, JournalEntry.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def undelivered(session: Session, *, finished_before: datetime, now: datetime, limit: int = 100) -> list[int]:
    """Finished rows whose reply no attempt took passively once WeChat stopped retrying."""
    query = (
        select(JournalEntry.id)
        .where(
            JournalEntry.status != Outcome.RECEIVED,
            JournalEntry.delivery.is_(None),
            JournalEntry.received_at <= finished_before,
            (JournalEntry.next_delivery_at.is_(None)) | (JournalEntry.next_delivery_at <= now),
        )
        .order_by(JournalEntry.id)
        .limit(limit)
    )
    return list(session.scalars(query))


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

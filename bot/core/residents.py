"""Residents (followers) of the account: who follows, since when, when last seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base


class Resident(Base):
    __tablename__ = "residents"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(default=False)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    subscribed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]


def get_or_create(session: Session, openid: str) -> Resident:
    """The resident's row, created if absent; safe when two transactions create it at once (the
    loser's savepoint rolls back and it reads the winner's row)."""
    resident = session.get(Resident, openid)
    if resident is not None:
        return resident
    now = utcnow()
    try:
        with session.begin_nested():
            resident = Resident(openid=openid, subscribed=False, first_seen_at=now, last_seen_at=now)
            session.add(resident)
    except IntegrityError:
        found = session.get(Resident, openid, populate_existing=True)
        if found is None:
            raise
        return found
    return resident


def take_turn(session: Session, openid: str) -> Resident:
    """Hold the resident's turn until the session's transaction ends: one message at a time.

    On PostgreSQL a row lock (``SELECT ... FOR UPDATE``) on the resident, so two workers or
    machines handling messages of the same resident take turns while other residents are not
    slowed; on SQLite every write transaction already begins IMMEDIATE and holds the database's
    single write lock. Whatever the turn reads afterwards (the conversation) is current.
    """
    resident = session.get(Resident, openid, with_for_update=True, populate_existing=True)
    if resident is not None:
        return resident
    get_or_create(session, openid)  # a first message: the insert's unique key serialises creators
    session.flush()
    resident = session.get(Resident, openid, with_for_update=True, populate_existing=True)
    if resident is None:  # pragma: no cover - created above in this transaction
        raise LookupError(openid)
    return resident


def touch(session: Session, openid: str, *, by_message: bool) -> Resident:
    """Record activity; ``by_message`` marks a resident-initiated message (opens the 48 h window)."""
    resident = get_or_create(session, openid)
    now = utcnow()
    resident.last_seen_at = now
    if by_message:
        resident.last_message_at = now
    return resident


def subscribe(session: Session, openid: str) -> Resident:
    resident = get_or_create(session, openid)
    resident.subscribed = True
    resident.subscribed_at = utcnow()
    return resident


def unsubscribe(session: Session, openid: str) -> Resident:
    resident = get_or_create(session, openid)
    resident.subscribed = False
    resident.unsubscribed_at = utcnow()
    return resident


def followers(session: Session) -> list[str]:
    return list(session.scalars(select(Resident.openid).where(Resident.subscribed.is_(True))))

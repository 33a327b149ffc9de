"""What the mini-program API keeps in the database: the Idempotency-Key of each created report.

The unique (openid, key) pair makes a retried upload create one report even when the store has
forgotten the key, or two retries race past it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base


class IdempotencyKey(Base):
    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("openid", "key", name="uq_api_idempotency_keys_openid_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    # SHA-256 of what the request asked for: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def find_key(session: Session, openid: str, key: str) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(IdempotencyKey.openid == openid, IdempotencyKey.key == key)
    return session.scalars(query).one_or_none()

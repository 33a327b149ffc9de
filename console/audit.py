"""The console's audit log: who did what to which target, from where, and when.

Append-only: rows are written in the same unit of work as the action they record, and nothing in
the code updates or deletes them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base
from console.paging import Page, paginate


class AuditEntry(Base):
    __tablename__ = "console_audit"
    __table_args__ = (
        Index("ix_console_audit_at", "at"),
        Index("ix_console_audit_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The acting staff member; None for an anonymous act such as a failed login.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # The username as typed or held at the time, kept even when the account changes.
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")

    @property
    def detail_data(self) -> dict[str, Any]:
        return json.loads(self.detail) if self.detail else {}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    staff_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=utcnow(),
        staff_id=staff_id,
        actor=actor[:64],
        action=action,
        target=target[:128],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else "",
        ip=ip[:64],
    )
    session.add(entry)
    session.flush()
    return entry


# The act that disables a staff account; sessions begun before it stay void after re-enabling.
STAFF_DISABLE = "staff.disable"


def search(
    session: Session,
    *,
    actor: str = "",
    action: str = "",
    target: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEntry]:
    """Newest first, filtered by exact actor, action prefix and target."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if target:
        query = query.where(AuditEntry.target == target)
    return paginate(session, query, page=page, per_page=per_page, order_by=(AuditEntry.id.desc(),))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))

"""Tables of 有问必答: cases, their threads, the outbox of answers, the calendar, the duty roster,
canned replies and the per-day number counter.

A thread is append-only in meaning: resident messages, staff replies, internal notes, delivery
attempts and system events are rows of ``case_messages``, never deleted (a flagged message stays).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.core.clock import utcnow
from bot.core.database import Base


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # received, nobody assigned yet
    ASSIGNED = "assigned"  # a department or a person has it
    ANSWERED = "answered"  # a staff reply went out (or is going out)
    CLOSED = "closed"  # done; the resident was asked for satisfaction
    CONVERTED = "converted"  # turned into a 文明随手拍 report


# Waiting for an answer: the queue's default, and the only statuses that can be overdue.
WAITING: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.ASSIGNED)
# A resident's further messages may join these.
JOINABLE: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.ASSIGNED, CaseStatus.ANSWERED)


class Topic(enum.StrEnum):
    """What the resident called it (the prefix 留言 / 咨询 / 投诉 / 建议), or a plain message."""

    MESSAGE = "message"  # 留言, or no prefix
    QUESTION = "question"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议


class EntryKind(enum.StrEnum):
    RESIDENT = "resident"  # a message of the resident (text, voice, image, link, location)
    REPLY = "reply"  # a staff reply to the resident
    NOTE = "note"  # an internal note, never sent
    DELIVERY = "delivery"  # one attempt to deliver a reply, and its outcome
    EVENT = "event"  # assignment, escalation, closing, rating, conversion...


class Rating(enum.StrEnum):
    SATISFIED = "satisfied"  # 满意
    FAIR = "fair"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the allowed attempts
    UNDELIVERABLE = "undeliverable"  # outside the window and no template configured


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_received", "status", "received_at"),
        Index("ix_cases_openid_received", "openid", "received_at"),
        Index("ix_cases_department_status", "department", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    topic: Mapped[Topic] = mapped_column(_enum(Topic), default=Topic.MESSAGE)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), default=CaseStatus.OPEN)
    department: Mapped[str] = mapped_column(String(32), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The first words of the first message, for lists.
    subject: Mapped[str] = mapped_column(String(120), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The resident's latest message on this case (joining is measured from it).
    last_resident_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    # 0: not escalated; 1: the section chief was told; 2: the 分管领导 was told.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None]
    second_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Asked for satisfaction (on closing) and not yet answered.
    rating_requested_at: Mapped[datetime | None]
    rating: Mapped[Rating | None] = mapped_column(_enum(Rating))
    rated_at: Mapped[datetime | None]
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    # Watch (值班监看): a message of this case hit the lexicon.
    flagged: Mapped[bool] = mapped_column(default=False)
    outside_hours: Mapped[bool] = mapped_column(default=False)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    public: Mapped[bool] = mapped_column(default=False)
    public_title: Mapped[str] = mapped_column(String(120), default="")

    entries: Mapped[list[CaseMessage]] = relationship(
        back_populates="case", order_by="CaseMessage.id", cascade="all, delete-orphan"
    )


class CaseMessage(Base):
    """One entry of a case's thread, in order."""

    __tablename__ = "case_messages"
    __table_args__ = (Index("ix_case_messages_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind))
    # For resident entries the WeChat MsgType (text, voice, image, link, location); for events the
    # event code (assign, escalate, close, rate, reopen, convert, public, flag, duty_alert).
    msg_type: Mapped[str] = mapped_column(String(16), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[str] = mapped_column(String(128), default="")
    pic_url: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # The staff member who wrote it (reply, note, event), or None for the resident and the system.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(64), default="")
    # Screening hits (terms and categories) of a resident message; never deleted, only flagged.
    flagged: Mapped[bool] = mapped_column(default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="entries")


class CaseDelivery(Base):
    """Outbox of messages to residents about a case (replies, the satisfaction question)."""

    __tablename__ = "case_deliveries"
    __table_args__ = (
        Index("ix_case_deliveries_status_next", "status", "next_attempt_at"),
        Index("ix_case_deliveries_openid_sent", "openid", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The reply entry it delivers (None for the satisfaction question).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("case_messages.id"))
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # reply | rating | staff
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    channel: Mapped[str | None] = mapped_column(String(16))  # text | template
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class CaseCounter(Base):
    """Last case number handed out per local day."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDay(Base):
    """A day an admin marked a holiday or a working day, overriding the package's calendar."""

    __tablename__ = "case_calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DutyShift(Base):
    """值班: a staff member on duty from ``starts_at`` to ``ends_at``."""

    __tablename__ = "case_duty_shifts"
    __table_args__ = (Index("ix_case_duty_shifts_span", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """常用回复: a reply text admins keep for staff to start from."""

    __tablename__ = "case_canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

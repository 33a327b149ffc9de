"""Tables of 文明随手拍: categories, reports, photos, the rewards ledger, payouts; each report's history.

The ledger is append-only: rows are added, never changed or deleted (the ORM refuses it). A balance
is a sum of ledger rows; undoing is a counter-entry. A report's history is its part of the one audit
trail (``bot.core.audit``), which is append-only too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bot.core import audit
from bot.core.audit import AuditEntry
from bot.core.clock import utcnow
from bot.core.database import Base


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class ReportStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Statuses still waiting for a reviewer's decision: the queue, and the only ones that can be overdue.
# (A revoked acceptance goes back under review, so it is open again.)
OPEN: tuple[ReportStatus, ...] = (ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW)

# Statuses a later report can duplicate (an incident still open, or accepted and rewarded).
OPEN_OR_ACCEPTED: tuple[ReportStatus, ...] = (
    ReportStatus.SUBMITTED,
    ReportStatus.UNDER_REVIEW,
    ReportStatus.ACCEPTED,
)


class Source(enum.StrEnum):
    CHAT = "chat"
    MINIPROGRAM = "miniprogram"


class RejectReason(enum.StrEnum):
    """Closed vocabulary of rejections; each has a sentence for the resident in texts.toml."""

    NOT_A_VIOLATION = "not_a_violation"
    UNCLEAR_PHOTO = "unclear_photo"
    WRONG_LOCATION = "wrong_location"
    OUTSIDE_AREA = "outside_area"
    INSUFFICIENT_INFO = "insufficient_info"
    OLD_PHOTO = "old_photo"
    FALSE_REPORT = "false_report"
    ALREADY_HANDLED = "already_handled"


class PhotoStatus(enum.StrEnum):
    PENDING = "pending"  # recorded, not yet downloaded
    RETRYING = "retrying"  # a download failed; next_attempt_at says when to try again
    STORED = "stored"  # original and derivative written
    FAILED = "failed"  # gave up after the allowed attempts
    EXPIRED = "expired"  # the media's 3-day validity passed before a download succeeded
    INVALID = "invalid"  # downloaded, but not an acceptable image


class LedgerKind(enum.StrEnum):
    EARN = "earn"
    REVERSE = "reverse"
    PAYOUT = "payout"


class BatchStatus(enum.StrEnum):
    CREATED = "created"
    CONFIRMED = "confirmed"


class LineStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the allowed attempts
    UNDELIVERABLE = "undeliverable"  # outside the window and no template configured


class Category(Base):
    __tablename__ = "report_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    review_hours: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_category_created", "category_id", "created_at"),
        Index("ix_reports_status_created", "status", "created_at"),
        Index("ix_reports_openid_created", "openid", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id"))
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.SUBMITTED)
    source: Mapped[Source] = mapped_column(_enum(Source), default=Source.CHAT)
    # Canonical position, WGS-84; the point as given is kept with its datum.
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    given_datum: Mapped[str] = mapped_column(String(8))
    given_lat: Mapped[float] = mapped_column(Float)
    given_lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    review_due_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    reason_code: Mapped[str | None] = mapped_column(String(32))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    # Suggestions for the reviewer: [{"report_id", "number", "reasons", "distance_m", "hamming"}].
    duplicate_candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # How many times the report has been accepted; keys the ledger's one-earning-per-acceptance rule.
    acceptances: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[Category] = relationship()
    photos: Mapped[list[Photo]] = relationship(
        back_populates="report", order_by="Photo.position", cascade="all, delete-orphan"
    )


class Photo(Base):
    __tablename__ = "report_photos"
    __table_args__ = (
        UniqueConstraint("report_id", "media_id", name="uq_report_photos_report_media"),
        Index("ix_report_photos_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    media_id: Mapped[str] = mapped_column(String(128))
    pic_url: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[PhotoStatus] = mapped_column(_enum(PhotoStatus), default=PhotoStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    original_key: Mapped[str | None] = mapped_column(String(255))
    derivative_key: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    phash: Mapped[str | None] = mapped_column(String(16))
    content_type: Mapped[str | None] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    exif_taken_at: Mapped[datetime | None]
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_too_old: Mapped[bool] = mapped_column(default=False)

    report: Mapped[Report] = relationship(back_populates="photos")

    @property
    def ready(self) -> bool:
        """Its stripped derivative is stored: staff can see it."""
        return self.status == PhotoStatus.STORED and bool(self.derivative_key)


class PayoutBatch(Base):
    __tablename__ = "payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.CREATED)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    total_points: Mapped[int] = mapped_column(Integer, default=0)
    line_count: Mapped[int] = mapped_column(Integer, default=0)

    lines: Mapped[list[PayoutLine]] = relationship(back_populates="batch", order_by="PayoutLine.id")


class LedgerEntry(Base):
    """Points earned (+), reversed (±) or paid out (-). Append-only; a balance is a sum.

    The unique (report, kind, acceptance) key makes an acceptance earn once and be reversed once,
    however many processes try at the same moment.
    """

    __tablename__ = "reward_ledger"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "acceptance", name="uq_reward_ledger_report_kind_acceptance"),
        Index("ix_reward_ledger_openid_created", "openid", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("payout_batches.id"))
    kind: Mapped[LedgerKind] = mapped_column(_enum(LedgerKind))
    points: Mapped[int] = mapped_column(Integer)
    # Points the category would have given but a cap withheld (recorded with reason daily_cap/monthly_cap).
    capped_points: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(32))
    acceptance: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayoutLine(Base):
    __tablename__ = "payout_lines"
    __table_args__ = (UniqueConstraint("batch_id", "openid", name="uq_payout_lines_batch_openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    openid: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(11))
    points: Mapped[int] = mapped_column(Integer)
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus), default=LineStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(String(255))
    payout_entry_id: Mapped[int] = mapped_column(ForeignKey("reward_ledger.id"))
    return_entry_id: Mapped[int | None] = mapped_column(ForeignKey("reward_ledger.id"))

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")


class PhoneBinding(Base):
    """A resident's mobile number for phone-credit payouts (mainland, 11 digits)."""

    __tablename__ = "phone_bindings"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(11))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Outbox of messages to residents (status changes, payouts); delivered by a job, retried."""

    __tablename__ = "report_notifications"
    __table_args__ = (Index("ix_report_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus), default=NotificationStatus.PENDING
    )
    channel: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class ReportCounter(Base):
    """Last report number handed out per local day."""

    __tablename__ = "report_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AppendOnlyError(Exception):
    """A ledger row was about to be changed or deleted."""


def _refuse(_mapper: Any, _connection: Any, target: Any) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


event.listen(LedgerEntry, "before_update", _refuse)
event.listen(LedgerEntry, "before_delete", _refuse)


# The overdue rule ----------------------------------------------------------------------------
# One rule, two forms that agree: a report is overdue when it still waits for a decision (OPEN) and
# its review deadline is before ``now``. Every list, count and flag of overdue reports uses these.


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for "overdue at ``now``", for queries on Report."""
    return and_(Report.status.in_(OPEN), Report.review_due_at < now)


def is_overdue(report: Report, now: datetime) -> bool:
    """Whether ``report`` is overdue at ``now`` (the same rule as ``overdue_condition``)."""
    return report.status in OPEN and report.review_due_at < now


# Named queries -------------------------------------------------------------------------------


def active_categories(session: Session) -> list[Category]:
    query = select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.id)
    return list(session.scalars(query))


def category_by_code(session: Session, code: str) -> Category | None:
    return session.scalars(select(Category).where(Category.code == code)).one_or_none()


def find_report(session: Session, ref: int | str) -> Report | None:
    """By id, or by public number (``SP20261127-0001``)."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return session.get(Report, int(ref))
    return session.scalars(select(Report).where(Report.number == ref.strip().upper())).one_or_none()


def reports_of(session: Session, openid: str, *, limit: int = 5) -> list[Report]:
    query = select(Report).where(Report.openid == openid).order_by(Report.id.desc()).limit(limit)
    return list(session.scalars(query))


# A report's history in the audit trail ---------------------------------------------------------

TARGET = "report"  # the audit trail's target kind for a report

# The audit trail's action code of each transition (and of the submission).
ACTIONS: dict[str, str] = {
    "submit": "report.submit",
    "start_review": "report.review",
    "accept": "report.accept",
    "reject": "report.reject",
    "mark_duplicate": "report.duplicate",
    "resolve": "report.resolve",
    "close": "report.close",
    "revoke_acceptance": "report.revoke",
}


@dataclass(frozen=True)
class Step:
    """One act on a report, read from the audit trail: who, in which role, through which channel,
    from which status to which, why, when."""

    id: int
    report_id: int
    actor: str
    role: str
    channel: str
    from_status: str | None
    to_status: str
    reason_code: str | None
    comment: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> Step:
        details = entry.details or {}
        return cls(
            id=entry.id,
            report_id=entry.target_id or 0,
            actor=entry.actor,
            role=str(details.get("role", "")),
            channel=str(entry.channel),
            from_status=details.get("from"),
            to_status=str(details.get("to", "")),
            reason_code=details.get("reason"),
            comment=details.get("comment"),
            created_at=entry.at,
        )


def audit_of(session: Session, report_id: int) -> list[Step]:
    """The report's history, oldest first."""
    return [Step.of(entry) for entry in audit.of_target(session, TARGET, report_id)]


def list_reports(
    session: Session,
    *,
    statuses: tuple[ReportStatus, ...] | None = None,
    overdue_at: datetime | None = None,
    limit: int = 50,
) -> list[Report]:
    """Oldest first, as a review queue reads; ``overdue_at`` keeps those overdue at that instant."""
    query = select(Report).order_by(Report.created_at, Report.id).limit(limit)
    if statuses:
        query = query.where(Report.status.in_(statuses))
    if overdue_at is not None:
        query = query.where(overdue_condition(overdue_at))
    return list(session.scalars(query))

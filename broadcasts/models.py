"""Broadcast drafts, their versions, review decisions, publications, covers; each draft's audit trail."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bot.core.audit import AuditEntry, of_target
from bot.core.audit import record as audit_trail_record
from bot.core.clock import utcnow
from bot.core.database import Base
from staff.models import Staff

# WeChat's limits for one article of a draft (draft/add), in characters.
TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
BODY_MAX = 20000


def _enum(cls: type[enum.Enum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Grade(enum.StrEnum):
    """How much responsibility an item carries; decides who signs it off in 复审."""

    GENERAL = "general"  # 一般
    IMPORTANT = "important"  # 重要
    MAJOR = "major"  # 重大

    @property
    def digit(self) -> str:
        return str(list(Grade).index(self) + 1)

    @classmethod
    def from_digit(cls, digit: str) -> Grade | None:
        return {grade.digit: grade for grade in cls}.get(digit.strip())


class DraftStatus(enum.StrEnum):
    DRAFTING = "drafting"  # being written; only its author sees it
    FIRST_REVIEW = "first_review"  # 初审
    SECOND_REVIEW = "second_review"  # 复审
    FINAL_REVIEW = "final_review"  # 终审
    RETURNED = "returned"  # sent back to its author with a comment
    APPROVED = "approved"  # passed 终审, ready to publish
    PUBLISHED = "published"
    FAILED = "failed"  # WeChat reported the send or publish job as failed
    WITHDRAWN = "withdrawn"  # 撤稿
    DISCARDED = "discarded"


IN_REVIEW = frozenset({DraftStatus.FIRST_REVIEW, DraftStatus.SECOND_REVIEW, DraftStatus.FINAL_REVIEW})
WORKING = frozenset({DraftStatus.DRAFTING, DraftStatus.RETURNED})


class Stage(enum.StrEnum):
    FIRST = "first"  # 初审
    SECOND = "second"  # 复审
    FINAL = "final"  # 终审


STAGE_OF_STATUS: dict[DraftStatus, Stage] = {
    DraftStatus.FIRST_REVIEW: Stage.FIRST,
    DraftStatus.SECOND_REVIEW: Stage.SECOND,
    DraftStatus.FINAL_REVIEW: Stage.FINAL,
}


class SignOff(enum.StrEnum):
    """The 复审 sign-offs a grade requires."""

    SECTION = "section"  # 科室负责人
    DEPUTY = "deputy"  # 分管领导
    HEAD = "head"  # 主要领导


class Decision(enum.StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class PublicationKind(enum.StrEnum):
    MASS = "mass"  # message/mass/sendall: followers are notified; counts against the monthly quota
    PUBLISH = "publish"  # freepublish/submit: on the account's page only, no notification, no quota


class PublicationStatus(enum.StrEnum):
    PENDING = "pending"  # created; WeChat has not accepted the job yet
    SENDING = "sending"  # WeChat accepted the job; waiting for the job-finish event
    SENT = "sent"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class Draft(Base):
    __tablename__ = "broadcast_drafts"
    __table_args__ = (Index("ix_broadcast_drafts_status_updated", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(64), default="")
    author: Mapped[str] = mapped_column(String(32), default="")
    digest: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # small markup, see broadcasts.markup
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade))
    status: Mapped[DraftStatus] = mapped_column(_enum(DraftStatus), default=DraftStatus.DRAFTING)
    version: Mapped[int] = mapped_column(Integer, default=0)  # the submitted version under review
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # A cover photo sent in the chat: WeChat's temporary media id (valid 3 days) and its picture URL.
    cover_media_id: Mapped[str | None] = mapped_column(String(128))
    cover_pic_url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    created_by: Mapped[Staff] = relationship(lazy="joined")
    cover: Mapped[Cover | None] = relationship(
        back_populates="draft", cascade="all, delete-orphan", uselist=False, lazy="select"
    )

    @property
    def has_cover(self) -> bool:
        return self.cover is not None or bool(self.cover_media_id)


class Cover(Base):
    """The cover image's bytes (uploaded in the console or fetched from WeChat) and its material id."""

    __tablename__ = "broadcast_covers"

    draft_id: Mapped[int] = mapped_column(ForeignKey("broadcast_drafts.id"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    material_id: Mapped[str | None] = mapped_column(String(128))  # permanent media id once uploaded
    material_url: Mapped[str | None] = mapped_column(String(1024))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    draft: Mapped[Draft] = relationship(back_populates="cover")


class DraftVersion(Base):
    """A frozen copy of each submitted or edited-in-review version."""

    __tablename__ = "broadcast_draft_versions"
    __table_args__ = (UniqueConstraint("draft_id", "version", name="uq_broadcast_draft_versions_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("broadcast_drafts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade))
    edited_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewDecision(Base):
    """One reviewer's decision on one version at one stage. Decisions on older versions are void."""

    __tablename__ = "broadcast_review_decisions"
    __table_args__ = (Index("ix_broadcast_review_decisions_draft_version", "draft_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("broadcast_drafts.id"))
    version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[Stage] = mapped_column(_enum(Stage))
    sign_off: Mapped[SignOff | None] = mapped_column(_enum(SignOff))
    decision: Mapped[Decision] = mapped_column(_enum(Decision))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    reviewer: Mapped[Staff] = relationship(lazy="joined")


class Publication(Base):
    """One mass send or publish job of one approved version."""

    __tablename__ = "broadcast_publications"
    __table_args__ = (Index("ix_broadcast_publications_kind_accepted", "kind", "accepted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("broadcast_drafts.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PublicationKind] = mapped_column(_enum(PublicationKind))
    status: Mapped[PublicationStatus] = mapped_column(
        _enum(PublicationStatus), default=PublicationStatus.PENDING
    )
    tag_id: Mapped[int | None] = mapped_column(Integer)  # None: every follower
    clientmsgid: Mapped[str] = mapped_column(String(64), unique=True)
    thumb_media_id: Mapped[str | None] = mapped_column(String(128))
    draft_media_id: Mapped[str | None] = mapped_column(String(128))  # the article in WeChat's draft box
    msg_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    msg_data_id: Mapped[int | None] = mapped_column(BigInteger)
    publish_id: Mapped[str | None] = mapped_column(String(64), index=True)
    article_id: Mapped[str | None] = mapped_column(String(128))
    article_url: Mapped[str | None] = mapped_column(String(1024))
    total_count: Mapped[int | None] = mapped_column(Integer)
    filter_count: Mapped[int | None] = mapped_column(Integer)
    sent_count: Mapped[int | None] = mapped_column(Integer)
    error_count: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]  # when WeChat accepted the job: counts against that month
    finished_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    draft: Mapped[Draft] = relationship(lazy="joined")


class RemoteId(Base):
    """Identifiers WeChat gave us that must be remembered: the staff tag id, the conditional menu id."""

    __tablename__ = "wechat_remote_ids"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


TARGET = "draft"  # the audit trail's target kind for a draft

# Acts on no draft, by the audit trail's action code.
OTHER_ACTIONS = {"menu_push": "menu.push", "staff_link": "staff.link_wechat"}


@dataclass(frozen=True)
class DraftStep:
    """One act on a draft, read from the audit trail. ``action`` is the act's short name
    (``approve``, ``publish``...); ``actor`` is None for WeChat or the system."""

    id: int
    draft_id: int | None
    version: int | None
    actor_id: int | None
    actor: Staff | None
    actor_name: str
    channel: str
    action: str
    comment: str
    details: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, session: Session, entry: AuditEntry) -> DraftStep:
        details = dict(entry.details or {})
        comment = str(details.pop("comment", "") or "")
        return cls(
            id=entry.id,
            draft_id=entry.target_id,
            version=entry.target_version,
            actor_id=entry.staff_id,
            actor=None if entry.staff_id is None else session.get(Staff, entry.staff_id),
            actor_name=entry.actor,
            channel=str(entry.channel),
            action=entry.action.removeprefix(f"{TARGET}."),
            comment=comment,
            details=details,
            created_at=entry.at,
        )


def audit(
    session: Session,
    action: str,
    *,
    actor: Staff | None,
    draft: Draft | None = None,
    comment: str = "",
    **details: Any,
) -> AuditEntry:
    """Write an act on ``draft`` (or on the account: the menu, the staff tag) to the audit trail."""
    if draft is not None and draft.id is None:
        session.flush()
    return audit_trail_record(
        session,
        f"{TARGET}.{action}" if draft is not None else OTHER_ACTIONS.get(action, f"broadcasts.{action}"),
        actor=None if actor is None else actor.username,
        staff_id=None if actor is None else actor.id,
        target_kind=TARGET if draft is not None else "",
        target_id=None if draft is None else draft.id,
        version=None if draft is None else draft.version,
        details={"comment": comment or None, **details},
    )


def audit_trail(
    session: Session, draft_id: int, *, action: str = "", version: int | None = None
) -> list[DraftStep]:
    """The draft's acts, oldest first; only ``action`` (a short name) and ``version`` when given."""
    steps = [DraftStep.of(session, e) for e in of_target(session, TARGET, draft_id, version=version)]
    return [step for step in steps if not action or step.action == action]


def remembered(session: Session, name: str) -> str | None:
    row = session.get(RemoteId, name)
    return None if row is None else row.value


def remember(session: Session, name: str, value: str) -> None:
    row = session.get(RemoteId, name)
    if row is None:
        session.add(RemoteId(name=name, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()

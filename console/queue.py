"""The review queue of 文明随手拍 reports, as the console reads it: filters, counts, the resident's
history under a pseudonym. Decisions themselves are ``reports.workflow``'s, as on the command line."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from bot.core.paging import Page, paginate
from reports.models import (
    OPEN,
    Category,
    LedgerEntry,
    Photo,
    Report,
    ReportStatus,
    Step,
    overdue_condition,
)
from reports.models import audit_of as reports_audit_of

PER_PAGE = 50


@dataclass(frozen=True)
class QueueFilter:
    """What the reviewer asked for; empty values mean "any". ``statuses`` empty: the open queue."""

    statuses: tuple[ReportStatus, ...] = OPEN
    category: str = ""
    start: date | None = None
    end: date | None = None  # inclusive, local days
    area: str = ""  # a part of the address, e.g. a district or street name
    overdue: bool = False

    def where(self, query: Select[Report], zone: ZoneInfo, now: datetime) -> Select[Report]:
        if self.statuses:
            query = query.where(Report.status.in_(self.statuses))
        if self.category:
            query = query.join(Category, Category.id == Report.category_id).where(
                Category.code == self.category
            )
        if self.start is not None:
            query = query.where(Report.created_at >= datetime.combine(self.start, time(), zone))
        if self.end is not None:
            query = query.where(
                Report.created_at < datetime.combine(self.end + timedelta(days=1), time(), zone)
            )
        if self.area:
            query = query.where(Report.address.contains(self.area, autoescape=True))
        if self.overdue:
            query = query.where(overdue_condition(now))
        return query


def search(
    session: Session,
    wanted: QueueFilter,
    *,
    zone: ZoneInfo,
    now: datetime,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Report]:
    """Matching reports, oldest first (the order a queue is worked in)."""
    query = wanted.where(select(Report), zone, now).options(
        selectinload(Report.category), selectinload(Report.photos)
    )
    return paginate(session, query, page=page, per_page=per_page, order_by=(Report.created_at, Report.id))


@dataclass(frozen=True)
class QueueCounts:
    by_status: dict[ReportStatus, int]
    overdue: int
    # Open reports per category (code -> (name, count)), in the categories' order.
    open_by_category: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def open(self) -> int:
        return sum(self.by_status.get(status, 0) for status in OPEN)


def counts(session: Session, *, now: datetime) -> QueueCounts:
    by_status = {
        ReportStatus(status): int(count)
        for status, count in session.execute(select(Report.status, func.count()).group_by(Report.status))
    }
    overdue = session.scalar(select(func.count()).where(overdue_condition(now)).select_from(Report))
    per_category = session.execute(
        select(Category.code, Category.name, func.count(Report.id))
        .join(Report, (Report.category_id == Category.id) & Report.status.in_(OPEN), isouter=True)
        .group_by(Category.id, Category.code, Category.name, Category.position)
        .order_by(Category.position, Category.id)
    )
    return QueueCounts(
        by_status, int(overdue or 0), [(code, name, int(count)) for code, name, count in per_category]
    )


def pseudonym(openid: str, secret: str) -> str:
    """A stable short name for a resident that reveals nothing of the openid."""
    digest = hmac.new(secret.encode("utf-8"), openid.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"居民-{digest[:8].upper()}"


@dataclass(frozen=True)
class History:
    total: int
    by_status: dict[ReportStatus, int]
    recent: list[Report]
    balance: int


def resident_history(session: Session, report: Report, *, limit: int = 10) -> History:
    """The reporter's other reports (newest first) and their standing, without their identity."""
    by_status = {
        ReportStatus(status): int(count)
        for status, count in session.execute(
            select(Report.status, func.count()).where(Report.openid == report.openid).group_by(Report.status)
        )
    }
    recent = session.scalars(
        select(Report)
        .options(selectinload(Report.category))
        .where(Report.openid == report.openid, Report.id != report.id)
        .order_by(Report.id.desc())
        .limit(limit)
    )
    balance = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.openid == report.openid)
    )
    return History(sum(by_status.values()), by_status, list(recent), int(balance or 0))


def ledger_of(session: Session, report_id: int) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.report_id == report_id).order_by(LedgerEntry.id)
        )
    )


def audit_of(session: Session, report_id: int) -> list[Step]:
    """The report's history, read from the one audit trail."""
    return reports_audit_of(session, report_id)


def load(session: Session, report_ids: list[int]) -> dict[int, Report]:
    """Reports with their category and photos, by id (for duplicate candidates side by side)."""
    if not report_ids:
        return {}
    rows = session.scalars(
        select(Report)
        .options(selectinload(Report.category), selectinload(Report.photos))
        .where(Report.id.in_(report_ids))
    )
    return {report.id: report for report in rows}


def neighbours(session: Session, report: Report) -> tuple[int | None, int | None]:
    """The previous and next open reports in queue order (oldest first), for moving through it."""
    key = tuple_(Report.created_at, Report.id)
    here = tuple_(report.created_at, report.id)
    before = session.scalar(
        select(Report.id)
        .where(Report.status.in_(OPEN), key < here)
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )
    after = session.scalar(
        select(Report.id)
        .where(Report.status.in_(OPEN), key > here)
        .order_by(Report.created_at, Report.id)
        .limit(1)
    )
    return before, after


def shown_photos(report: Report) -> list[Photo]:
    """Photos whose stripped derivative is stored (the only form staff ever see)."""
    return [photo for photo in report.photos if photo.ready]

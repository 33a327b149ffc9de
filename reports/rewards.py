"""The rewards ledger: points earned by accepted reports, capped, reversible, paid out in batches.

Rows are appended, never changed. A balance is a sum. An acceptance earns once whatever happens
concurrently: the unique (report, kind, acceptance) key refuses a second row and the loser reads the
winner's. Caps (per resident per local day and month) count points granted; what a cap withholds is
recorded on the entry (``capped_points``, reason ``daily_cap`` or ``monthly_cap``). Undoing an
acceptance appends a reversing entry. A payout batch takes each due balance of a resident with a
bound phone as a negative ``payout`` entry; when the batch is confirmed, failed lines get a
reversing entry, so their points are due again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.clock import utcnow
from bot.core.errors import Codes
from bot.core.residents import Resident, get_or_create
from bot.core.texts import Texts
from reports import notify
from reports.errors import ReportsError
from reports.models import (
    BatchStatus,
    LedgerEntry,
    LedgerKind,
    LineStatus,
    PayoutBatch,
    PayoutLine,
    PhoneBinding,
    Report,
)
from reports.phones import mask
from reports.roles import Actor, PermissionDeniedError
from reports.settings import ReportsSettings
from staff.roles import Permission


class PayoutError(ReportsError):
    """A payout batch cannot be created, exported or confirmed as asked."""

    codes: ClassVar[Codes] = {
        "no_batch": ("id",),
        "batch_not_open": ("id",),
        "unknown_lines": ("id", "lines"),
    }


# Ledger -------------------------------------------------------------------------------------


def period_starts(now: datetime, timezone: str) -> tuple[datetime, datetime]:
    """Start of the local day and of the local month containing ``now``, as aware datetimes."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def earned_since(session: Session, openid: str, since: datetime) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.openid == openid,
        LedgerEntry.kind == LedgerKind.EARN,
        LedgerEntry.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def lock_resident(session: Session, openid: str) -> None:
    """Serialise ledger decisions per resident (row lock on PostgreSQL; SQLite serialises writers)."""
    locked = session.execute(
        select(Resident.openid).where(Resident.openid == openid).with_for_update()
    ).scalar_one_or_none()
    if locked is None:
        get_or_create(session, openid)
        session.flush()


def _earning(session: Session, report_id: int, acceptance: int, kind: LedgerKind) -> LedgerEntry | None:
    query = select(LedgerEntry).where(
        LedgerEntry.report_id == report_id, LedgerEntry.kind == kind, LedgerEntry.acceptance == acceptance
    )
    return session.scalars(query).one_or_none()


def _insert_once(session: Session, entry: LedgerEntry) -> LedgerEntry:
    """Insert, or return the row that won the (report, kind, acceptance) key."""
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
        return entry
    except IntegrityError:
        if entry.report_id is None or entry.acceptance is None:
            raise
        winner = _earning(session, entry.report_id, entry.acceptance, entry.kind)
        if winner is None:
            raise
        return winner


def award(
    session: Session, report: Report, actor: Actor, *, settings: ReportsSettings, now: datetime | None = None
) -> LedgerEntry:
    """The earning of the report's current acceptance, created once, within the caps."""
    now = now or utcnow()
    existing = _earning(session, report.id, report.acceptances, LedgerKind.EARN)
    if existing is not None:
        return existing
    lock_resident(session, report.openid)
    points = report.category.points
    granted, reason = points, None
    day_start, month_start = period_starts(now, settings.timezone)
    if settings.daily_points_cap:
        room = max(0, settings.daily_points_cap - earned_since(session, report.openid, day_start))
        if room < granted:
            granted, reason = room, "daily_cap"
    if settings.monthly_points_cap:
        room = max(0, settings.monthly_points_cap - earned_since(session, report.openid, month_start))
        if room < granted:
            granted, reason = room, "monthly_cap"
    entry = LedgerEntry(
        openid=report.openid,
        report_id=report.id,
        kind=LedgerKind.EARN,
        points=granted,
        capped_points=points - granted,
        reason=reason,
        acceptance=report.acceptances,
        actor=actor.name,
        created_at=now,
    )
    return _insert_once(session, entry)


def reverse_award(
    session: Session, report: Report, actor: Actor, *, now: datetime | None = None
) -> LedgerEntry | None:
    """Counter-entry for the earning of the report's current acceptance (once)."""
    now = now or utcnow()
    earning = _earning(session, report.id, report.acceptances, LedgerKind.EARN)
    if earning is None:
        return None
    entry = LedgerEntry(
        openid=report.openid,
        report_id=report.id,
        kind=LedgerKind.REVERSE,
        points=-earning.points,
        reason="acceptance_revoked",
        acceptance=report.acceptances,
        actor=actor.name,
        created_at=now,
    )
    return _insert_once(session, entry)


def label_key(entry: LedgerEntry) -> str:
    """The catalogue key of the entry's label for residents (``reports.ledger.*``)."""
    if entry.kind == LedgerKind.EARN and entry.capped_points:
        return "reports.ledger.capped"
    if entry.kind == LedgerKind.REVERSE and entry.reason == "payout_failed":
        return "reports.ledger.payout_failed"
    return f"reports.ledger.{entry.kind}"


def balance(session: Session, openid: str) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.openid == openid)
    return int(session.scalar(query) or 0)


def recent_entries(session: Session, openid: str, *, limit: int = 5) -> list[LedgerEntry]:
    query = (
        select(LedgerEntry).where(LedgerEntry.openid == openid).order_by(LedgerEntry.id.desc()).limit(limit)
    )
    return list(session.scalars(query))


# Payouts ------------------------------------------------------------------------------------


def due_balances(session: Session, *, min_points: int = 1) -> list[tuple[str, int, str]]:
    """(openid, balance, phone) of residents with a bound phone and at least ``min_points`` due."""
    total = func.sum(LedgerEntry.points)
    query = (
        select(LedgerEntry.openid, total, PhoneBinding.phone)
        .join(PhoneBinding, PhoneBinding.openid == LedgerEntry.openid)
        .group_by(LedgerEntry.openid, PhoneBinding.phone)
        .having(total >= min_points)
        .order_by(LedgerEntry.openid)
    )
    return [(openid, int(points), phone) for openid, points, phone in session.execute(query)]


def create_payout_batch(
    session: Session, actor: Actor, *, settings: ReportsSettings, now: datetime | None = None
) -> PayoutBatch | None:
    """A batch over every due balance (residents with a bound phone); None when nothing is due."""
    actor.require(Permission.REWARDS_PAYOUT, "create a payout batch")
    now = now or utcnow()
    due = due_balances(session, min_points=settings.payout_min_points)
    if not due:
        return None
    batch = PayoutBatch(status=BatchStatus.CREATED, created_by=actor.name, created_at=now)
    session.add(batch)
    session.flush()
    for openid, _points, phone in due:
        lock_resident(session, openid)
        points = balance(session, openid)  # again, under the lock: a concurrent batch may have taken it
        if points < settings.payout_min_points:
            continue
        entry = LedgerEntry(
            openid=openid,
            batch_id=batch.id,
            kind=LedgerKind.PAYOUT,
            points=-points,
            reason="payout",
            actor=actor.name,
            created_at=now,
        )
        session.add(entry)
        session.flush()
        session.add(
            PayoutLine(batch_id=batch.id, openid=openid, phone=phone, points=points, payout_entry_id=entry.id)
        )
        batch.total_points += points
        batch.line_count += 1
    if batch.line_count == 0:
        session.delete(batch)
        session.flush()
        return None
    session.flush()
    _audit(session, "rewards.batch", actor, batch.id, now, lines=batch.line_count, points=batch.total_points)
    return batch


BATCH = "payout_batch"  # the audit trail's target kind for a payout batch


def _audit(
    session: Session, action: str, actor: Actor, batch_id: int, now: datetime | None, **details: object
) -> None:
    audit.record(
        session,
        action,
        actor=actor.name,
        staff_id=actor.staff_id,
        target=f"batch {batch_id}",
        target_kind=BATCH,
        target_id=batch_id,
        details={"role": actor.role, **details},
        at=now,
    )


# The export's columns; their headings are ``reports.payout_csv.<column>``, a line's status
# ``reports.payout_line.<status>`` in the catalogue.
CSV_COLUMNS = ("batch", "line", "phone", "points", "amount", "status", "failure_reason")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # no formulas in spreadsheets


def export_csv(
    session: Session,
    batch_id: int,
    actor: Actor,
    *,
    settings: ReportsSettings,
    texts: Texts,
    now: datetime | None = None,
) -> bytes:
    """The batch as CSV, UTF-8 with BOM, headings and statuses in the catalogue's words. Full phone
    numbers for those who pay them (the permission ``rewards.phones.full``), masked for anyone else;
    never an openid."""
    actor.require(Permission.REWARDS_PAYOUT, "export a payout batch")
    batch = session.get(PayoutBatch, batch_id)
    if batch is None:
        raise PayoutError("no_batch", f"no payout batch {batch_id}", id=batch_id)
    full_phone = actor.can(Permission.REWARDS_FULL_PHONES)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([texts(f"reports.payout_csv.{column}") for column in CSV_COLUMNS])
    for line in batch.lines:
        amount = (Decimal(line.points) / settings.points_per_yuan).quantize(Decimal("0.01"))
        writer.writerow(
            [
                batch.id,
                line.id,
                line.phone if full_phone else mask(line.phone),
                line.points,
                f"{amount}",
                texts(f"reports.payout_line.{line.status}"),
                _cell(line.failure_reason),
            ]
        )
    batch.exported_at = now or utcnow()
    session.flush()
    _audit(session, "rewards.export", actor, batch.id, batch.exported_at)
    return out.getvalue().encode("utf-8-sig")


def confirm_batch(
    session: Session,
    batch_id: int,
    actor: Actor,
    *,
    settings: ReportsSettings,
    failed: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> PayoutBatch:
    """Mark every line paid, except ``failed`` (line id -> reason), whose points become due again."""
    actor.require(Permission.REWARDS_PAYOUT, "confirm a payout batch")
    now = now or utcnow()
    failed = dict(failed or {})
    batch = session.get(PayoutBatch, batch_id, with_for_update=True, populate_existing=True)
    if batch is None:
        raise PayoutError("no_batch", f"no payout batch {batch_id}", id=batch_id)
    if batch.status != BatchStatus.CREATED:
        raise PayoutError("batch_not_open", f"payout batch {batch_id} is already {batch.status}", id=batch_id)
    if settings.payout_four_eyes and actor.name == batch.created_by:
        raise PermissionDeniedError(
            "own_batch", "a payout batch must be confirmed by someone other than its creator"
        )
    unknown = set(failed) - {line.id for line in batch.lines}
    if unknown:
        raise PayoutError(
            "unknown_lines",
            f"lines {sorted(unknown)} are not in batch {batch_id}",
            id=batch_id,
            lines="、".join(str(line) for line in sorted(unknown)),
        )
    for line in batch.lines:
        paid = line.id not in failed
        if paid:
            line.status = LineStatus.PAID
        else:
            line.status = LineStatus.FAILED
            line.failure_reason = (failed[line.id] or "failed")[:255]
            back = LedgerEntry(
                openid=line.openid,
                batch_id=batch.id,
                kind=LedgerKind.REVERSE,
                points=line.points,
                reason="payout_failed",
                actor=actor.name,
                created_at=now,
            )
            session.add(back)
            session.flush()
            line.return_entry_id = back.id
        notify.payout_settled(
            session,
            openid=line.openid,
            batch_id=batch.id,
            points=line.points,
            phone_masked=mask(line.phone),
            paid=paid,
            now=now,
        )
    batch.status = BatchStatus.CONFIRMED
    batch.confirmed_by = actor.name
    batch.confirmed_at = now
    session.flush()
    _audit(session, "rewards.confirm", actor, batch.id, now, failed=sorted(failed) or None)
    return batch


@dataclass(frozen=True)
class BatchView:
    id: int
    status: str
    lines: int
    total_points: int
    created_by: str
    confirmed_by: str | None


def batches(session: Session, *, limit: int = 20) -> list[BatchView]:
    query = select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit)
    return [
        BatchView(b.id, str(b.status), b.line_count, b.total_points, b.created_by, b.confirmed_by)
        for b in session.scalars(query)
    ]

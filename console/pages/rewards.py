"""Rewards for the rewards officer: balances due, payout batches, CSV export, paid or failed.

Everything goes through ``reports.rewards``, as ``citybot rewards`` does. Phone numbers are shown
masked; only the CSV the officer pays from carries them in full.
"""

from __future__ import annotations

from enum import StrEnum

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.core import services
from bot.core.database import get_session
from console import access, queue
from console.access import requires
from console.refusals import explain
from reports import rewards
from reports.models import BatchStatus, LedgerEntry, LedgerKind, LineStatus, PayoutBatch, Report
from reports.phones import mask
from reports.roles import Actor, PermissionDeniedError, actor_for_staff
from reports.settings import ReportsSettings
from staff.roles import Permission

bp = Blueprint("rewards", __name__, url_prefix="/rewards")

# The ledger's reasons shown in the console (reports.ledger_reason.<reason> in the catalogue).
LEDGER_REASONS = ("daily_cap", "monthly_cap", "acceptance_revoked", "payout", "payout_failed")


def _labels(namespace: str, codes: type[StrEnum] | tuple[str, ...]) -> dict[str, str]:
    """Each code's words from ``namespace`` in the catalogue."""
    texts = services.texts()
    return {str(code): texts(f"{namespace}.{code}") for code in codes}


def _actor() -> Actor:
    try:
        return actor_for_staff(access.require_staff(), Permission.REWARDS_PAYOUT)
    except PermissionDeniedError:
        abort(403)


def _pseudonym(openid: str) -> str:
    return queue.pseudonym(openid, services.settings().secret_key)


def _recent_ledger(db: Session, limit: int = 30) -> list[tuple[LedgerEntry, str | None]]:
    rows = db.execute(
        select(LedgerEntry, Report.number)
        .join(Report, Report.id == LedgerEntry.report_id, isouter=True)
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return [(entry, number) for entry, number in rows]


@bp.get("/")
@requires(Permission.REWARDS_VIEW)
def index() -> ResponseReturnValue:
    db = get_session()
    settings = services.settings().section(ReportsSettings)
    due = rewards.due_balances(db, min_points=settings.payout_min_points)
    return render_template(
        "console/rewards.html",
        due=[(_pseudonym(openid), points, mask(phone)) for openid, points, phone in due],
        due_total=sum(points for _, points, _ in due),
        batches=rewards.batches(db, limit=50),
        ledger=_recent_ledger(db),
        pseudonym=_pseudonym,
        kind_labels=_labels("reports.ledger_kind", LedgerKind),
        reason_labels=_labels("reports.ledger_reason", LEDGER_REASONS),
        batch_labels=_labels("reports.payout_batch", BatchStatus),
        points_per_yuan=settings.points_per_yuan,
    )


@bp.post("/batches")
@requires(Permission.REWARDS_PAYOUT)
def create_batch() -> ResponseReturnValue:
    db = get_session()
    batch = rewards.create_payout_batch(db, _actor(), settings=services.settings().section(ReportsSettings))
    if batch is None:
        db.rollback()
        flash("目前没有可兑付的积分（须绑定手机号且达到最低兑付积分）。", "info")
        return redirect(url_for(".index"))
    db.commit()
    flash(f"已生成兑付批次 {batch.id}：{batch.line_count} 人，共 {batch.total_points} 积分。", "success")
    return redirect(url_for(".batch", batch_id=batch.id))


def _batch(db: Session, batch_id: int) -> PayoutBatch:
    found = db.scalars(
        select(PayoutBatch).options(selectinload(PayoutBatch.lines)).where(PayoutBatch.id == batch_id)
    ).one_or_none()
    if found is None:
        abort(404)
    return found


@bp.get("/batches/<int:batch_id>")
@requires(Permission.REWARDS_VIEW)
def batch(batch_id: int) -> ResponseReturnValue:
    db = get_session()
    found = _batch(db, batch_id)
    settings = services.settings().section(ReportsSettings)
    me = access.require_staff()
    return render_template(
        "console/rewards_batch.html",
        batch=found,
        lines=[(line, _pseudonym(line.openid), mask(line.phone)) for line in found.lines],
        line_labels=_labels("reports.payout_line", LineStatus),
        batch_labels=_labels("reports.payout_batch", BatchStatus),
        points_per_yuan=settings.points_per_yuan,
        four_eyes=settings.payout_four_eyes and found.created_by == me.username,
    )


@bp.post("/batches/<int:batch_id>/export")
@requires(Permission.REWARDS_PAYOUT)
def export(batch_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        data = rewards.export_csv(
            db,
            batch_id,
            _actor(),
            settings=services.settings().section(ReportsSettings),
            texts=services.texts(),
        )
    except rewards.PayoutError:
        abort(404)
    db.commit()
    response = Response(data, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="payout-batch-{batch_id}.csv"'
    return response


@bp.post("/batches/<int:batch_id>/confirm")
@requires(Permission.REWARDS_PAYOUT)
def confirm(batch_id: int) -> ResponseReturnValue:
    """Every line paid, except the ticked ones, which failed (their points become due again)."""
    db = get_session()
    if _batch(db, batch_id).status != "created":
        flash("该批次已确认，不能重复确认。", "error")
        return redirect(url_for(".batch", batch_id=batch_id))
    failed: dict[int, str] = {}
    for value in request.form.getlist("failed"):
        if value.isdigit():
            failed[int(value)] = (request.form.get(f"reason-{value}") or "发放失败").strip()[:255]
    try:
        done = rewards.confirm_batch(
            db, batch_id, _actor(), settings=services.settings().section(ReportsSettings), failed=failed
        )
    except PermissionDeniedError as exc:
        db.rollback()
        if exc.code != "own_batch":
            abort(403)
        flash(explain(exc), "error")
        return redirect(url_for(".batch", batch_id=batch_id))
    except rewards.PayoutError as exc:
        db.rollback()
        flash(explain(exc), "error")
        return redirect(url_for(".batch", batch_id=batch_id))
    db.commit()
    paid = done.line_count - len(failed)
    flash(f"批次 {batch_id} 已确认：{paid} 笔已发放，{len(failed)} 笔失败（积分已退回）。", "success")
    return redirect(url_for(".batch", batch_id=batch_id))

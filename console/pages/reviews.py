"""The review queue of 文明随手拍 reports: filters, counts, the report page, decisions, bulk decisions.

Decisions go through ``reports.workflow`` exactly as ``citybot report`` does: each names the status
the reviewer saw, so a report someone else decided in the meantime is refused, not decided twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import get_session
from bot.core.errors import DomainError
from bot.core.geo import Datum, GeoPoint
from console import access, localtime, queue
from console.access import requires
from console.refusals import explain
from geodata.links import amap_url, tencent_url
from geodata.settings import GeoSettings
from reports import workflow
from reports.models import (
    OPEN,
    Photo,
    RejectReason,
    Report,
    ReportStatus,
    active_categories,
    find_report,
    is_overdue,
)
from reports.roles import PermissionDeniedError, actor_for_staff
from reports.services import ReportsServices
from reports.settings import ReportsSettings
from staff.roles import Permission

bp = Blueprint("reviews", __name__, url_prefix="/reports")

REASON_LABELS: dict[str, str] = {
    RejectReason.NOT_A_VIOLATION: "不属于不文明行为",
    RejectReason.UNCLEAR_PHOTO: "照片不清晰",
    RejectReason.WRONG_LOCATION: "位置与照片不符",
    RejectReason.OUTSIDE_AREA: "不在管辖范围",
    RejectReason.INSUFFICIENT_INFO: "信息不完整",
    RejectReason.OLD_PHOTO: "照片拍摄时间过早",
    RejectReason.FALSE_REPORT: "与现场情况不符",
    RejectReason.ALREADY_HANDLED: "已在处理中",
}
CANDIDATE_REASONS = {"nearby": "位置相近", "same_photo": "同一照片", "similar_photo": "照片相似"}
ACTION_LABELS = {
    "review": "开始审核",
    "accept": "采纳",
    "reject": "不采纳",
    "duplicate": "标记重复",
    "resolve": "已处理",
    "close": "办结",
    "revoke": "撤销采纳",
}
BULK_ACTIONS = ("review", "accept", "reject", "resolve", "close")
STATUS_CHOICES = ("open", "all", *(status.value for status in ReportStatus))


def status_label(status: str) -> str:
    return services.texts()(f"reports.status.{status}")


def _filter_from(args: Any) -> tuple[queue.QueueFilter, dict[str, str], str]:
    """The queue filter from the query string, the raw values for the form, and an error to show."""
    raw = {key: args.get(key, "").strip()[:64] for key in ("status", "category", "start", "end", "area")}
    raw["overdue"] = "1" if args.get("overdue") else ""
    raw["status"] = raw["status"] or "open"
    error = ""
    statuses: tuple[ReportStatus, ...]
    if raw["status"] == "open":
        statuses = OPEN
    elif raw["status"] == "all":
        statuses = ()
    else:
        try:
            statuses = (ReportStatus(raw["status"]),)
        except ValueError:
            statuses, error = OPEN, "未知的状态。"
    days: list[date | None] = []
    for key in ("start", "end"):
        try:
            days.append(date.fromisoformat(raw[key]) if raw[key] else None)
        except ValueError:
            days.append(None)
            error = "日期格式应为 YYYY-MM-DD。"
    wanted = queue.QueueFilter(
        statuses=statuses,
        category=raw["category"],
        start=days[0],
        end=days[1],
        area=raw["area"],
        overdue=bool(raw["overdue"]),
    )
    return wanted, raw, error


@bp.get("/")
@requires(Permission.REPORTS_VIEW)
def index() -> ResponseReturnValue:
    db = get_session()
    now = utcnow()
    wanted, raw, error = _filter_from(request.args)
    page = request.args.get("page", "1")
    result = queue.search(db, wanted, zone=localtime.zone(), now=now, page=int(page) if page.isdigit() else 1)
    return render_template(
        "console/reviews_queue.html",
        result=result,
        counts=queue.counts(db, now=now),
        categories=active_categories(db),
        filters=raw,
        error=error,
        now=now,
        status_choices=STATUS_CHOICES,
        status_label=status_label,
        reasons=REASON_LABELS,
        bulk_actions=BULK_ACTIONS,
        action_labels=ACTION_LABELS,
        is_overdue=is_overdue,
    ), (400 if error else 200)


def _report(db: Session, report_id: int) -> Report:
    found = queue.load(db, [report_id]).get(report_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:report_id>")
@requires(Permission.REPORTS_VIEW)
def detail(report_id: int) -> ResponseReturnValue:
    db = get_session()
    report = _report(db, report_id)
    candidates = report.duplicate_candidates or []
    others = queue.load(db, [c["report_id"] for c in candidates])
    original = db.get(Report, report.duplicate_of_id) if report.duplicate_of_id else None
    previous_id, next_id = queue.neighbours(db, report)
    now = utcnow()
    unready = workflow.unready_photos(report)
    can_review = access.require_staff().can(Permission.REPORTS_REVIEW)
    # The acceptance of a report with photos not ready, asked again (the page's own decide form sent
    # it without the confirmation and was refused).
    confirming = (
        request.args.get("confirm") == "accept" and bool(unready) and can_review and report.status in OPEN
    )
    return render_template(
        "console/review_detail.html",
        report=report,
        photos=queue.shown_photos(report),
        candidates=[(c, others.get(c["report_id"])) for c in candidates],
        candidate_reasons=CANDIDATE_REASONS,
        original=original,
        history=queue.resident_history(db, report),
        resident=queue.pseudonym(report.openid, services.settings().secret_key),
        ledger=queue.ledger_of(db, report.id),
        trail=queue.audit_of(db, report.id),
        previous_id=previous_id,
        next_id=next_id,
        now=now,
        overdue=is_overdue(report, now),
        map_links=map_links(report),
        status_label=status_label,
        reasons=REASON_LABELS,
        resident_reasons={code: services.texts()(f"reports.reasons.{code}") for code in REASON_LABELS},
        action_labels=ACTION_LABELS,
        can_review=can_review,
        photo_problems=unready,
        confirming=confirming,
        confirm_comment=request.args.get("comment", "")[:500],
        confirm_then=request.args.get("then", ""),
        texts=services.texts(),
        photo_problem=photo_problem,
    )


def photo_problem(photo: Photo) -> str:
    """Why a photo cannot be shown yet, for the reviewer."""
    texts = services.texts()
    return texts(
        "console.reviews.photo_problem",
        position=photo.position + 1,
        status=texts(f"console.reviews.photo_status.{photo.status}"),
    )


def map_links(report: Report) -> dict[str, str]:
    """Links that open the place in a map app (they need the internet; the page itself does not)."""
    point = GeoPoint(report.lat, report.lon, Datum.WGS84)
    app = services.settings().section(GeoSettings).navigation_app
    return {
        "高德地图": amap_url(point, report.number, app=app),
        "腾讯地图": tencent_url(point, report.number, app=app),
        "OpenStreetMap": f"https://www.openstreetmap.org/?mlat={report.lat:.6f}&mlon={report.lon:.6f}"
        f"#map=18/{report.lat:.6f}/{report.lon:.6f}",
    }


@bp.get("/photos/<int:photo_id>")
@requires(Permission.REPORTS_VIEW)
def photo(photo_id: int) -> ResponseReturnValue:
    """A photo's stripped derivative (never the original, which keeps EXIF and GPS)."""
    found = get_session().get(Photo, photo_id)
    # shown_photos holds only photos with a derivative key (tested here too, which types it)
    if found is None or not found.derivative_key or found not in queue.shown_photos(found.report):
        abort(404)
    storage = services.of().get(ReportsServices).storage
    try:
        data = storage.get(found.derivative_key, public=True)
    except OSError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@dataclass(frozen=True)
class Outcome:
    number: str
    status: str


class RefusedError(Exception):
    """A decision that was not taken; the message is for the reviewer."""


class NeedsConfirmationError(RefusedError):
    """An acceptance of a report whose photos are not ready, sent without the confirmation."""


def _decide(db: Session, report_id: int, expected_text: str, action: str, form: Any) -> Outcome:
    """Take one decision; raise RefusedError with a message for the reviewer (the caller then rolls
    back). The caller commits each decision on its own: a later refusal never undoes an earlier one."""
    me = access.require_staff()
    try:
        actor = actor_for_staff(me, Permission.REPORTS_REVIEW)
        expected = ReportStatus(expected_text)
    except PermissionDeniedError:
        abort(403)
    except ValueError:
        raise RefusedError("页面数据无效，请刷新后重试。") from None
    settings = services.settings().section(ReportsSettings)
    comment = (form.get("comment") or "").strip()[:500] or None
    reason = form.get("reason") or ""
    try:
        if action == "accept":
            confirmed = form.get("confirm_photos") == "1"
            report = workflow.accept(
                db, report_id, actor, expected, settings=settings, comment=comment, photos_confirmed=confirmed
            )
        elif action == "reject":
            if reason not in REASON_LABELS:
                raise RefusedError("请选择不采纳的原因。")
            report = workflow.reject(db, report_id, actor, expected, reason, comment=comment)
        elif action == "duplicate":
            original = find_report(db, (form.get("original") or "").strip())
            if original is None:
                raise RefusedError("请填写或选择原举报的编号。")
            report = workflow.mark_duplicate(db, report_id, actor, expected, original.id, comment=comment)
        elif action == "review":
            report = workflow.start_review(db, report_id, actor, expected, comment=comment)
        elif action == "resolve":
            report = workflow.resolve(db, report_id, actor, expected, comment=comment)
        elif action == "close":
            report = workflow.close(db, report_id, actor, expected, comment=comment)
        elif action == "revoke":
            report = workflow.revoke_acceptance(db, report_id, actor, expected, comment=comment or "")
        else:
            raise RefusedError("未知的操作。")
    except workflow.PhotosNotReadyError as exc:
        raise NeedsConfirmationError(explain(exc)) from None
    except DomainError as exc:
        raise RefusedError(explain(exc)) from None
    # reports.workflow wrote the act to the audit trail (channel console, this request's address).
    return Outcome(report.number, str(report.status))


@bp.post("/<int:report_id>/decide")
@requires(Permission.REPORTS_REVIEW)
def decide(report_id: int) -> ResponseReturnValue:
    db = get_session()
    action = request.form.get("action", "")
    try:
        outcome = _decide(db, report_id, request.form.get("expected", ""), action, request.form)
    except NeedsConfirmationError as exc:
        db.rollback()  # nothing changed: the report page asks, and only its confirmation accepts
        flash(str(exc), "error")
        again: dict[str, Any] = {
            key: request.form[key] for key in ("comment", "then") if request.form.get(key)
        }
        return redirect(
            url_for(".detail", report_id=report_id, confirm="accept", _anchor="confirm-accept", **again)
        )
    except RefusedError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".detail", report_id=report_id))
    db.commit()
    done = ACTION_LABELS.get(action, action)
    flash(f"举报 {outcome.number}：{done}，当前状态：{status_label(outcome.status)}。", "success")
    if action in {"accept", "reject", "duplicate"} and request.form.get("then") == "next":
        next_id = request.form.get("next_id", "")
        if next_id.isdigit():
            return redirect(url_for(".detail", report_id=int(next_id)))
        return redirect(url_for(".index"))
    return redirect(url_for(".detail", report_id=report_id))


@bp.post("/bulk")
@requires(Permission.REPORTS_REVIEW)
def bulk() -> ResponseReturnValue:
    """One decision (and one reason) for every ticked report; each is checked on its own."""
    db = get_session()
    action = request.form.get("action", "")
    back = request.form.get("back", "")
    target = back if back.startswith("/console/reports/") else url_for(".index")
    if action not in BULK_ACTIONS:
        flash("请选择批量操作。", "error")
        return redirect(target)
    picked = request.form.getlist("pick")
    if not picked:
        flash("请先勾选举报。", "error")
        return redirect(target)
    done: list[str] = []
    refused: list[str] = []
    unconfirmed = False
    form = {key: value for key, value in request.form.items() if key != "confirm_photos"}  # never in bulk
    for item in picked[:200]:
        report_id, _, expected = item.partition(":")
        if not report_id.isdigit():
            continue
        try:
            done.append(_decide(db, int(report_id), expected, action, form).number)
        except RefusedError as exc:
            db.rollback()
            refused.append(str(exc))
            unconfirmed = unconfirmed or isinstance(exc, NeedsConfirmationError)
        else:
            db.commit()
    if done:
        flash(f"已对 {len(done)} 件举报执行“{ACTION_LABELS[action]}”：{'、'.join(done)}。", "success")
    for message in refused:
        flash(message, "error")
    if unconfirmed:
        flash(services.texts()("console.reviews.bulk_photos_not_ready"), "error")
    return redirect(target)

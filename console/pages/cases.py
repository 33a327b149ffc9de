"""有问必答 in the console: the inbox queue, the case page and its acts, canned replies, the duty
roster and the monthly figures as CSV.

Every act goes through ``cases.service`` exactly as ``citybot inbox`` does; the service checks the
permission again and writes the audit trail. Openids and phone numbers are shown through
``cases.service.shown_openid`` / ``shown_text`` (in full only with ``cases.contact``).
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import get_session
from bot.core.errors import DomainError
from bot.core.geo import Datum, GeoPoint
from bot.core.store import Store
from cases import delivery, service
from cases.models import WAITING, Case, CaseMessage, CaseStatus, EntryKind
from cases.service import QueueFilter
from cases.settings import CasesSettings
from console import access, localtime, stats
from console.access import requires
from console.refusals import explain
from geodata.links import amap_url, tencent_url
from geodata.settings import GeoSettings
from reports.models import active_categories
from reports.roles import Actor, PermissionDeniedError, actor_for_staff
from reports.services import ReportsServices
from reports.settings import ReportsSettings
from staff.models import Staff, by_username, with_permission
from staff.roles import Permission

bp = Blueprint("cases", __name__, url_prefix="/cases")

PAGE_SIZE = 50
STATUS_CHOICES = ("waiting", "all", *(status.value for status in CaseStatus))
# The case page's status acts: the permission each needs.
ACTIONS: dict[str, Permission] = {
    "answer": Permission.CASES_REPLY,
    "close": Permission.CASES_REPLY,
    "reopen": Permission.CASES_REPLY,
    "public": Permission.CASES_REPLY,
    "private": Permission.CASES_REPLY,
}


def _texts() -> Any:
    return services.texts()


def _settings() -> CasesSettings:
    return services.settings().section(CasesSettings)


def status_label(status: str) -> str:
    return str(_texts()(f"cases.status.{status}"))


def _actor(permission: Permission) -> Actor:
    try:
        return actor_for_staff(access.require_staff(), permission)
    except PermissionDeniedError:
        abort(403)


def _viewer() -> Actor:
    return _actor(Permission.CASES_VIEW)


def _filter_from(args: Any) -> tuple[QueueFilter, dict[str, str], str]:
    """The queue filter from the query string, the raw values for the form, and an error to show."""
    raw = {key: args.get(key, "").strip()[:64] for key in ("status", "department", "assignee", "words")}
    raw["overdue"] = "1" if args.get("overdue") else ""
    raw["flagged"] = "1" if args.get("flagged") else ""
    raw["status"] = raw["status"] or "waiting"
    error = ""
    statuses: tuple[CaseStatus, ...]
    if raw["status"] == "waiting":
        statuses = WAITING
    elif raw["status"] == "all":
        statuses = ()
    else:
        try:
            statuses = (CaseStatus(raw["status"]),)
        except ValueError:
            statuses, error = WAITING, _texts()("console.cases.bad_status")
    if raw["department"] and raw["department"] not in _settings().departments:
        raw["department"], error = "", _texts()("console.cases.bad_department")
    assignee = int(raw["assignee"]) if raw["assignee"].isdigit() else None
    if raw["assignee"] and assignee is None:
        raw["assignee"], error = "", _texts()("console.cases.bad_assignee")
    wanted = QueueFilter(
        statuses=statuses,
        department=raw["department"],
        assignee=assignee,
        overdue=bool(raw["overdue"]),
        words=raw["words"],
        flagged=bool(raw["flagged"]),
    )
    return wanted, raw, error


def _case_staff(db: Session) -> list[Staff]:
    """Who a case can be given to: active staff who may view cases."""
    return [m for m in with_permission(db, Permission.CASES_VIEW) if m.active]


def _staff_names(db: Session) -> dict[int, str]:
    return {m.id: m.display_name or m.username for m in db.scalars(select(Staff))}


@bp.get("/")
@requires(Permission.CASES_VIEW)
def index() -> ResponseReturnValue:
    db = get_session()
    now = utcnow()
    wanted, raw, error = _filter_from(request.args)
    page_arg = request.args.get("page", "1")
    page = max(1, int(page_arg)) if page_arg.isdigit() else 1
    total = len(service.queue(db, wanted, now=now, limit=100_000))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    items = service.queue(db, wanted, now=now, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    settings = _settings()
    viewer = _viewer()
    return render_template(
        "console/cases_queue.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        counts=service.counts(db, now=now),
        filters=raw,
        error=error,
        now=now,
        status_choices=STATUS_CHOICES,
        status_label=status_label,
        departments=settings.departments,
        department_name=lambda code: service.department_name(settings, code),
        staff=_case_staff(db),
        names=_staff_names(db),
        is_overdue=service.is_overdue,
        subject=lambda case: service.shown_text(case.subject, viewer),
        topic_label=lambda topic: _texts()(f"cases.topic.{topic}"),
    ), (400 if error else 200)


def _case(db: Session, case_id: int) -> Case:
    found = db.get(Case, case_id)
    if found is None:
        abort(404)
    return found


def describe(entry: CaseMessage, viewer: Actor) -> str:
    """What one thread entry says, as staff read it (phone numbers masked for those without
    ``cases.contact``)."""
    texts = _texts()
    if entry.kind is EntryKind.DELIVERY:
        return str(delivery.describe(entry, texts))
    if entry.kind is EntryKind.EVENT:
        details = entry.details or {}
        key = f"cases.events.{entry.msg_type}"
        if key not in texts:
            return entry.content
        values: dict[str, Any] = {
            "rating": texts(f"cases.rating.{details.get('rating')}")
            if f"cases.rating.{details.get('rating')}" in texts
            else "",
            "level": details.get("level", ""),
            "report": details.get("report", ""),
            "staff": "、".join(details.get("staff", []) if isinstance(details.get("staff"), list) else []),
        }
        said = str(texts(key, **values)) + _event_detail(entry)
        return " ".join(part for part in (said, service.shown_text(entry.content, viewer)) if part)
    return service.shown_text(entry.content, viewer) or str(texts("cases.chat.nothing"))


def _event_detail(entry: CaseMessage) -> str:
    """An assignment's department and person, in words."""
    if entry.msg_type != "assign":
        return ""
    details = entry.details or {}
    parts = []
    if "department" in details:
        parts.append(service.department_name(_settings(), str(details["department"])))
    if details.get("assignee"):
        member = by_username(get_session(), str(details["assignee"]))
        parts.append(member.display_name or member.username if member else str(details["assignee"]))
    elif "assignee" in details:
        parts.append(str(_texts()("cases.cli.nobody")))
    return "：" + "、".join(parts) if parts else ""


def map_links(entry: CaseMessage, number: str) -> dict[str, str]:
    """Links that open a location message's place in a map app (WeChat sends GCJ-02)."""
    if entry.lat is None or entry.lon is None:
        return {}
    point = GeoPoint(entry.lat, entry.lon, Datum.GCJ02)
    app = services.settings().section(GeoSettings).navigation_app
    name = entry.content or number
    return {
        str(_texts()("console.cases.map_amap")): amap_url(point, name, app=app),
        str(_texts()("console.cases.map_tencent")): tencent_url(point, name, app=app),
    }


def who(entry: CaseMessage, names: dict[int, str]) -> str:
    texts = _texts()
    if entry.kind is EntryKind.RESIDENT:
        return str(texts("cases.thread.resident"))
    if entry.staff_id is not None:
        return names.get(entry.staff_id, entry.actor)
    return str(texts("cases.thread.system"))


@bp.get("/<int:case_id>")
@requires(Permission.CASES_VIEW)
def detail(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = _case(db, case_id)
    now = utcnow()
    settings = _settings()
    viewer = _viewer()
    names = _staff_names(db)
    me = access.require_staff()
    return render_template(
        "console/case_detail.html",
        case=case,
        entries=service.thread(db, case),
        describe=lambda entry: describe(entry, viewer),
        who=lambda entry: who(entry, names),
        map_links=lambda entry: map_links(entry, case.number),
        kind_label=lambda msg_type: (
            _texts()(f"cases.kinds.{msg_type}") if f"cases.kinds.{msg_type}" in _texts() else msg_type
        ),
        resident=service.shown_openid(case.openid, viewer),
        window=service.window_state(db, settings, case.openid, now),
        overdue=service.is_overdue(case, now),
        status_label=status_label,
        topic_label=_texts()(f"cases.topic.{case.topic}"),
        department=service.department_name(settings, case.department) if case.department else "",
        departments=settings.departments,
        assignee=names.get(case.assignee_id) if case.assignee_id is not None else "",
        staff=_case_staff(db),
        canned=service.canned_replies(db),
        categories=active_categories(db),
        can_reply=me.can(Permission.CASES_REPLY),
        can_assign=me.can(Permission.CASES_ASSIGN),
        writable=case.status is not CaseStatus.CONVERTED,
        now=now,
        max_text=settings.max_text,
    )


def _done(case: Case, key: str, **values: Any) -> ResponseReturnValue:
    flash(_texts()(f"console.cases.done.{key}", number=case.number, **values), "success")
    return redirect(url_for(".detail", case_id=case.id))


def _refused(db: Session, case_id: int, exc: DomainError) -> ResponseReturnValue:
    db.rollback()
    if isinstance(exc, PermissionDeniedError):
        abort(403)
    flash(explain(exc), "error")
    return redirect(url_for(".detail", case_id=case_id))


@bp.post("/<int:case_id>/reply")
@requires(Permission.CASES_REPLY)
def reply(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = _case(db, case_id)
    try:
        service.reply(
            db, _settings(), case, _actor(Permission.CASES_REPLY), request.form.get("text", ""), now=utcnow()
        )
    except DomainError as exc:
        return _refused(db, case_id, exc)
    db.commit()
    return _done(case, "reply")


@bp.post("/<int:case_id>/note")
@requires(Permission.CASES_VIEW)
def note(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = _case(db, case_id)
    try:
        service.note(db, _settings(), case, _viewer(), request.form.get("text", ""), now=utcnow())
    except DomainError as exc:
        return _refused(db, case_id, exc)
    db.commit()
    return _done(case, "note")


@bp.post("/<int:case_id>/assign")
@requires(Permission.CASES_ASSIGN)
def assign(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = _case(db, case_id)
    department = request.form.get("department")
    assignee = request.form.get("assignee")
    try:
        service.assign(
            db,
            _settings(),
            case,
            _actor(Permission.CASES_ASSIGN),
            now=utcnow(),
            department=department or None,
            assignee=assignee if assignee is not None else None,
        )
    except DomainError as exc:
        return _refused(db, case_id, exc)
    db.commit()
    return _done(case, "assign")


@bp.post("/<int:case_id>/act")
@requires(Permission.CASES_REPLY)
def act(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = _case(db, case_id)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        flash(_texts()("console.cases.unknown_action"), "error")
        return redirect(url_for(".detail", case_id=case_id))
    actor = _actor(ACTIONS[action])
    settings = _settings()
    now = utcnow()
    try:
        if action == "answer":
            service.answer(db, case, actor, now=now, how=request.form.get("how", "")[:500])
        elif action == "close":
            service.close(db, settings, case, actor, now=now)
        elif action == "reopen":
            service.reopen(db, settings, case, actor, now=now)
        else:
            service.mark_public(
                db, case, actor, now=now, public=action == "public", title=request.form.get("title", "")
            )
    except DomainError as exc:
        return _refused(db, case_id, exc)
    db.commit()
    return _done(case, action)


@bp.post("/<int:case_id>/convert")
@requires(Permission.CASES_REPLY)
def convert(case_id: int) -> ResponseReturnValue:
    """Turn the case into a 文明随手拍 report with its photos, its location and its words."""
    db = get_session()
    case = _case(db, case_id)
    store: Store = services.store()
    try:
        report = service.convert_to_report(
            db,
            store,
            services.settings().section(ReportsSettings),
            case,
            _actor(Permission.CASES_REPLY),
            category_code=request.form.get("category", ""),
            now=utcnow(),
            storage=services.of().get(ReportsServices).storage,
        )
    except DomainError as exc:
        return _refused(db, case_id, exc)
    db.commit()
    return _done(case, "convert", report=report.number)


# -- canned replies --------------------------------------------------------------------------------


@bp.get("/canned")
@requires(Permission.CASES_MANAGE)
def canned() -> ResponseReturnValue:
    return render_template(
        "console/cases_canned.html", replies=service.canned_replies(get_session(), active_only=False)
    )


@bp.post("/canned")
@requires(Permission.CASES_MANAGE)
def save_canned() -> ResponseReturnValue:
    """Add a canned reply (no ``id``), change one, or deactivate it (``active`` unticked)."""
    db = get_session()
    form = request.form
    raw_id = form.get("id", "")
    position = form.get("position", "0").strip()
    try:
        row = service.save_canned_reply(
            db,
            _actor(Permission.CASES_MANAGE),
            title=form.get("title", ""),
            body=form.get("body", "")[:2000],
            now=utcnow(),
            reply_id=int(raw_id) if raw_id.isdigit() else None,
            active=form.get("active") == "1",
            position=int(position) if position.lstrip("-").isdigit() else 0,
        )
    except DomainError as exc:
        db.rollback()
        if isinstance(exc, PermissionDeniedError):
            abort(403)
        flash(explain(exc), "error")
        return redirect(url_for(".canned"))
    db.commit()
    flash(_texts()("console.cases.done.canned", title=row.title), "success")
    return redirect(url_for(".canned"))


# -- the duty roster -------------------------------------------------------------------------------


def _local(value: str) -> datetime | None:
    """A ``datetime-local`` field's value in the console's time zone, as an aware datetime."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=localtime.zone())
    except ValueError:
        return None


@bp.get("/duty")
@requires(Permission.CASES_VIEW)
def duty() -> ResponseReturnValue:
    db = get_session()
    now = utcnow()
    start = datetime.combine(localtime.today(), datetime.min.time(), localtime.zone())
    names = _staff_names(db)
    return render_template(
        "console/cases_duty.html",
        shifts=service.shifts(db, since=start, until=start + timedelta(days=31)),
        on_duty=service.on_duty(db, now),
        names=names,
        staff=[m for m in db.scalars(select(Staff).order_by(Staff.username)) if m.active],
        can_manage=access.require_staff().can(Permission.CASES_MANAGE),
    )


@bp.post("/duty")
@requires(Permission.CASES_MANAGE)
def add_shift() -> ResponseReturnValue:
    db = get_session()
    starts, ends = _local(request.form.get("starts_at", "")), _local(request.form.get("ends_at", ""))
    if starts is None or ends is None:
        flash(_texts()("console.cases.bad_time"), "error")
        return redirect(url_for(".duty"))
    try:
        service.add_shift(
            db,
            _actor(Permission.CASES_MANAGE),
            username=request.form.get("username", ""),
            starts_at=starts,
            ends_at=ends,
            now=utcnow(),
        )
    except DomainError as exc:
        db.rollback()
        if isinstance(exc, PermissionDeniedError):
            abort(403)
        flash(explain(exc), "error")
        return redirect(url_for(".duty"))
    db.commit()
    flash(_texts()("console.cases.done.shift"), "success")
    return redirect(url_for(".duty"))


# -- figures ---------------------------------------------------------------------------------------


def months_between(start: date, end: date) -> list[tuple[int, int]]:
    """The months from ``start``'s to ``end``'s, oldest first."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def figure_rows(db: Session, start: date, end: date) -> list[list[str]]:
    """The monthly figures of the months from ``start`` to ``end``: a header row in the catalogue's
    words, then one row per month (``cases.service.figures_rows``)."""
    settings = _settings()
    texts = _texts()
    figures = [service.monthly_figures(db, settings, y, m) for y, m in months_between(start, end)]
    return service.figures_rows(figures, [texts(f"cases.csv.{c}") for c in CSV_COLUMNS])


CSV_COLUMNS = (
    "month",
    "received",
    "answered",
    "on_time",
    "median_hours",
    "rated",
    "satisfied",
    "fair",
    "dissatisfied",
)


@bp.get("/figures.csv")
@requires(Permission.STATS_VIEW)
def figures_csv() -> ResponseReturnValue:
    """The monthly figures as CSV: the months of ``start``..``end`` (the statistics page's range;
    by default the last twelve months)."""
    today = localtime.today()
    try:
        range_ = stats.DayRange.parse(
            request.args.get("start", "").strip(),
            request.args.get("end", "").strip(),
            localtime.zone(),
            today,
        )
    except stats.RangeError as exc:
        abort(400, str(exc))
    start = range_.start if request.args.get("start") else date(today.year - 1, today.month, 1)
    out = io.StringIO()
    csv.writer(out).writerows(figure_rows(get_session(), start, range_.end))
    # The BOM lets spreadsheet programs on Windows read the Chinese headers as UTF-8.
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="cases-figures.csv"'
    return response

"""The console's audit log: the one audit trail, newest first, written by every channel (console,
command line, chat, mini-program API, system jobs), filtered by actor, action, channel, target and
dates; the same selection as CSV. Every label comes from the text catalogue (``audit.*``)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from bot.core import audit, services
from bot.core.audit import AuditEntry, Channel
from bot.core.database import get_session
from bot.core.paging import Page
from bot.core.texts import Texts
from console import localtime
from console.access import requires
from staff.roles import Permission

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

FILTERS = ("actor", "action", "channel", "target", "since", "until")
EXPORT_MAX = 10_000


class Labels:
    """The catalogue's words for actions and channels; an unknown action shows its code."""

    def __init__(self, texts: Texts) -> None:
        self._texts = texts

    def action(self, code: str) -> str:
        key = f"audit.action.{code}"
        return self._texts(key) if key in self._texts else code

    def channel(self, code: str) -> str:
        key = f"audit.channel.{code}"
        return self._texts(key) if key in self._texts else code

    def __call__(self, key: str, /, **values: object) -> str:
        return self._texts(f"audit.{key}", **values)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters() -> dict[str, str]:
    found = {key: request.args.get(key, "").strip()[:64] for key in FILTERS}
    if found["channel"] not in {c.value for c in Channel}:
        found["channel"] = ""
    for key in ("since", "until"):
        if _day(found[key]) is None:
            found[key] = ""
    return found


def _select(filters: dict[str, str], *, page: int, per_page: int) -> Page[AuditEntry]:
    zone = localtime.zone()
    since, until = _day(filters["since"]), _day(filters["until"])
    return audit.search(
        get_session(),
        actor=filters["actor"],
        action=filters["action"],
        channel=filters["channel"],
        target=filters["target"],
        since=None if since is None else datetime.combine(since, time(), zone),
        until=None if until is None else datetime.combine(until + timedelta(days=1), time(), zone),
        page=page,
        per_page=per_page,
    )


@bp.get("/")
@requires(Permission.AUDIT_VIEW)
def index() -> ResponseReturnValue:
    filters = _filters()
    page = request.args.get("page", "1")
    result = _select(filters, page=int(page) if page.isdigit() else 1, per_page=50)
    return render_template(
        "console/audit_log.html",
        result=result,
        filters=filters,
        actions=audit.actions(get_session()),
        channels=[c.value for c in Channel],
        labels=Labels(services.texts()),
    )


@bp.get("/export.csv")
@requires(Permission.AUDIT_VIEW)
def export() -> ResponseReturnValue:
    """The filtered trail as CSV (UTF-8 with BOM), newest first, at most EXPORT_MAX rows."""
    labels = Labels(services.texts())
    zone = localtime.zone()
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ("at", "actor", "action", "channel", "target", "details", "ip")
    writer.writerow([labels(f"column.{name}") for name in columns])
    for entry in _select(_filters(), page=1, per_page=EXPORT_MAX).items:
        details = "；".join(f"{key}：{value}" for key, value in entry.detail_data.items())
        row = [
            entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor,
            labels.action(entry.action),
            labels.channel(entry.channel),
            entry.target,
            details,
            entry.ip,
        ]
        writer.writerow([_cell(value) for value in row])
    response = Response(out.getvalue().encode("utf-8-sig"), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value  # no formulas in spreadsheets

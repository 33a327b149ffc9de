"""The console's audit log: the one audit trail, newest first, written by every channel (console,
command line, chat, mini-program API, system jobs), filtered by actor, action, channel, target and
dates; the same selection as CSV. Every label comes from the text catalogue (``audit.*``): each
entry's details are a sentence (``audit.describe``) whose codes are words of the domains that wrote
them (role names, statuses, reasons), who acted is a name (系统, 市民, 命令行（root）), and the
target is named by its kind (兑付批次 3, 公共厕所)."""

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
from geodata.kinds import PoiKind
from staff.roles import Permission

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

FILTERS = ("actor", "action", "channel", "target", "since", "until")
EXPORT_MAX = 10_000

# Which catalogue namespaces hold the words for a detail's codes, by "<action family>.<detail>".
VOCABULARY: audit.Vocabulary = {
    "report.from": ("reports.status",),
    "report.to": ("reports.status",),
    "report.reason": ("reports.reasons",),
    "role": ("staff.roles", "audit.roles"),
    "roles": ("staff.roles",),
    "before": ("staff.roles",),
    "after": ("staff.roles",),
    "login.reason": ("audit.values.login_reason",),
    "dataset.status": ("geodata.load_status",),
    "dataset.encoding": ("geodata.encodings",),
    "dataset.datum": ("geodata.datums",),
    "draft.status": ("broadcasts.status",),
    "draft.previous_status": ("broadcasts.status",),
    "draft.stage": ("audit.values.stage",),
    "draft.sign_off": ("audit.values.sign_off",),
    "draft.kind": ("audit.values.publication_kind",),
    "draft.fields": ("broadcasts.field",),
}


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

    def actor(self, name: str) -> str:
        return audit.actor_name(self._texts, name)

    def details(self, entry: AuditEntry) -> str:
        return audit.describe(self._texts, entry, VOCABULARY)

    def target(self, entry: AuditEntry) -> str:
        """What was acted on, named by its kind where the catalogue has words for it."""
        if entry.target_kind == "dataset":
            try:
                name = PoiKind(entry.target).label
            except ValueError:
                name = entry.target
            if entry.target_version is None:
                return name
            return self._texts("audit.targets.dataset_version", kind=name, version=entry.target_version)
        key = f"audit.targets.{entry.target_kind}"
        if entry.target_kind and entry.target_id is not None and key in self._texts:
            return self._texts(key, id=entry.target_id, target=entry.target)
        return entry.target

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
        row = [
            entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            labels.actor(entry.actor),
            labels.action(entry.action),
            labels.channel(entry.channel),
            labels.target(entry),
            labels.details(entry),
            entry.ip,
        ]
        writer.writerow([_cell(value) for value in row])
    response = Response(out.getvalue().encode("utf-8-sig"), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value  # no formulas in spreadsheets

"""The page where a resident reads the answer to their case: ``/answers/<token>``, the link of the
template message sent when no customer-service message can reach them (outside the 48-hour window,
or over its quota).

No login: the signed, expiring token (``cases.links``) is the key, and it opens only its own case's
number, the resident's words and the staff's replies, never notes, staff names or anyone else's
data. Its words are the catalogue's (``cases.page``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, render_template

from bot.core import services
from bot.core.database import session_scope
from cases import links, service
from cases.models import EntryKind
from cases.settings import CasesSettings

bp = Blueprint("answers", __name__, url_prefix=links.PATH.rstrip("/"), template_folder="templates")

TEMPLATE = "console/case_answer.html"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
}


def _page(status: int, **values: Any) -> Response:
    body = render_template(TEMPLATE, texts=services.texts(), **values)
    response = Response(body, status=status, mimetype="text/html")
    response.headers.update(HEADERS)
    return response


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@bp.get("/<token>")
def answer(token: str) -> Response:
    container = services.of()
    settings = container.settings.section(CasesSettings)
    case_id = links.read_token(container.settings.secret_key, token, settings.link_max_age_days)
    if case_id is None:
        return _page(410, message=container.texts("cases.page.expired"))
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with session_scope(app) as session:
        case = service.find_case(session, case_id)
        if case is None:
            return _page(404, message=container.texts("cases.page.not_found"))
        entries = service.thread(session, case, include_notes=False)
        return _page(
            200,
            message="",
            number=case.number,
            received=_local(case.received_at, settings.timezone),
            question=[e.content for e in entries if e.kind is EntryKind.RESIDENT and e.content],
            answers=[
                (_local(e.created_at, settings.timezone), e.content)
                for e in entries
                if e.kind is EntryKind.REPLY
            ],
        )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

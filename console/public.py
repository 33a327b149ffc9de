"""The public pages of 有问必答 (no login): the answer page a resident reaches from the template
message's signed link (``cases.links``: ``/answers/<token>``), and the list of cases staff marked
public, anonymised (``cases.service.public_list``: no openid, phone number or name).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, request
from flask.typing import ResponseReturnValue

from bot.core import services
from bot.core.database import get_session
from cases import links, service
from cases.models import EntryKind
from cases.settings import CasesSettings

bp = Blueprint("answers", __name__, url_prefix=links.PATH.rstrip("/"), template_folder="templates")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PUBLIC_PAGE_SIZE = 20


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    # An answer is the resident's own: never kept by a shared proxy.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/")
def public_list() -> ResponseReturnValue:
    page_arg = request.args.get("page", "1")
    page = max(1, int(page_arg)) if page_arg.isdigit() else 1
    shown = service.public_list(
        get_session(), limit=PUBLIC_PAGE_SIZE + 1, offset=(page - 1) * PUBLIC_PAGE_SIZE
    )
    return render_template(
        "console/public_list.html",
        cases=shown[:PUBLIC_PAGE_SIZE],
        page=page,
        more=len(shown) > PUBLIC_PAGE_SIZE,
        texts=services.texts(),
    )


@bp.get("/<token>")
def answer(token: str) -> ResponseReturnValue:
    """The case the signed token names, its question and its answers; nothing else."""
    texts = services.texts()
    settings = services.settings().section(CasesSettings)
    case_id = links.read_token(services.settings().secret_key, token, settings.link_max_age_days)
    if case_id is None:
        return render_template(
            "console/public_refused.html", message=texts("cases.page.expired"), texts=texts
        ), 403
    db = get_session()
    case = service.find_case(db, case_id)
    if case is None:
        return render_template(
            "console/public_refused.html", message=texts("cases.page.not_found"), texts=texts
        ), 404
    entries = service.thread(db, case, include_notes=False)
    return render_template(
        "console/public_answer.html",
        case=case,
        question=[e for e in entries if e.kind is EntryKind.RESIDENT],
        answers=[e for e in entries if e.kind is EntryKind.REPLY],
        kind_label=lambda msg_type: texts(f"cases.kinds.{msg_type}"),
        texts=texts,
    )

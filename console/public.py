"""The public list of 有问必答 (no login): the cases staff marked public, anonymised
(``cases.service.public_list``: no openid, phone number or name), at ``/answers/public/``, beside
the answer page a resident's signed link opens (``console.answers``)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, request
from flask.typing import ResponseReturnValue

from bot.core import services
from bot.core.database import get_session
from cases import links, service

bp = Blueprint("public_cases", __name__, url_prefix=links.PATH + "public", template_folder="templates")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
PAGE_SIZE = 20


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.get("/")
def index() -> ResponseReturnValue:
    page_arg = request.args.get("page", "1")
    page = max(1, int(page_arg)) if page_arg.isdigit() else 1
    shown = service.public_list(get_session(), limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "console/public_list.html",
        cases=shown[:PAGE_SIZE],
        page=page,
        more=len(shown) > PAGE_SIZE,
        texts=services.texts(),
    )

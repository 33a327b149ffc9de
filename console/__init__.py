"""The staff web console at ``/console``: server-rendered pages over the same domain functions as the CLI.

``init_app`` builds the ``console`` blueprint, nests one blueprint per page module under it and
registers it on the app. Requests pass ``console.access.before_request`` (login, session expiry,
CSRF) and every view declares its permission.

Every error of a ``/console`` URL is a console page in the catalogue's words (``console.http.*``):
the blueprint's handler for its own views, and the app-level renderer of ``bot.core.httperrors``
for URLs that match no view (routing errors never reach a blueprint).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from bot.core import audit, httperrors, inputs, services
from console import access, localtime, navigation, public
from console.pages import (
    audit_log,
    auth,
    broadcasts,
    cases,
    datasets,
    home,
    reviews,
    rewards,
    staff,
    statistics,
)
from staff.roles import Permission, Role, role_name

__all__ = ["init_app"]

log = logging.getLogger("citybot.console")

# The sign-in pages keep their own handling of what is typed into them.
UNCHECKED_PREFIX = "console.auth."

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# The errors the console words itself (console.http.<code>.title and .message); any other is a 500.
ERROR_CODES = (400, 401, 403, 404, 405, 413, 429, 500)
PREFIX = "/console"


def init_app(app: Flask) -> None:
    settings = services.settings(app)
    if settings.secret_key in {"change-me", ""}:
        log.warning("secret_key is the default: console sessions can be forged; set CITYBOT_SECRET_KEY")
    access.init_app(app)
    app.register_blueprint(_blueprint())
    public.init_app(app)
    httperrors.register(app, PREFIX, _routing_error)
    app.jinja_env.filters.setdefault("local_time", _local_time_filter(app))


def _blueprint() -> Blueprint:
    bp = Blueprint(
        "console",
        __name__,
        url_prefix=PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    for page in (auth, home, reviews, cases, rewards, broadcasts, datasets, statistics, staff, audit_log):
        bp.register_blueprint(page.bp)
    bp.before_request(access.before_request)
    bp.before_request(_refuse_control_characters)
    bp.after_request(_headers)
    bp.context_processor(_template_context)
    bp.register_error_handler(CSRFError, _csrf_error)
    # An exception no view expected reaches this as a 500 (Flask logs it with its traceback first).
    bp.register_error_handler(HTTPException, _http_error)
    return bp


def _refuse_control_characters() -> None:
    """Every query and form value of every page (after login and the CSRF check): a 400 page."""
    if (request.endpoint or "").startswith(UNCHECKED_PREFIX):
        return
    unclean = inputs.unclean_fields(request, json=False)
    if unclean:
        log.warning("refused %s %s: control characters in %s", request.method, request.endpoint, unclean)
        raise BadRequest(services.texts()("console.errors.control_characters"))


def _template_context() -> dict[str, Any]:
    staff = access.current_staff()
    texts = services.texts()
    return {
        "me": staff,
        "nav": navigation.items_for(staff),
        "Permission": Permission,
        "role_labels": {role: role_name(texts, role) for role in Role},
        "texts": texts,
        "actor_name": lambda name: audit.actor_name(texts, name or ""),
    }


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "console.static":
        # Pages show residents' reports and staff data: never kept by a shared browser or proxy.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    log.warning("CSRF refused on %s from %s: %s", request.path, access.client_ip(), exc.description)
    return _error_page(400, key="console.http.csrf")


def _error_page(code: int, *, key: str = "", message: str = "") -> tuple[str, int]:
    """The console's page for an HTTP error, in the catalogue's words."""
    texts = services.texts()
    key = key or f"console.http.{code if code in ERROR_CODES else 500}"
    return (
        render_template(
            "console/error.html",
            code=code,
            title=texts(f"{key}.title"),
            message=message or texts(f"{key}.message"),
            **_template_context(),
        ),
        code,
    )


def _http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    # A 400 from a view carries its own sentence (already from the catalogue, e.g. control characters).
    own = exc.description if code == 400 and exc.description != BadRequest.description else ""
    return _error_page(code, message=own or "")


def _routing_error(exc: HTTPException) -> Response:
    """A /console URL that matches no view (or not with this method): the console's page, not Flask's."""
    access.identify()  # the page's header and its way back know who is signed in
    body, code = _http_error(exc)
    response = Response(body, status=code, mimetype="text/html")
    if exc.code == 405 and exc.response is None:
        allowed = getattr(exc, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return _headers(response)


def _local_time_filter(app: Flask) -> Any:
    zone = localtime.zone(app)

    def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    return local_time

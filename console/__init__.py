"""The staff web console at ``/console``: server-rendered pages over the same domain functions as the CLI.

``init_app`` builds the ``console`` blueprint, nests one blueprint per page module under it and
registers it on the app. Requests pass ``console.access.before_request`` (login, session expiry,
CSRF) and every view declares its permission.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from bot.core import inputs, services
from console import access, localtime, navigation
from console.pages import audit_log, auth, broadcasts, datasets, home, reviews, rewards, staff, statistics
from staff.roles import ROLE_LABELS, Permission

__all__ = ["init_app"]

log = logging.getLogger("citybot.console")

# The sign-in pages keep their own handling of what is typed into them.
UNCHECKED_PREFIX = "console.auth."

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

ERROR_TITLES = {
    400: "请求无效",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求方式",
    413: "文件过大",
}


def init_app(app: Flask) -> None:
    settings = services.settings(app)
    if settings.secret_key in {"change-me", ""}:
        log.warning("secret_key is the default: console sessions can be forged; set CITYBOT_SECRET_KEY")
    access.init_app(app)
    app.register_blueprint(_blueprint())
    app.jinja_env.filters.setdefault("local_time", _local_time_filter(app))


def _blueprint() -> Blueprint:
    bp = Blueprint(
        "console",
        __name__,
        url_prefix="/console",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    for page in (auth, home, reviews, rewards, broadcasts, datasets, statistics, staff, audit_log):
        bp.register_blueprint(page.bp)
    bp.before_request(access.before_request)
    bp.before_request(_refuse_control_characters)
    bp.after_request(_headers)
    bp.context_processor(_template_context)
    bp.register_error_handler(CSRFError, _csrf_error)
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
    return {
        "me": staff,
        "nav": navigation.items_for(staff),
        "Permission": Permission,
        "role_labels": ROLE_LABELS,
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
    return (
        render_template(
            "console/error.html",
            code=400,
            title="页面已过期",
            message="表单校验失败（页面可能已过期或在其他窗口退出了登录）。请刷新页面后重试。",
        ),
        400,
    )


def _http_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
    code = exc.code or 500
    if code not in ERROR_TITLES:
        return exc
    messages = {
        403: "您的账号没有执行此操作的权限。如需开通，请联系系统管理员。",
        404: "您访问的页面不存在或已被删除。",
        413: "上传的文件超过了允许的大小。",
    }
    return (
        render_template(
            "console/error.html",
            code=code,
            title=ERROR_TITLES[code],
            message=messages.get(code, exc.description or ""),
        ),
        code,
    )


def _local_time_filter(app: Flask) -> Any:
    zone = localtime.zone(app)

    def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    return local_time

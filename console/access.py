"""Who is at the console: sessions, login, logout, permission checks and the audit trail of acts.

Every console request passes ``before_request``: it loads the staff member from the session (ending
sessions that expired, whose account was disabled or whose password changed), sends anonymous
visitors to the login page, then checks the CSRF token of every state-changing request. Each view
declares what it needs with ``@requires(Permission.X)`` or ``@public``; the permission tests
enumerate the app's routes and hold every console view to one of the two.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core import audit, services
from bot.core.clock import utcnow
from bot.core.database import get_session
from console.sessions import SessionBook
from console.settings import ConsoleSettings
from console.throttle import Lock, LoginThrottle
from staff import models as staff_models
from staff.models import PASSWORD_METHOD, Staff
from staff.roles import Permission

log = logging.getLogger("citybot.console")

P = ParamSpec("P")
R = TypeVar("R")

PERMISSION_ATTR = "console_permission"
# Endpoints whose view functions cannot carry the @public mark.
PUBLIC_ENDPOINTS = frozenset({"console.static"})
PUBLIC_ATTR = "console_public"
SESSION_KEY = "console_sid"
UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f\\]")

csrf = CSRFProtect()


@dataclass(eq=False)
class ConsoleServices:
    """The console's services, held by the app's container as ``services.of(app).get(ConsoleServices)``."""

    sessions: SessionBook
    throttle: LoginThrottle


def init_app(app: Flask) -> None:
    settings = services.settings(app).section(ConsoleSettings)
    store = services.store(app)
    services.of(app).put(
        ConsoleServices(
            sessions=SessionBook(
                store, idle_timeout=settings.session_idle_timeout, max_age=settings.session_max_age
            ),
            throttle=LoginThrottle(
                store,
                per_user=settings.max_failures_per_user,
                per_ip=settings.max_failures_per_ip,
                lock_seconds=settings.lock_seconds,
            ),
        )
    )
    app.config.update(
        SESSION_COOKIE_NAME="citybot_console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # Only the console's own before_request checks tokens: the webhook and the API are not forms.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=settings.session_max_age,
        WTF_CSRF_SSL_STRICT=True,
    )
    csrf.init_app(app)


def _sessions() -> SessionBook:
    return services.of().get(ConsoleServices).sessions


def _throttle() -> LoginThrottle:
    return services.of().get(ConsoleServices).throttle


def current_staff() -> Staff | None:
    return g.get("console_staff")


def identify() -> Staff | None:
    """Who is signed in, for a page rendered outside the console's views (an unknown /console URL,
    which no view's ``before_request`` saw); nothing is refused or redirected here."""
    if "console_staff" not in g:
        sid = session.get(SESSION_KEY)
        g.console_staff = _staff_for(sid) if sid else None
    return current_staff()


def require_staff() -> Staff:
    staff = current_staff()
    if staff is None:  # only reachable from a view that skipped before_request
        abort(401)
    return staff


def client_ip() -> str:
    return request.remote_addr or ""


def public(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view that anonymous visitors may reach (the login page, the stylesheet)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def requires(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Refuse the view (403) to a staff member without ``permission``; anonymous visitors log in first."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("console.auth.login"))
            if not staff.can(permission):
                log.warning("%s lacks %s for %s", staff.username, permission.value, request.path)
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, PERMISSION_ATTR, permission)
        return wrapper

    return decorate


def permission_of(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, PERMISSION_ATTR, None)


def is_public(endpoint: str, view: Callable[..., Any]) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or bool(getattr(view, PUBLIC_ATTR, False))


def safe_next(target: str | None) -> str | None:
    """A console path to return to after login; anything else (other hosts, //x) is dropped.

    So is a path with a control character (CR/LF would split the Location header) or a backslash
    (browsers read ``/\\host`` as ``//host``).
    """
    if not target or UNSAFE_IN_NEXT.search(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or target.startswith("//"):
        return None
    return target


def before_request() -> ResponseReturnValue | None:
    """Load the staff member, send anonymous visitors to the login page, check CSRF tokens."""
    # No console form is larger than an upload; the cap holds before anything reads the body.
    request.max_content_length = services.settings().section(ConsoleSettings).max_upload_bytes
    audit.enter(audit.Channel.CONSOLE, ip=client_ip())
    g.console_staff = None
    sid = session.get(SESSION_KEY)
    if sid:
        staff = _staff_for(sid)
        if staff is None:
            session.pop(SESSION_KEY, None)
            g.console_session_ended = True
        g.console_staff = staff
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return None  # 404 / 405 follow
    if g.console_staff is None and not is_public(endpoint, view):
        if g.get("console_session_ended"):
            flash("登录已过期，请重新登录。", "info")
        next_path = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.auth.login", next=safe_next(next_path)))
    csrf.protect()
    return None


def _staff_for(sid: str) -> Staff | None:
    book = _sessions()
    record = book.load(sid)
    if record is None:
        return None
    db = get_session()
    staff = db.get(Staff, record.staff_id)
    if (
        staff is None
        or not staff.active
        or staff.password_changed_at.isoformat() != record.password_stamp
        # Disabling ends every session at once, also those idle while the account was disabled:
        # re-enabling the account does not bring them back.
        or (
            staff.sessions_revoked_at is not None
            and datetime.fromtimestamp(record.started, UTC) <= staff.sessions_revoked_at
        )
    ):
        book.end(sid)
        return None
    g.console_session = record
    return staff


def record(
    action: str,
    target: str = "",
    *,
    kind: str = "",
    target_id: int | None = None,
    version: int | None = None,
    **detail: Any,
) -> None:
    """Audit an act of the current staff member in the request's unit of work (channel console)."""
    staff = current_staff()
    audit.record(
        get_session(),
        action,
        actor=staff.username if staff else "",
        staff_id=staff.id if staff else None,
        target=target,
        target_kind=kind,
        target_id=target_id,
        version=version,
        details=detail,
    )


@dataclass(frozen=True)
class LoginOutcome:
    staff: Staff | None
    message: str = ""


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password of anyone", method=PASSWORD_METHOD)


def _lock_message(lock: Lock) -> str:
    if lock.scope == "user":
        return f"该账号登录失败次数过多，已暂时锁定，请 {lock.minutes} 分钟后再试。"
    return f"本机登录失败次数过多，已暂时锁定，请 {lock.minutes} 分钟后再试。"


def log_in(db: Session, username: str, password: str) -> LoginOutcome:
    """Check the credentials under the throttle; on success start a fresh session.

    The attempt is counted before the password hash runs (``LoginThrottle.admit``), so concurrent
    guesses cannot outrun the limit.
    """
    username = username.strip().lower()[:64]
    ip = client_ip()
    throttle = _throttle()
    admitted = throttle.admit(username, ip)
    if isinstance(admitted, Lock):
        audit.record(db, "login.locked", actor=username, target=username, ip=ip)
        return LoginOutcome(None, _lock_message(admitted))
    member = staff_models.by_username(db, username) if username else None
    if member is None:
        check_password_hash(_dummy_hash(), password)  # the same work whether the name exists or not
        correct = False
    else:
        correct = member.check_password(password)
    if not correct:
        caused = throttle.failed(admitted)
        audit.record(
            db,
            "login.failed",
            actor=username,
            staff_id=member.id if member else None,
            target=username,
            details={"reason": "password" if member else "unknown user"},
            ip=ip,
        )
        return LoginOutcome(None, _lock_message(caused) if caused else "用户名或密码不正确。")
    assert member is not None
    if not member.active:
        audit.record(db, "login.disabled", actor=username, staff_id=member.id, target=username, ip=ip)
        return LoginOutcome(None, "该账号已停用，请联系系统管理员。")
    throttle.succeeded(admitted)
    member.last_login_at = utcnow()
    session.clear()  # a new cookie (and CSRF secret) for the new session: no fixation
    session[SESSION_KEY] = start_session(member)
    audit.record(db, "login", actor=username, staff_id=member.id, target=username, ip=ip)
    return LoginOutcome(member)


def start_session(member: Staff) -> str:
    """Start a session for ``member`` and return its id (the caller puts it in the cookie)."""
    started = _sessions().start(member.id, member.password_changed_at.isoformat(), client_ip())
    g.console_staff = member
    return started.sid


def log_out() -> None:
    sid = session.get(SESSION_KEY)
    if sid:
        _sessions().end(sid)
    session.clear()
    g.console_staff = None


def unlock(username: str) -> None:
    _throttle().unlock(username)

"""Console access: login, throttling, session expiry, logout, disabled accounts, CSRF, cookies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.audit import AuditEntry
from bot.core.database import session_scope
from console import sessions
from staff import models
from staff.roles import Role
from tests.support.clock import T0, at
from tests.support.console import PASSWORD, ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration


def audit_actions(app: Flask, target: str) -> list[str]:
    with session_scope(app) as session:
        return list(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.target == target).order_by(AuditEntry.id)
            )
        )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The console sessions' clock, moved by tests: clock[0] is "now"."""
    moment = [1_800_000_000.0]
    monkeypatch.setattr(sessions, "now", lambda: moment[0])
    return moment


def test_anonymous_is_sent_to_login_and_back(app: Flask) -> None:
    with at(T0):  # the statistics range is checked against today
        anonymous_is_sent_to_login_and_back(app)


def anonymous_is_sent_to_login_and_back(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app)
    response = client.get("/console/stats/?start=2026-01-01")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")
    page = client.get(response.headers["Location"])
    assert 'name="next" value="/console/stats/?start=2026-01-01"' in text(page)
    response = client.post(
        "/console/login",
        {"username": "li.wei", "password": PASSWORD, "next": "/console/stats/?start=2026-01-01"},
    )
    assert response.headers["Location"] == "/console/stats/?start=2026-01-01"
    assert client.get("/console/stats/?start=2026-01-01").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/console/", "/wechat", "javascript:x"]
)
def test_login_never_redirects_off_the_console(app: Flask, target: str) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    response = ConsoleClient(app).post(
        "/console/login", {"username": "li.wei", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"


def test_wrong_password_and_unknown_user_get_the_same_answer(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app)
    wrong = client.login("li.wei", "not the password")
    unknown = client.login("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in text(wrong)
    assert "用户名或密码不正确" in text(unknown)
    assert client.get("/console/").status_code == 302
    assert audit_actions(app, "li.wei") == ["login.failed"]
    assert audit_actions(app, "nobody") == ["login.failed"]


def test_login_is_audited_and_case_insensitive(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER}, display_name="李伟")
    client = ConsoleClient(app)
    assert client.login(" Li.Wei ").status_code == 302
    page = client.get("/console/")
    assert page.status_code == 200
    assert "您好，李伟" in text(page)
    assert audit_actions(app, "li.wei") == ["login"]
    with session_scope(app) as session:
        assert models.require(session, "li.wei").last_login_at is not None


def test_username_is_locked_after_repeated_failures(make_app: Callable[..., Flask]) -> None:
    app = make_app(console={"max_failures_per_user": 3, "lock_seconds": 600})
    add_staff(app, "li.wei", {Role.REVIEWER})
    add_staff(app, "wang.fang", {Role.REVIEWER})
    client = ConsoleClient(app)
    for _ in range(2):
        assert "用户名或密码不正确" in text(client.login("li.wei", "wrong password"))
    third = client.login("li.wei", "wrong password")
    assert "该账号登录失败次数过多" in text(third)
    assert "10 分钟" in text(third)
    # Locked: even the right password is refused, and the password is not checked at all.
    locked = client.login("li.wei")
    assert locked.status_code == 401
    assert "该账号登录失败次数过多" in text(locked)
    assert audit_actions(app, "li.wei")[-1] == "login.locked"
    # Another account from the same address is not affected.
    assert ConsoleClient(app).login("wang.fang").status_code == 302


def test_success_clears_the_failure_count(make_app: Callable[..., Flask]) -> None:
    app = make_app(console={"max_failures_per_user": 3})
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app)
    for _ in range(2):
        client.login("li.wei", "wrong password")
    assert client.login("li.wei").status_code == 302
    other = ConsoleClient(app)
    for _ in range(2):
        assert "用户名或密码不正确" in text(other.login("li.wei", "wrong password"))


def test_address_is_locked_after_failures_across_usernames(make_app: Callable[..., Flask]) -> None:
    app = make_app(console={"max_failures_per_ip": 4, "max_failures_per_user": 10})
    add_staff(app, "li.wei", {Role.REVIEWER})
    attacker = ConsoleClient(app, ip="203.0.113.9")
    for name in ("a.one", "b.two", "c.three"):
        assert "用户名或密码不正确" in text(attacker.login(name, "guess-guess"))
    assert "本机登录失败次数过多" in text(attacker.login("d.four", "guess-guess"))
    assert "本机登录失败次数过多" in text(attacker.login("li.wei"))
    assert ConsoleClient(app, ip="198.51.100.7").login("li.wei").status_code == 302


def test_admin_unlocks_a_locked_account(make_app: Callable[..., Flask]) -> None:
    app = make_app(console={"max_failures_per_user": 2})
    add_staff(app, "li.wei", {Role.REVIEWER})
    add_staff(app, "root", {Role.ADMIN})
    for _ in range(2):
        ConsoleClient(app).login("li.wei", "wrong password")
    assert "失败次数过多" in text(ConsoleClient(app).login("li.wei"))
    admin = ConsoleClient(app).logged_in("root")
    assert admin.post("/console/staff/li.wei/unlock").status_code == 302
    assert ConsoleClient(app).login("li.wei").status_code == 302
    assert "staff.unlock" in audit_actions(app, "li.wei")


def test_idle_session_expires(make_app: Callable[..., Flask], clock: list[float]) -> None:
    app = make_app(console={"session_idle_timeout": 600, "session_max_age": 7200})
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app).logged_in("li.wei")
    clock[0] += 590
    assert client.get("/console/").status_code == 200
    clock[0] += 590  # still within 600 s of the last request
    assert client.get("/console/").status_code == 200
    clock[0] += 601
    response = client.get("/console/")
    assert response.status_code == 302
    login = client.get(response.headers["Location"])
    assert "登录已过期" in text(login)


def test_session_ends_at_its_maximum_age_however_active(
    make_app: Callable[..., Flask], clock: list[float]
) -> None:
    app = make_app(console={"session_idle_timeout": 600, "session_max_age": 1800})
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app).logged_in("li.wei")
    for _ in range(3):
        clock[0] += 500
        assert client.get("/console/").status_code == 200
    clock[0] += 301  # 1801 s after login
    assert client.get("/console/").status_code == 302


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app).logged_in("li.wei")
    stolen = client.client.get_cookie("citybot_console")
    assert stolen is not None
    assert client.post("/console/logout").headers["Location"] == "/console/login"
    assert client.get("/console/").status_code == 302
    replay = ConsoleClient(app)
    replay.client.set_cookie("citybot_console", stolen.value)
    assert replay.get("/console/").status_code == 302
    with session_scope(app) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "li.wei")))
    assert actions == ["login", "logout"]


def test_disabled_staff_cannot_log_in_and_lose_their_session(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    add_staff(app, "zhao", {Role.REVIEWER}, active=False)
    refused = ConsoleClient(app).login("zhao")
    assert refused.status_code == 401
    assert "该账号已停用" in text(refused)
    client = ConsoleClient(app).logged_in("li.wei")
    with session_scope(app) as session:
        models.set_active(session, "li.wei", False)
    assert client.get("/console/").status_code == 302
    with session_scope(app) as session:
        models.set_active(session, "li.wei", True)
    # Re-enabling does not revive the ended session.
    assert client.get("/console/").status_code == 302


def test_password_change_elsewhere_ends_the_session(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    client = ConsoleClient(app).logged_in("li.wei")
    with session_scope(app) as session:
        models.set_password(session, "li.wei", "a brand new password")
    assert client.get("/console/").status_code == 302
    assert ConsoleClient(app).login("li.wei", "a brand new password").status_code == 302


def test_own_password_change_keeps_this_session_and_ends_others(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    here = ConsoleClient(app).logged_in("li.wei")
    elsewhere = ConsoleClient(app).logged_in("li.wei")
    mismatch = here.post(
        "/console/account/password",
        {"current": PASSWORD, "password": "another long password", "confirm": "different"},
    )
    assert "两次输入的新密码不一致" in text(mismatch)
    wrong = here.post(
        "/console/account/password",
        {"current": "wrong", "password": "another long password", "confirm": "another long password"},
    )
    assert "当前密码不正确" in text(wrong)
    changed = here.post(
        "/console/account/password",
        {"current": PASSWORD, "password": "another long password", "confirm": "another long password"},
    )
    assert changed.status_code == 302
    assert here.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 302
    assert ConsoleClient(app).login("li.wei", "another long password").status_code == 302
    assert "account.password" in audit_actions(app, "li.wei")


def test_csrf_token_is_required_on_every_post(app: Flask) -> None:
    add_staff(app, "root", {Role.ADMIN})
    anonymous = ConsoleClient(app)
    refused = anonymous.post("/console/login", {"username": "root", "password": PASSWORD}, csrf=False)
    assert refused.status_code == 400
    assert "页面已过期" in text(refused)
    forged = anonymous.post(
        "/console/login", {"username": "root", "password": PASSWORD, "csrf_token": "forged"}, csrf=False
    )
    assert forged.status_code == 400
    admin = ConsoleClient(app).logged_in("root")
    new_staff = {"username": "sneaky", "password": "long enough pw", "roles": "admin"}
    assert admin.post("/console/staff/new", new_staff, csrf=False).status_code == 400
    # A token from another visitor's session is refused too.
    other_token = ConsoleClient(app).token()
    assert (
        admin.post("/console/staff/new", {**new_staff, "csrf_token": other_token}, csrf=False).status_code
        == 400
    )
    assert admin.post("/console/logout", csrf=False).status_code == 400
    with session_scope(app) as session:
        assert models.by_username(session, "sneaky") is None
    assert admin.get("/console/").status_code == 200  # still logged in
    assert admin.post("/console/staff/new", new_staff).status_code == 302


def test_cookie_flags_and_security_headers(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    add_staff(app, "li.wei", {Role.REVIEWER})
    response = ConsoleClient(app).login("li.wei")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("citybot_console=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    page = ConsoleClient(app).get("/console/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY"

    plain = make_app(console={"secure_cookies": False})
    cookie = ConsoleClient(plain).login("li.wei").headers["Set-Cookie"]
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie


def test_trusted_proxy_address_is_used_for_throttling(make_app: Callable[..., Flask]) -> None:
    app = make_app(proxy_hops=1, console={"max_failures_per_ip": 2, "max_failures_per_user": 10})
    add_staff(app, "li.wei", {Role.REVIEWER})
    proxy = app.test_client()

    def attempt(forwarded_for: str, username: str, password: str) -> str:
        page = proxy.get("/console/login", headers={"X-Forwarded-For": forwarded_for})
        token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
        response = proxy.post(
            "/console/login",
            data={"username": username, "password": password, "csrf_token": token},
            headers={"X-Forwarded-For": forwarded_for},
        )
        return response.get_data(as_text=True) if response.status_code != 302 else "ok"

    attempt("203.0.113.9", "x.one", "guess-guess")
    assert "本机登录失败次数过多" in attempt("203.0.113.9", "x.two", "guess-guess")
    assert attempt("198.51.100.7", "li.wei", PASSWORD) == "ok"
    with session_scope(app) as session:
        ips = set(session.scalars(select(AuditEntry.ip)))
    assert ips == {"203.0.113.9", "198.51.100.7"}

"""Staff management pages for admins, the navigation by permission, and the audit log page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.audit import AuditEntry
from bot.core.database import session_scope
from staff import models
from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration


def last_audit(app: Flask) -> AuditEntry:
    with session_scope(app) as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
        session.expunge(entry)
        return entry


def admin(app: Flask) -> ConsoleClient:
    add_staff(app, "root", {Role.ADMIN}, display_name="管理员")
    return ConsoleClient(app, ip="10.1.2.3").logged_in("root")


def test_admin_adds_staff(app: Flask) -> None:
    client = admin(app)
    form = client.get("/console/staff/new")
    assert "autofocus" in text(form)
    response = client.post(
        "/console/staff/new",
        {"username": "li.wei", "display_name": "李伟", "password": "initial password", "roles": ["reviewer"]},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/staff/li.wei"
    with session_scope(app) as session:
        member = models.require(session, "li.wei")
        assert member.roles == {Role.REVIEWER}
        assert member.display_name == "李伟"
    entry = last_audit(app)
    assert (entry.actor, entry.action, entry.target, entry.ip) == ("root", "staff.add", "li.wei", "10.1.2.3")
    assert entry.detail_data == {"roles": ["reviewer"]}
    listing = text(client.get("/console/staff/"))
    assert "li.wei" in listing
    assert "审核员" in listing
    assert ConsoleClient(app).login("li.wei", "initial password").status_code == 302


def test_add_form_errors_are_shown_in_chinese(app: Flask) -> None:
    client = admin(app)
    bad = client.post("/console/staff/new", {"username": "Bad Name", "password": "short", "roles": ["boss"]})
    assert bad.status_code == 400
    page = text(bad)
    assert "小写字母" in page
    assert "密码至少 10 个字符" in page
    assert "无效的角色：boss" in page
    taken = client.post("/console/staff/new", {"username": "root", "password": "long enough password"})
    assert taken.status_code == 400
    assert "该用户名已存在" in text(taken)


def test_admin_sets_roles_with_an_audit_of_before_and_after(app: Flask) -> None:
    client = admin(app)
    add_staff(app, "li.wei", {Role.REVIEWER})
    response = client.post("/console/staff/li.wei/roles", {"roles": ["rewards_officer", "data_admin"]})
    assert response.status_code == 302
    with session_scope(app) as session:
        assert models.require(session, "li.wei").roles == {Role.REWARDS_OFFICER, Role.DATA_ADMIN}
    entry = last_audit(app)
    assert entry.action == "staff.roles"
    assert entry.detail_data == {"before": ["reviewer"], "after": ["data_admin", "rewards_officer"]}
    page = text(client.get("/console/staff/li.wei"))
    checked = re.findall(r'<input checked id="roles-\d+" name="roles" type="checkbox" value="(\w+)">', page)
    assert sorted(checked) == ["data_admin", "rewards_officer"]


def test_admin_cannot_lock_themselves_out(app: Flask) -> None:
    client = admin(app)
    refused = client.post("/console/staff/root/roles", {"roles": ["reviewer"]})
    assert refused.status_code == 409
    assert "不能取消自己的系统管理员角色" in text(refused)
    assert client.post("/console/staff/root/disable").status_code == 409
    with session_scope(app) as session:
        member = models.require(session, "root")
        assert member.active
        assert member.roles == {Role.ADMIN}


def test_disabling_ends_the_members_session_and_enabling_allows_login(app: Flask) -> None:
    client = admin(app)
    add_staff(app, "li.wei", {Role.REVIEWER})
    member = ConsoleClient(app).logged_in("li.wei")
    assert client.post("/console/staff/li.wei/disable").status_code == 302
    assert member.get("/console/").status_code == 302
    assert "已停用" in text(client.get("/console/staff/"))
    assert ConsoleClient(app).login("li.wei").status_code == 401
    assert client.post("/console/staff/li.wei/enable").status_code == 302
    assert ConsoleClient(app).login("li.wei").status_code == 302
    with session_scope(app) as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor == "root").order_by(AuditEntry.id)
            )
        )
    assert actions == ["login", "staff.disable", "staff.enable"]


def test_password_reset_ends_sessions(app: Flask) -> None:
    client = admin(app)
    add_staff(app, "li.wei", {Role.REVIEWER})
    member = ConsoleClient(app).logged_in("li.wei")
    short = client.post("/console/staff/li.wei/password", {"password": "short"})
    assert short.status_code == 400
    assert (
        client.post("/console/staff/li.wei/password", {"password": "reset by the admin"}).status_code == 302
    )
    assert member.get("/console/").status_code == 302
    assert ConsoleClient(app).login("li.wei", "reset by the admin").status_code == 302
    assert last_audit(app).action == "login"


def test_unknown_member_is_404(app: Flask) -> None:
    client = admin(app)
    assert client.get("/console/staff/nobody").status_code == 404
    assert client.post("/console/staff/nobody/disable").status_code == 404


def test_navigation_shows_only_what_the_role_allows(app: Flask) -> None:
    add_staff(app, "li.wei", {Role.REVIEWER})
    page = text(ConsoleClient(app).logged_in("li.wei").get("/console/"))
    assert "数据统计" in page
    assert "人员管理" not in page
    assert "操作日志" not in page
    page = text(admin(app).get("/console/"))
    for label in ("数据统计", "人员管理", "操作日志"):
        assert label in page


def test_no_role_sees_a_clear_refusal(app: Flask) -> None:
    add_staff(app, "nobody", set())
    response = ConsoleClient(app).logged_in("nobody").get("/console/")
    assert response.status_code == 403
    assert "没有权限" in text(response)


def test_audit_log_page_filters(app: Flask) -> None:
    client = admin(app)
    add_staff(app, "li.wei", {Role.REVIEWER})
    ConsoleClient(app).login("li.wei", "wrong password")
    client.post("/console/staff/li.wei/disable")
    page = text(client.get("/console/audit/?target=li.wei"))
    assert "停用人员" in page
    assert "登录失败" in page
    assert "共 2 条" in page
    page = text(client.get("/console/audit/?action=login.failed"))
    assert "共 1 条" in page


def test_statistics_page_renders_charts_and_rejects_bad_ranges(app: Flask) -> None:
    client = admin(app)
    page = client.get("/console/stats/?start=2026-03-01&end=2026-03-07")
    assert page.status_code == 200
    body = text(page)
    assert body.count('<svg class="chart"') == 6
    assert "2026-03-01 至 2026-03-07" in body
    bad = client.get("/console/stats/?start=2026-03-07&end=2026-03-01")
    assert bad.status_code == 400
    assert "开始日期不能晚于结束日期" in text(bad)

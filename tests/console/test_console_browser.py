"""The console in a real browser: keyboard login, every phase-one page, narrow screens."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from bot.chat.journal import JournalEntry, Outcome
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.residents import Resident
from staff.roles import Role
from tests.support.browser_fixtures import screenshot
from tests.support.console import add_staff
from tests.support.console_flows import login, wait_for_focus

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from playwright.sync_api import Page


def seed_activity(app: Flask) -> None:
    """A month of messages and follows, deterministic, so the statistics have something to draw."""
    now = utcnow()
    keys = itertools.count()
    with session_scope(app) as session:
        for day in range(30):
            for n in range((day * 7) % 11 + 2):
                session.add(
                    JournalEntry(
                        dedupe_key=f"seed{next(keys)}",
                        msg_type="text",
                        sender=f"resident{n % 5}",
                        payload="<xml/>",
                        received_at=now - timedelta(days=day, minutes=n),
                        status=Outcome.HANDLED,
                    )
                )
            for event in ["subscribe"] * (day % 3) + ["unsubscribe"] * (day % 5 == 0):
                session.add(
                    JournalEntry(
                        dedupe_key=f"seed{next(keys)}",
                        msg_type="event",
                        event=event,
                        sender=f"follower{day}",
                        payload="<xml/>",
                        received_at=now - timedelta(days=day, hours=1),
                        status=Outcome.HANDLED,
                    )
                )
        session.add_all(Resident(openid=f"follower{i}", subscribed=True) for i in range(12))


def test_login_and_dashboard(live: tuple[Flask, str], page: Page) -> None:
    app, base_url = live
    add_staff(app, "li.wei", {Role.REVIEWER}, display_name="李伟")
    seed_activity(app)
    page.goto(f"{base_url}/console/")
    assert page.locator("h1").inner_text() == "工作人员登录"
    assert page.evaluate("document.activeElement.name") == "username"
    screenshot(page, "console-login")

    page.fill("#username", "li.wei")
    page.fill("#password", "wrong password")
    page.press("#password", "Enter")
    assert "用户名或密码不正确" in page.locator(".flash-error").inner_text()
    screenshot(page, "console-login-error")

    login(page, base_url, "li.wei")
    assert page.locator("h1").inner_text() == "您好，李伟"
    assert int(page.locator('[data-figure="followers"]').inner_text()) == 12
    assert int(page.locator('[data-figure="messages_today"]').inner_text()) >= 1
    nav = page.locator("nav.sidenav a").all_inner_texts()
    assert nav == ["工作台", "举报审核", "数据统计"]
    screenshot(page, "console-dashboard")
    assert page.errors == []  # type: ignore[attr-defined]


def test_admin_pages(live: tuple[Flask, str], page: Page) -> None:
    app, base_url = live
    add_staff(app, "root", {Role.ADMIN}, display_name="王管理")
    add_staff(app, "li.wei", {Role.REVIEWER}, display_name="李伟")
    seed_activity(app)
    login(page, base_url, "root")
    assert page.locator("nav.sidenav a").all_inner_texts() == [
        "工作台",
        "举报审核",
        "留言办理",
        "积分兑付",
        "城管发布",
        "设施数据",
        "数据统计",
        "人员管理",
        "操作日志",
    ]

    page.click("text=数据统计")
    page.wait_for_url("**/console/stats/")
    assert page.locator("svg.chart").count() == 6
    assert page.locator("svg.chart rect.bar").count() >= 30
    screenshot(page, "console-statistics")
    page.click("text=近 7 天")
    assert len(page.locator("details tbody tr").all()) == 7

    page.click("nav.sidenav >> text=人员管理")
    assert "li.wei" in page.locator("table").inner_text()
    screenshot(page, "console-staff-list")

    page.click("text=添加人员")
    page.wait_for_url("**/console/staff/new")
    wait_for_focus(page, "username")
    page.keyboard.type("zhang.san")
    page.fill("#display_name", "张三")
    page.fill("#password", "a long initial password")
    page.check("input[value='data_admin']")
    screenshot(page, "console-staff-add")
    page.click("button:has-text('添加')")
    page.wait_for_url("**/console/staff/zhang.san")
    assert "已添加工作人员 张三" in page.locator(".flash-success").inner_text()
    screenshot(page, "console-staff-detail")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('停用账号')")
    assert "已停用 zhang.san" in page.locator(".flash-success").inner_text()

    page.click("nav.sidenav >> text=操作日志")
    log_text = page.locator("table").inner_text()
    assert "停用人员" in log_text
    assert "添加人员" in log_text
    screenshot(page, "console-audit-log")

    page.click("header >> text=王管理")
    assert page.locator("h1").inner_text() == "修改密码"
    screenshot(page, "console-password")

    page.click("header >> text=退出")
    page.wait_for_url("**/console/login")
    assert "您已安全退出" in page.locator(".flash-info").inner_text()
    assert page.errors == []  # type: ignore[attr-defined]


def test_forbidden_page_and_narrow_screen(live: tuple[Flask, str], page: Page) -> None:
    app, base_url = live
    add_staff(app, "li.wei", {Role.REVIEWER}, display_name="李伟")
    login(page, base_url, "li.wei")
    response = page.goto(f"{base_url}/console/staff/")
    assert response is not None
    assert response.status == 403
    assert page.locator("h1").inner_text() == "没有权限"
    screenshot(page, "console-forbidden")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/console/")
    nav = page.locator("nav.sidenav").bounding_box()
    main = page.locator("main").bounding_box()
    assert nav is not None
    assert main is not None
    assert nav["width"] >= 380  # the navigation runs across the top
    assert main["y"] > nav["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "console-dashboard-narrow")

"""有问必答 in a real browser: a resident's message through the webhook opens a case, the inbox shows
it, the case is assigned, answered with a canned reply (the fake WeChat records the customer-service
message), then closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core import services
from bot.wechat.service import WeChatServices
from cases.models import CannedReply, Case, CaseStatus
from devtools.fake_wechat import FakeWeChat
from staff.roles import Role
from tests.console.test_console_browser import login
from tests.support.browser_fixtures import screenshot
from tests.support.console import add_staff
from tests.support.live import serve
from tests.support.reports import close_queue, drain, unit
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

OPENID = "oResidentBrowser000000001"
CANNED = "您好，您反映的路灯问题已安排维修，预计两个工作日内修复。"


@pytest.fixture
def inbox(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[tuple[Flask, str]]:
    app = make_app(**fake_wechat.settings_overrides())
    add_staff(app, "chief", {Role.SECTION_CHIEF}, display_name="科长乙")
    add_staff(app, "officer", {Role.CASE_OFFICER}, display_name="办理员甲")
    with unit(app) as session:
        session.add(CannedReply(title="路灯维修", body=CANNED, position=1))
    with serve(app) as base_url:
        yield app, base_url
    close_queue(app)
    api = services.of(app).get(WeChatServices).api
    if api is not None:
        api.close()


def _case(app: Flask) -> Case:
    with unit(app) as session:
        [case] = session.scalars(select(Case)).all()
        session.expunge(case)
        return case


def test_a_message_becomes_a_case_that_is_assigned_answered_and_closed(
    inbox: tuple[Flask, str], page: Page, fake_wechat: FakeWeChat
) -> None:
    app, base_url = inbox
    sim = simulator_for(app)
    ack = sim.send(sim.text(OPENID, "小区门口的路灯坏了好几天了"))
    drain(app)
    case = _case(app)
    assert case.number in (ack.text or "")

    login(page, base_url, "chief")
    page.click("nav.sidenav >> text=留言办理")
    page.wait_for_url("**/console/cases/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 1
    assert case.number in rows.nth(0).inner_text()
    assert page.locator('[data-figure="open"]').inner_text() == "1"
    screenshot(page, "console-cases-queue")

    rows.nth(0).locator("a").click()
    page.wait_for_url(f"**/console/cases/{case.id}")
    assert "小区门口的路灯坏了好几天了" in page.locator("ol.thread").inner_text()
    assert page.locator('[data-window="open"]').is_visible()
    screenshot(page, "console-case-page")

    page.select_option("#a-department", "city")
    page.select_option("#a-assignee", "officer")
    page.click("text=保存分派")
    page.wait_for_url(f"**/console/cases/{case.id}")
    assert page.locator("[data-assignee]").inner_text() == "办理员甲"
    assert page.locator("[data-department]").inner_text() == "市容科"

    page.select_option("#canned", label="路灯维修")  # the script fills the reply box at once
    assert page.locator("#reply-text").input_value() == CANNED
    screenshot(page, "console-case-reply")
    page.click("text=发送答复")
    page.wait_for_url(f"**/console/cases/{case.id}")
    drain(app)
    assert any(m["touser"] == OPENID and CANNED in m["text"]["content"] for m in fake_wechat.sent_messages)
    page.reload()
    assert page.locator(".status-pill").inner_text() == "已答复"
    assert "已通过客服消息发送" in page.locator("ol.thread").inner_text()
    screenshot(page, "console-case-answered")

    page.click("text=办结并请市民评价")
    page.wait_for_url(f"**/console/cases/{case.id}")
    drain(app)
    assert page.locator(".status-pill").inner_text() == "已办结"
    screenshot(page, "console-case-closed")
    assert _case(app).status is CaseStatus.CLOSED
    assert any("请您对办理结果进行评价" in m["text"]["content"] for m in fake_wechat.sent_messages)
    assert page.errors == []  # type: ignore[attr-defined]

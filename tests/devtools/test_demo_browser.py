"""The whole demo in Chromium, against the WeChat stand-in, as the README walks it: a resident's photo
report in the chat (the photo kept and served by the stand-in) → reviewed in the console with the
photo visible → accepted → the notice in the chat → points paid out; a draft → 初审, 复审, 终审 →
published → the job-finished event → 最新发布 in the chat, opening the article."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core import services
from bot.core.database import session_scope
from broadcasts.models import Publication, PublicationStatus
from cli.chat import Inbox, Photos, run_chat, simulator_from
from devtools.fake_wechat import FakeWeChat, Webhook
from devtools.fake_wechat.client import StandIn
from devtools.simulator import WeChatSimulator
from reports.models import LineStatus, PayoutLine, PhotoStatus, Report, ReportStatus
from staff.roles import Role
from tests.support.broadcasts import png
from tests.support.browser_fixtures import screenshot
from tests.support.console import add_staff
from tests.support.console_flows import (
    VIEWPORT,
    confirm_batch,
    create_batch,
    export_batch,
    log_out,
    login,
    newsroom_staff,
    publish_as,
    submit_through_review,
    write_draft,
)
from tests.support.live import serve
from tests.support.reports import drain

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

RESIDENT = "demo-resident"
CHOICE = re.compile(r"[“\"]([^”\"]+)[”\"]")


class Chat:
    """``make chat`` for one resident: what was typed and everything shown, in order."""

    def __init__(self, app: Flask, base_url: str, stand_in: StandIn) -> None:
        self.sim: WeChatSimulator = simulator_from(services.settings(app), f"{base_url}/wechat", None)
        self.photos = Photos(stand_in)
        self.inbox = Inbox(stand_in, RESIDENT)
        self.transcript: list[tuple[str, str]] = []

    def say(self, line: str) -> list[str]:
        shown: list[str] = []
        run_chat(
            self.sim,
            RESIDENT,
            iter([line, None]).__next__,
            shown.append,
            photos=self.photos,
            inbox=self.inbox,
        )
        self.transcript += [("你", line), *(("城管", text) for text in shown)]
        return shown

    def wait_for_message(self, needle: str, work: Callable[[], None], timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            work()  # the background jobs (a citybot worker beside the server, when Redis is set)
            for text in self.inbox():
                self.transcript.append(("城管", text))
                if needle in text:
                    return text
            time.sleep(0.2)
        raise AssertionError(f"no message with {needle!r} reached the chat")

    def show(self, page: Page, name: str) -> None:
        """The transcript as the terminal shows it, screenshot beside the console's pages."""
        lines = "".join(
            f'<p class="{"me" if who == "你" else "bot"}"><b>{who}&gt;</b> {html.escape(text)}</p>'
            for who, text in self.transcript
        )
        terminal = page.context.new_page()  # a blank page: not under the console's policy
        try:
            terminal.set_content(
                '<html lang="zh-CN"><body style="font-family:monospace;white-space:pre-wrap;background:#111;'
                f'color:#ddd;padding:1rem">{lines}</body></html>'
            )
            screenshot(terminal, name)
        finally:
            terminal.close()


def report_in_the_chat(chat: Chat) -> str:
    """Photo, location, then whatever the conversation asks, until the report is submitted."""
    assert "欢迎关注" in chat.say("/sub")[0]
    assert "已收到照片" in "\n".join(chat.say("/image"))
    shown = chat.say("/loc 31.2990 120.5853 观前街")
    described = False
    for _ in range(6):
        reply = "\n".join(shown)
        submitted = re.search(r"编号\s*(SP[\d-]+)", reply)
        if submitted:
            return submitted.group(1)
        choices = CHOICE.findall(reply)
        if "请选择问题类型" in reply:
            shown = chat.say("2")  # 乱堆乱放
        elif not described and "描述" in reply:
            shown, described = chat.say("店门口人行道堆满纸箱，行人只能走机动车道"), True
        elif confirm := next((c for c in choices if c in ("提交", "确认", "确认提交", "是")), None):
            shown = chat.say(confirm)
        else:
            raise AssertionError(f"the report conversation stopped at: {reply}")
    raise AssertionError("the report was never submitted")


@pytest.fixture
def demo(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, tmp_path: Path
) -> Iterator[tuple[Flask, str]]:
    """What ``make run`` serves: citybot with the stand-in as its WeChat, events posted back to it."""
    cover = tmp_path / "cover.png"
    cover.write_bytes(png(90, 38))
    app = make_app(**fake_wechat.settings_overrides(), broadcasts={"default_cover": str(cover)})
    for username, roles, name in [
        ("shenhe", {Role.REVIEWER}, "审核员小陈"),
        ("jiangli", {Role.REWARDS_OFFICER}, "奖励专员甲"),
        ("jiangli2", {Role.REWARDS_OFFICER}, "奖励专员乙"),
        *newsroom_staff(),
    ]:
        add_staff(app, username, roles, display_name=name)
    with serve(app) as base_url:
        wechat = services.settings(app).wechat
        fake_wechat.webhook = Webhook(f"{base_url}/wechat", wechat.token, app_id=wechat.app_id)
        fake_wechat.event_delay = 0.5
        yield app, base_url


def test_the_whole_demo(
    demo: tuple[Flask, str], fake_wechat: FakeWeChat, page: Page, chromium: Browser
) -> None:
    app, base_url = demo
    chat = Chat(app, base_url, StandIn(fake_wechat.url))

    # 文明随手拍 in the chat: the photo goes to the stand-in, citybot downloads it from there
    number = report_in_the_chat(chat)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        drain(app)
        with session_scope(app) as session:
            report = session.scalars(select(Report).where(Report.number == number)).one()
            if [p.status for p in report.photos] == [PhotoStatus.STORED]:
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the chat's photo was never downloaded from the stand-in")
    chat.show(page, "demo-chat-report")

    # reviewed in the console, the photo visible, accepted
    login(page, base_url, "shenhe")
    page.click("nav.sidenav >> text=举报审核")
    page.wait_for_url("**/console/reports/")
    page.locator("table.queue tbody tr", has_text=number).locator("a").first.click()
    page.wait_for_selector(".photos img")
    page.wait_for_function(
        "[...document.querySelectorAll('.photos img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "店门口人行道堆满纸箱" in page.locator("main").inner_text()
    screenshot(page, "demo-review-photo")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[value=accept]")
    page.wait_for_selector(".flash-success")
    assert "已采纳" in page.locator(".flash-success").inner_text()
    screenshot(page, "demo-review-accepted")
    log_out(page)

    # the notice reaches the resident's chat as a customer-service message
    notice = chat.wait_for_message(number, lambda: drain(app))
    assert notice.startswith("【客服消息】")
    assert f"{number} 已被采纳" in notice
    assert [m.kind for m in fake_wechat.messages_to(RESIDENT)] == ["custom"]
    bound = "\n".join(chat.say("绑定手机 13800138000"))  # the number that receives the phone credit
    assert "已绑定手机 138****8000" in bound
    chat.show(page, "demo-chat-notice")

    # points paid out: a batch by one officer, exported, confirmed by another
    officer = chromium.new_context(locale="zh-CN", viewport=VIEWPORT, accept_downloads=True)
    try:
        desk = officer.new_page()
        login(desk, base_url, "jiangli")
        desk.click("nav.sidenav >> text=积分兑付")
        desk.wait_for_url("**/console/rewards/")
        create_batch(desk)
        assert "138****8000" in desk.locator("table").inner_text()
        assert "13800138000" in export_batch(desk)
        batch_url = desk.url
        screenshot(desk, "demo-payout-batch")
    finally:
        officer.close()
    flash = confirm_batch(chromium, base_url, "jiangli2", batch_url, "demo-payout-confirmed")
    assert "1 笔已发放，0 笔失败" in flash
    with session_scope(app) as session:
        assert (
            session.scalars(select(Report).where(Report.number == number)).one().status
            is ReportStatus.ACCEPTED
        )
        assert session.scalars(select(PayoutLine)).one().status is LineStatus.PAID

    # 城管发布: a draft through 初审, 复审 and 终审, published, finished by WeChat's event
    title = "夏季西瓜摊点开放公告"
    write_draft(
        page,
        base_url,
        "bianji",
        title,
        "今年夏季西瓜临时摊点于6月1日开放。\n\n请市民**文明购买**，摊主规范经营。",
    )
    page.click("text=保存并预览")
    page.wait_for_selector("article.phone")
    submit_through_review(page, base_url, title)
    publish_as(page, base_url, "zongbian", title)
    assert "等待微信完成" in page.locator(".flash-success").inner_text()
    (delivery,) = fake_wechat.wait_for_deliveries(1)
    assert (delivery.event, delivery.delivered) == ("MASSSENDJOBFINISH", True)
    page.reload()
    with session_scope(app) as session:
        publication = session.scalars(select(Publication)).one()
        assert publication.status is PublicationStatus.SENT
        article_url = str(publication.article_url)
    screenshot(page, "demo-broadcast-sent")

    # 最新发布 in the chat, and the article it links to
    latest = "\n".join(chat.say("/click LATEST_BROADCASTS"))
    assert title in latest
    assert article_url in latest
    chat.show(page, "demo-chat-latest")
    page.goto(article_url)
    assert page.locator("h1").inner_text() == title
    assert page.locator("article strong").inner_text() == "文明购买"
    page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth === 90")
    screenshot(page, "demo-article")
    assert page.errors == []  # type: ignore[attr-defined]

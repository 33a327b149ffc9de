"""城管发布 in a real browser: a draft written in the console with a cover, previewed, submitted,
approved through 初审, 复审 and 终审 by three people, published to the fake WeChat and withdrawn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from devtools.fake_wechat import FakeWeChat
from tests.support.broadcasts import png
from tests.support.browser_fixtures import screenshot
from tests.support.console import add_staff
from tests.support.console_flows import login, newsroom_staff, submit_through_review, write_draft
from tests.support.live import serve

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def newsroom(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[tuple[Flask, str]]:
    app = make_app(**fake_wechat.settings_overrides())
    for username, roles, name in newsroom_staff():
        add_staff(app, username, roles, display_name=name)
    with serve(app) as base_url:
        yield app, base_url


def test_console_draft_to_publish_and_withdraw(
    newsroom: tuple[Flask, str], fake_wechat: FakeWeChat, page: Page, chromium: Browser, tmp_path: Path
) -> None:
    _app, base_url = newsroom
    cover = tmp_path / "cover.png"
    cover.write_bytes(png(64, 36))
    title = "夏季西瓜摊点开放公告"

    body = "今年夏季西瓜临时摊点于6月1日开放。\n\n请市民**文明购买**，详见[公告](https://example.gov.cn/a)。"
    write_draft(page, base_url, "bianji", title, body, cover)
    screenshot(page, "console-broadcast-new")
    page.click("text=保存并预览")
    page.wait_for_selector("article.phone")
    preview = page.locator("article.phone")
    assert preview.locator(".article-title").inner_text() == title
    assert preview.locator(".article-body strong").inner_text() == "文明购买"
    page.wait_for_function("document.querySelector('img.article-cover').naturalWidth === 64")
    screenshot(page, "console-broadcast-preview")
    submit_through_review(page, base_url, title)

    login(page, base_url, "zongbian")
    page.click("nav.sidenav >> text=城管发布")
    page.locator("#ready").locator(f"a:has-text('{title}')").click()
    assert "本月已群发 0 / 4 次" in page.locator("#publish").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-button")
    page.wait_for_selector("#publications")
    assert "等待微信完成" in page.locator(".flash-success").inner_text()
    assert len(fake_wechat.mass_sends) == 1
    screenshot(page, "console-broadcast-published")

    page.fill("#publications input[name=reason]", "信息有误，重新发布")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publications button:has-text('一键撤稿')")
    page.wait_for_selector(".flash-success")
    assert page.locator(".flash-success").inner_text() == "已撤稿。"
    assert page.locator("#publications .publication-status").inner_text() == "已撤稿"
    assert "赵总编 · 撤稿（第 1 版）：信息有误，重新发布" in page.locator("#trail").inner_text()
    assert len(fake_wechat.deleted_mass) == 1
    screenshot(page, "console-broadcast-withdrawn")

    page.click("nav.sidenav >> text=城管发布")
    assert "1 / 4" in page.locator("#rhythm").inner_text()
    screenshot(page, "console-broadcasts-index")
    assert page.errors == []  # type: ignore[attr-defined]

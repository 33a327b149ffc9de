"""Console steps several browser tests walk: a payout batch created, exported and confirmed by a
second officer; a draft written; a draft approved at one review stage; publishing it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from staff.roles import Role
from tests.support.browser_fixtures import SCREENSHOTS, screenshot
from tests.support.console import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VIEWPORT = {"width": 1280, "height": 860}


def newsroom_staff() -> list[tuple[str, set[Role], str]]:
    """(username, roles, name) of the people a draft goes through: its author, 初审, 复审, 终审."""
    return [
        ("bianji", {Role.EDITOR}, "编辑小王"),
        ("chushen", {Role.EDITOR}, "编辑小李"),
        ("kezhang", {Role.SECTION_CHIEF}, "张科长"),
        ("zongbian", {Role.CHIEF_EDITOR}, "赵总编"),
    ]


def wait_for_focus(page: Page, element_id: str) -> None:
    """The field with ``element_id`` has the keyboard focus (set by the page's autofocus)."""
    page.wait_for_function(f"document.activeElement && document.activeElement.id === '{element_id}'")


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in with the keyboard only: the username field has focus, Tab, Enter."""
    page.goto(f"{base_url}/console/")
    assert page.url.startswith(f"{base_url}/console/login")
    wait_for_focus(page, "username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/console/")


def log_out(page: Page) -> None:
    page.click("header .who button")
    page.wait_for_url("**/console/login**")


def create_batch(desk: Page) -> None:
    """On the rewards page: 生成兑付批次, confirmed; the batch's page opens."""
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("button:has-text('生成兑付批次')")
    desk.wait_for_url(re.compile(r".*/console/rewards/batches/\d+$"))


def export_batch(desk: Page) -> str:
    """On a batch's page: 导出 CSV, saved under test-artifacts/downloads; its text."""
    with desk.expect_download() as download_info:
        desk.click("button:has-text('导出 CSV')")
    download = download_info.value
    saved = SCREENSHOTS.parent / "downloads" / download.suggested_filename
    download.save_as(str(saved))
    return saved.read_bytes().decode("utf-8-sig")


def confirm_batch(chromium: Browser, base_url: str, username: str, batch_url: str, shot: str) -> str:
    """A second officer, in a browser of their own, confirms the batch paid: the flash message."""
    checker = chromium.new_context(locale="zh-CN", viewport=VIEWPORT)
    try:
        desk = checker.new_page()
        login(desk, base_url, username)
        desk.goto(batch_url)
        desk.once("dialog", lambda dialog: dialog.accept())
        desk.click("button:has-text('确认发放结果')")
        flash = desk.locator(".flash-success").inner_text()
        screenshot(desk, shot)
        return flash
    finally:
        checker.close()


def write_draft(
    page: Page, base_url: str, username: str, title: str, body: str, cover: Path | None = None
) -> None:
    """Log in and fill in a new draft of the general grade (not yet saved)."""
    login(page, base_url, username)
    page.click("nav.sidenav >> text=城管发布")
    page.wait_for_url("**/console/broadcasts/")
    page.click("text=新建草稿")
    page.fill("#title", title)
    page.fill("#body", body)
    page.select_option("#grade", "general")
    if cover is not None:
        page.set_input_files("#cover", str(cover))


def approve_as(page: Page, base_url: str, username: str, title: str, stage: str) -> None:
    login(page, base_url, username)
    page.click("nav.sidenav >> text=城管发布")
    page.wait_for_url("**/console/broadcasts/")
    section = page.locator("section", has=page.locator(f"h2:has-text('待我{stage}')"))
    section.locator(f"a:has-text('{title}')").click()
    page.wait_for_selector("#decide")
    page.fill("#approve-comment", f"{stage}同意")
    page.click("#approve")
    page.wait_for_url("**/console/broadcasts/")
    assert f"{stage}通过" in page.locator(".flash-success").inner_text()
    log_out(page)


def submit_through_review(page: Page, base_url: str, title: str) -> None:
    """From the preview of a saved draft: submit it, then 初审, 复审 and 终审 by the newsroom."""
    page.click("#submit-draft")
    assert "已提交初审" in page.locator(".flash-success").inner_text()
    log_out(page)
    approve_as(page, base_url, "chushen", title, "初审")
    approve_as(page, base_url, "kezhang", title, "复审")
    approve_as(page, base_url, "zongbian", title, "终审")


def publish_as(page: Page, base_url: str, username: str, title: str) -> None:
    """The chief editor publishes the approved draft ``title`` (a mass send), confirming."""
    login(page, base_url, username)
    page.click("nav.sidenav >> text=城管发布")
    page.locator("#ready").locator(f"a:has-text('{title}')").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish-button")
    page.wait_for_selector("#publications")

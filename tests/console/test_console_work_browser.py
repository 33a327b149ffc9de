"""Working the console in a real browser: a report from the queue to accepted with the keyboard,
its ledger entry, then a payout batch created, exported as CSV and confirmed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from bot.core.clock import utcnow
from bot.core.database import session_scope
from reports.models import LineStatus, PayoutLine, PhotoStatus, Report, ReportStatus
from reports.phones import bind_phone
from staff.roles import Role
from tests.support.browser_fixtures import screenshot
from tests.support.console import add_staff, with_fake_wechat
from tests.support.console_flows import confirm_batch, create_batch, export_batch, login
from tests.support.live import serve
from tests.support.reports import FakeMedia, close_queue, make_unready, new_report

pytestmark = pytest.mark.browser

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Browser, Page


@pytest.fixture
def work(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, str, FakeMedia]]:
    app = make_app()
    media, _sender = with_fake_wechat(app)
    add_staff(app, "rev", {Role.REVIEWER}, display_name="审核员")
    add_staff(app, "officer", {Role.REWARDS_OFFICER}, display_name="奖励专员甲")
    add_staff(app, "officer2", {Role.REWARDS_OFFICER}, display_name="奖励专员乙")
    with serve(app) as base_url:
        yield app, base_url, media
    close_queue(app)


def test_work_a_report_to_accepted_and_pay_it_out(
    work: tuple[Flask, str, FakeMedia], page: Page, chromium: Browser
) -> None:
    app, base_url, media = work
    now = utcnow()
    first = new_report(
        app,
        media,
        seeds=(201,),
        openid="o-first",
        now=now - timedelta(hours=50),
        description="占用人行道卖水果",
    )
    second = new_report(app, media, seeds=(202,), openid="o-second", now=now - timedelta(hours=2))
    # Near the second within the duplicate window: flagged as its likely duplicate.
    third = new_report(app, media, seeds=(203,), openid="o-third", now=now - timedelta(hours=1))

    login(page, base_url, "rev")
    page.click("nav.sidenav >> text=举报审核")
    page.wait_for_url("**/console/reports/")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 3
    assert "超期" in rows.nth(0).inner_text()  # 50 h past a 48 h deadline, and first in the queue
    screenshot(page, "console-review-queue")

    rows.nth(0).locator("a").click()
    page.wait_for_url(f"**/console/reports/{first}")
    page.wait_for_function("[...document.images].every(img => img.complete && img.naturalWidth > 0)")
    assert "占用人行道卖水果" in page.locator("main").inner_text()
    screenshot(page, "console-review-report")

    page.keyboard.press("?")
    assert page.locator("#shortcut-help").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # accept; the next report in the queue opens
    page.wait_for_url(f"**/console/reports/{second}")
    assert "采纳，当前状态：已采纳" in page.locator(".flash-success").inner_text()
    page.keyboard.press("n")
    page.wait_for_url(f"**/console/reports/{third}")
    candidates = page.locator(".side-by-side article")
    assert candidates.count() == 2  # this report beside its candidate
    assert "位置相近" in candidates.nth(1).inner_text()
    screenshot(page, "console-review-duplicates")

    page.goto(f"{base_url}/console/reports/{first}")
    ledger = page.locator("table.ledger").inner_text()
    assert "+10" in ledger
    assert "rev" in ledger
    screenshot(page, "console-review-accepted")
    with session_scope(app) as session:
        assert session.get(Report, first).status == ReportStatus.ACCEPTED  # type: ignore[union-attr]
        bind_phone(session, "o-first", "13800138000")
    assert page.errors == []  # type: ignore[attr-defined]

    officer = chromium.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 860}, accept_downloads=True
    )
    try:
        desk = officer.new_page()
        login(desk, base_url, "officer")
        desk.click("nav.sidenav >> text=积分兑付")
        desk.wait_for_url("**/console/rewards/")
        assert desk.locator('[data-figure="due_points"]').inner_text() == "10"
        assert "+10" in desk.locator("table.ledger").inner_text()  # the ledger entry, on the rewards page
        screenshot(desk, "console-rewards")

        create_batch(desk)
        assert "138****8000" in desk.locator("table").inner_text()
        content = export_batch(desk)
        assert "13800138000" in content
        assert content.splitlines()[0].startswith("批次,序号,手机号,积分")
        desk.reload()
        assert "尚未导出" not in desk.locator("dl.facts").inner_text()
        screenshot(desk, "console-rewards-batch")
        batch_url = desk.url
    finally:
        officer.close()

    flash = confirm_batch(chromium, base_url, "officer2", batch_url, "console-rewards-confirmed")
    assert "1 笔已发放，0 笔失败" in flash
    with session_scope(app) as session:
        line = session.query(PayoutLine).one()
        assert line.status == LineStatus.PAID


def test_the_a_key_asks_before_accepting_a_report_whose_photo_is_not_ready(
    work: tuple[Flask, str, FakeMedia], page: Page
) -> None:
    app, base_url, media = work
    report_id = new_report(app, media, seeds=(211, 212), openid="o-waiting")
    make_unready(app, report_id, PhotoStatus.RETRYING)
    login(page, base_url, "rev")
    page.goto(f"{base_url}/console/reports/{report_id}")
    assert "照片 1：下载失败，稍后重试" in page.locator("main").inner_text()
    page.keyboard.press("a")
    page.wait_for_url(re.compile(rf".*/console/reports/{report_id}\?confirm=accept.*"))
    confirm = page.locator("#confirm-accept")
    assert confirm.is_visible()
    assert "照片尚未就绪，确认采纳？" in confirm.inner_text()
    assert "尚未就绪" in page.locator(".flash-error").inner_text()
    screenshot(page, "console-review-confirm-photos")
    with page.expect_navigation():
        page.keyboard.press("a")  # A again only asks again: the confirmation is a button of its own
    assert confirm.is_visible()
    with session_scope(app) as session:
        assert session.get(Report, report_id).status == ReportStatus.SUBMITTED  # type: ignore[union-attr]
    confirm.locator("button:has-text('确认采纳')").click()
    page.wait_for_url(f"{base_url}/console/reports/")  # the queue: no next report
    assert "采纳，当前状态：已采纳" in page.locator(".flash-success").inner_text()
    with session_scope(app) as session:
        assert session.get(Report, report_id).status == ReportStatus.ACCEPTED  # type: ignore[union-attr]
    assert page.errors == []  # type: ignore[attr-defined]


def test_upload_a_dataset_with_errors_fix_it_and_publish_it(
    make_app: Callable[..., Flask], page: Page
) -> None:
    app = make_app(geo={"service_area": [31.0, 120.3, 31.6, 121.1]})
    add_staff(app, "data", {Role.DATA_ADMIN}, display_name="数据管理员")
    header = "name,lat,lon,address,opening_hours\n"
    first = "观前街公厕,31.3080,120.6200,观前街1号,06:00-22:00\n"
    dirty = header + first + "零点公厕,0,0,无,\n" + "颠倒公厕,120.6300,31.3150,平江路,\n"
    fixed = header + first + "平江路公厕,31.3150,120.6300,平江路,\n"
    with serve(app) as base_url:
        login(page, base_url, "data")
        page.click("nav.sidenav >> text=设施数据")
        page.wait_for_url("**/console/datasets/")
        screenshot(page, "console-datasets")

        def check(body: str) -> None:
            page.select_option("#kind", "toilet")
            page.select_option("#datum", "gcj02")
            page.set_input_files(
                "#file",
                files=[{"name": "toilets.csv", "mimeType": "text/csv", "buffer": body.encode("utf-8")}],
            )
            page.click("button:has-text('检查（不发布）')")
            page.wait_for_selector("#check-result")

        check(dirty)
        problems = page.locator("table.problems tbody tr").all_inner_texts()
        assert problems[0].startswith("第 3 行\t坐标为零")
        assert problems[1].startswith("第 4 行\t经纬度疑似颠倒")
        assert page.locator("button:has-text('发布为')").count() == 0
        screenshot(page, "console-datasets-errors")

        check(fixed)
        assert "共 2 条，全部通过检查" in page.locator("#check-result").inner_text()
        screenshot(page, "console-datasets-checked")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('发布为公共厕所的新版本')")
        page.wait_for_url("**/console/datasets/")
        assert "已发布为新版本（版本 1，2 条）" in page.locator(".flash-success").inner_text()
        row = page.locator('table.versions[data-kind="toilet"] tbody tr').first.inner_text()
        assert row.split("\t")[:4] == ["1", "使用中", "2", "GCJ02"]
        screenshot(page, "console-datasets-published")
        assert page.errors == []  # type: ignore[attr-defined]


def test_a_gbk_file_that_drops_most_rows_is_published_only_when_ticked_then_rolled_back(
    make_app: Callable[..., Flask], page: Page
) -> None:
    app = make_app(geo={"service_area": [31.0, 120.3, 31.6, 121.1]})
    add_staff(app, "data", {Role.DATA_ADMIN}, display_name="数据管理员")
    header = "name,lat,lon,address\n"
    many = header + "".join(f"公厕{i},31.3{i:02d},120.6{i:02d},地址{i}\n" for i in range(12))
    few = header + "观前街公厕,31.3080,120.6200,观前街1号\n平江路公厕,31.3150,120.6300,平江路\n"
    with serve(app) as base_url:
        login(page, base_url, "data")
        page.goto(f"{base_url}/console/datasets/")

        def check(body: bytes, name: str) -> None:
            page.select_option("#kind", "toilet")
            page.select_option("#datum", "wgs84")
            page.set_input_files("#file", files=[{"name": name, "mimeType": "text/csv", "buffer": body}])
            page.click("button:has-text('检查（不发布）')")
            page.wait_for_selector("#check-result")

        page.on("dialog", lambda dialog: dialog.accept())
        check(many.encode("utf-8"), "many.csv")
        page.click("button:has-text('发布为公共厕所的新版本')")
        page.wait_for_url("**/console/datasets/")
        check(few.encode("gbk"), "excel.csv")
        assert "已按 GBK/GB18030 编码读取文件。" in page.locator("#encoding").inner_text()
        notice = page.locator("#shrink").inner_text()
        assert "新文件只有 2 条，比当前版本（版本 1，12 条）少 10 条（83%）" in notice
        screenshot(page, "console-datasets-shrink")
        page.click("button:has-text('发布为公共厕所的新版本')")  # the tick is required: nothing is sent
        assert page.locator("#shrink").count() == 1
        page.check("input[name=confirm_shrink]")
        page.click("button:has-text('发布为公共厕所的新版本')")
        page.wait_for_url("**/console/datasets/")
        assert "版本 2，2 条" in page.locator(".flash-success").inner_text()
        page.click("button:has-text('回退到上一版本（版本 1）')")
        page.wait_for_url("**/console/datasets/")
        assert "已回退到版本 1（12 条）" in page.locator(".flash-success").inner_text()
        screenshot(page, "console-datasets-rolled-back")
        assert page.errors == []  # type: ignore[attr-defined]

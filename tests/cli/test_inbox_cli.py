"""``citybot inbox``: the queue, a case's thread, replying and closing as a staff member, the calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from bot.core import services
from cases import service, workdays
from cases.models import Case, CaseStatus
from cases.service import Incoming
from cases.settings import CasesSettings
from tests.support.clock import at
from tests.support.reports import add_staff, unit

pytestmark = pytest.mark.integration

OPENID = "oResidentInbox0000000001"
# Tuesday 1 December 2026, 10:00 in Shanghai
TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _open(app: Flask, text: str, now: datetime, openid: str = OPENID) -> str:
    with unit(app) as session:
        settings = services.settings(app).section(CasesSettings)
        return service.open_or_join(
            session, settings, openid=openid, incoming=Incoming("text", text), now=now
        ).case.number


def test_list_show_reply_and_close_from_the_command_line(app: Flask, run: Callable[..., Result]) -> None:
    add_staff(app, {"officer": "case_officer", "rev-a": "reviewer", "boss": "admin"})
    with at(TUESDAY):
        first = _open(app, "路灯不亮，电话13800138000", TUESDAY - timedelta(days=10))
        second = _open(app, "井盖丢了", TUESDAY, openid="oResidentInbox0000000002")
        listing = run("inbox", "list")
        overdue = run("inbox", "list", "--overdue")
        shown = run("inbox", "show", first)
        shown_admin = run("inbox", "show", first, "--as", "boss")
        refused = run("inbox", "reply", first, "--as", "rev-a", "--text", "好")
        early_close = run("inbox", "close", first, "--as", "officer")
        replied = run("inbox", "reply", first, "--as", "officer", "--text", "已安排维修。")
        closed = run("inbox", "close", first, "--as", "officer")
        unknown = run("inbox", "show", "LY20260101-0009")
        open_only = run("inbox", "list", "--open")
    assert listing.exit_code == 0, listing.output
    assert listing.output.index(first) < listing.output.index(second)  # oldest first
    assert "待办理" in listing.output
    assert "138****8000" in listing.output
    assert "13800138000" not in listing.output
    assert first in overdue.output
    assert "（已超期）" in overdue.output
    assert second not in overdue.output
    assert shown.exit_code == 0, shown.output
    assert f"留言 {first}（留言）" in shown.output
    assert OPENID not in shown.output
    assert "13800138000" not in shown.output
    assert OPENID in shown_admin.output
    assert "13800138000" in shown_admin.output
    assert refused.exit_code == 1
    assert early_close.exit_code == 1
    assert early_close.output == f"Error: 留言 {first} 尚未答复，请先答复。\n"
    assert replied.exit_code == 0, replied.output
    assert replied.output == f"已答复留言 {first}，答复已排队发送。\n"
    assert closed.output == f"已办结留言 {first}，已请市民评价。\n"
    assert unknown.exit_code == 1
    assert unknown.output == "Error: 没有留言 LY20260101-0009。\n"
    assert first not in open_only.output
    assert second in open_only.output
    with unit(app) as session:
        case = session.scalars(select(Case).where(Case.number == first)).one()
        assert case.status is CaseStatus.CLOSED
    with at(TUESDAY):
        thread = run("inbox", "show", first)
    assert "答复 officer：已安排维修。" in thread.output
    assert "办结" in thread.output


def test_calendar_add_marks_a_day_for_deadlines(app: Flask, run: Callable[..., Result]) -> None:
    added = run("inbox", "calendar", "add", "2026-12-02", "--holiday", "--note", "临时休息")
    assert added.exit_code == 0, added.output
    assert added.output == "已将 2026-12-02 设为休息日。\n"
    workday = run("inbox", "calendar", "add", "2026-12-05", "--workday")
    assert workday.output == "已将 2026-12-05 设为工作日。\n"
    missing = run("inbox", "calendar", "add", "2026-12-06")
    assert missing.exit_code == 2
    with unit(app) as session:
        assert not workdays.is_working_day(session, date(2026, 12, 2))
        assert workdays.is_working_day(session, date(2026, 12, 5))
        # Tue 1 Dec + 5 working days: Thu 3, Fri 4, Sat 5 (marked), Mon 7, Tue 8
        assert workdays.add_working_days(session, date(2026, 12, 1), 5) == date(2026, 12, 8)


def test_duty_add_puts_a_staff_member_on_the_roster(app: Flask, run: Callable[..., Result]) -> None:
    add_staff(app, {"duty": "case_officer", "boss": "admin"})
    added = run(
        "inbox",
        "duty",
        "add",
        "duty",
        "--from",
        "2026-12-01 18:00",
        "--until",
        "2026-12-02 08:30",
        "--as",
        "boss",
    )
    assert added.exit_code == 0, added.output
    assert added.output == "已安排 duty 值班：2026-12-01 18:00 至 2026-12-02 08:30。\n"
    refused = run(
        "inbox",
        "duty",
        "add",
        "boss",
        "--from",
        "2026-12-01 18:00",
        "--until",
        "2026-12-02 08:30",
        "--as",
        "duty",
    )
    assert refused.exit_code == 1
    backwards = run(
        "inbox",
        "duty",
        "add",
        "duty",
        "--from",
        "2026-12-02 18:00",
        "--until",
        "2026-12-02 08:30",
        "--as",
        "boss",
    )
    assert backwards.output == "Error: 值班结束时间须晚于开始时间。\n"
    with unit(app) as session:
        # 22:00 in Shanghai on 1 December (14:00 UTC) falls in the shift
        assert [m.username for m in service.on_duty(session, datetime(2026, 12, 1, 14, 0, tzinfo=UTC))] == [
            "duty"
        ]
        assert service.on_duty(session, datetime(2026, 12, 2, 1, 0, tzinfo=UTC)) == []

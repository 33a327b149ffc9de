"""Control characters in any console query or form value are a 400 page naming the problem, never a
500 (PostgreSQL cannot store or even compare NUL), and nothing is decided or written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from bot.core.audit import AuditEntry as ConsoleAudit
from bot.core.database import session_scope
from reports.models import Report, ReportStatus
from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text, with_fake_wechat
from tests.support.reports import FakeMedia, close_queue, new_report

pytestmark = pytest.mark.integration

MESSAGE = "提交的内容含有无法识别的控制字符（可能来自复制粘贴），请删除后重试。"


@pytest.fixture
def console_app(app: Flask) -> Iterator[tuple[Flask, FakeMedia]]:
    media, _sender = with_fake_wechat(app)
    add_staff(app, "rev", {Role.REVIEWER})
    add_staff(app, "admin", {Role.ADMIN})
    yield app, media
    close_queue(app)


def assert_refused(response: object) -> None:
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = text(response)  # type: ignore[arg-type]
    assert "请求无效" in page
    assert MESSAGE in page


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x7f"])
@pytest.mark.parametrize("name", ["area", "category", "start", "status"])
def test_queue_filters(console_app: tuple[Flask, FakeMedia], name: str, bad: str) -> None:
    app, _media = console_app
    client = ConsoleClient(app).logged_in("rev")
    assert_refused(client.get("/console/reports/", query_string={name: f"姑苏{bad}区"}))


def test_queue_filter_with_a_tab_is_searched(console_app: tuple[Flask, FakeMedia]) -> None:
    app, _media = console_app
    client = ConsoleClient(app).logged_in("rev")
    assert client.get("/console/reports/", query_string={"area": "姑苏\t区"}).status_code == 200


@pytest.mark.parametrize(
    "form",
    [
        {"action": "duplicate", "original": "SP\x00"},
        {"action": "accept", "comment": "核实\x00属实"},
        {"action": "review", "comment": "\x08"},
        {"action": "accept\x00"},
        {"action": "accept", "expected": "submitted\x00"},
    ],
)
def test_decision_fields(console_app: tuple[Flask, FakeMedia], form: dict[str, str]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(71,), openid="o-nul")
    client = ConsoleClient(app).logged_in("rev")
    assert_refused(client.post(f"/console/reports/{report_id}/decide", {"expected": "submitted", **form}))
    with session_scope(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == ReportStatus.SUBMITTED
        # Nothing but the submission in the report's history: no decision was recorded.
        assert [e.action for e in session.query(ConsoleAudit).all() if e.action.startswith("report.")] == [
            "report.submit"
        ]


def test_bulk_decision_and_other_pages(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(72,), openid="o-bulk")
    client = ConsoleClient(app).logged_in("rev")
    bulk = {
        "action": "reject",
        "reason": "not_a_violation",
        "comment": "\x00",
        "pick": f"{report_id}:submitted",
    }
    assert_refused(client.post("/console/reports/bulk", bulk))
    assert_refused(client.get("/console/audit/", query_string={"actor": "\x00"}))
    admin = ConsoleClient(app).logged_in("admin")
    assert_refused(admin.post("/console/staff/new", {"username": "new\x00", "password": "x" * 12}))
    assert_refused(admin.get("/console/staff/rev%00"))


def test_a_comment_with_line_breaks_is_kept(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(73,), openid="o-lines")
    client = ConsoleClient(app).logged_in("rev")
    done = client.post(
        f"/console/reports/{report_id}/decide",
        {"action": "accept", "expected": "submitted", "comment": "第一行\r\n第二行\t完"},
    )
    assert done.status_code == 302
    with session_scope(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == ReportStatus.ACCEPTED

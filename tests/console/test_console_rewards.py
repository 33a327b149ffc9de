"""Rewards in the console: balances due, a payout batch, its CSV, paid and failed lines."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.database import session_scope
from reports.models import LedgerEntry, LineStatus, PayoutLine
from reports.phones import bind_phone
from reports.rewards import balance
from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text, with_fake_wechat
from tests.support.reports import close_queue, new_report

pytestmark = pytest.mark.integration


@pytest.fixture
def paid_app(app: Flask) -> Iterator[Flask]:
    """Two residents with accepted reports (10 points each) and bound phones."""
    media, _sender = with_fake_wechat(app)
    add_staff(app, "rev", {Role.REVIEWER})
    add_staff(app, "officer", {Role.REWARDS_OFFICER})
    add_staff(app, "officer2", {Role.REWARDS_OFFICER})
    reviewer = ConsoleClient(app).logged_in("rev")
    for number, openid in enumerate(("o-alpha", "o-beta")):
        report_id = new_report(app, media, seeds=(100 + number,), openid=openid)
        reviewer.post(f"/console/reports/{report_id}/decide", {"action": "accept", "expected": "submitted"})
    with session_scope(app) as session:
        bind_phone(session, "o-alpha", "13800138000")
        bind_phone(session, "o-beta", "13900139000")
    yield app
    close_queue(app)


def flashes(page: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+"[^>]*>([^<]*)<', page)


def test_balances_due_are_shown_masked(paid_app: Flask) -> None:
    page = text(ConsoleClient(paid_app).logged_in("officer").get("/console/rewards/"))
    assert 'data-figure="due_people">2<' in page
    assert 'data-figure="due_points">20<' in page
    assert "138****8000" in page
    assert "13800138000" not in page
    assert "o-alpha" not in page
    assert page.count("+10") == 2  # the ledger's earnings


def test_batch_export_and_confirmation_with_four_eyes(paid_app: Flask) -> None:
    officer = ConsoleClient(paid_app).logged_in("officer")
    created = officer.post("/console/rewards/batches")
    assert created.status_code == 302
    batch_path = created.headers["Location"]
    batch_id = int(batch_path.rsplit("/", 1)[1])
    page = text(officer.get(batch_path))
    assert "已生成兑付批次" in flashes(page)[0]
    assert "须由另一位奖励专员确认" in page

    exported = officer.post(f"/console/rewards/batches/{batch_id}/export")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="payout-batch-{batch_id}.csv"'
    assert exported.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for spreadsheet software
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["批次", "序号", "手机号", "积分"]
    assert sorted(row[2] for row in rows[1:]) == ["13800138000", "13900139000"]
    assert all(row[3] == "10" for row in rows[1:])

    with session_scope(paid_app) as session:
        lines = {line.phone: line.id for line in session.scalars(select(PayoutLine))}
    own = officer.post(f"/console/rewards/batches/{batch_id}/confirm")
    assert "创建人以外" in flashes(text(officer.get(own.headers["Location"])))[0]

    other = ConsoleClient(paid_app).logged_in("officer2")
    failed_line = lines["13900139000"]
    confirmed = other.post(
        f"/console/rewards/batches/{batch_id}/confirm",
        {"failed": [str(failed_line)], f"reason-{failed_line}": "号码停机"},
    )
    page = text(other.get(confirmed.headers["Location"]))
    assert "1 笔已发放，1 笔失败" in flashes(page)[0]
    assert "号码停机" in page
    with session_scope(paid_app) as session:
        statuses = {line.phone: line.status for line in session.scalars(select(PayoutLine))}
        assert statuses == {"13800138000": LineStatus.PAID, "13900139000": LineStatus.FAILED}
        assert balance(session, "o-alpha") == 0
        assert balance(session, "o-beta") == 10  # the failed payout's points are due again
        kinds = [e.kind for e in session.scalars(select(LedgerEntry).where(LedgerEntry.openid == "o-beta"))]
    assert kinds == ["earn", "payout", "reverse"]
    again = other.post(f"/console/rewards/batches/{batch_id}/confirm")
    assert "该批次已确认，不能重复确认" in flashes(text(other.get(again.headers["Location"])))[0]


def test_nothing_due_makes_no_batch(app: Flask) -> None:
    add_staff(app, "officer", {Role.REWARDS_OFFICER})
    officer = ConsoleClient(app).logged_in("officer")
    response = officer.post("/console/rewards/batches")
    assert response.headers["Location"] == "/console/rewards/"
    assert "目前没有可兑付的积分" in flashes(text(officer.get("/console/rewards/")))[0]


def test_only_rewards_staff_reach_rewards(paid_app: Flask) -> None:
    reviewer = ConsoleClient(paid_app).logged_in("rev")
    assert reviewer.get("/console/rewards/").status_code == 403
    assert reviewer.post("/console/rewards/batches").status_code == 403

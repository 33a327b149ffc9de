"""What staff read in the console holds no raw codes or Python values: every console page, filled
with reports, decisions, payouts, datasets, staff and audit entries, is scanned for them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from flask import Flask

from bot.core.clock import utcnow
from bot.core.database import session_scope
from reports.models import PayoutBatch
from reports.phones import bind_phone
from staff.roles import Role
from tests.support.broadcasts import approved_draft
from tests.support.console import ConsoleClient, add_staff, text, with_fake_wechat
from tests.support.reports import close_queue, new_report

pytestmark = pytest.mark.integration

# Codes and values that must never be what a person reads.
RAW = re.compile(
    r"\bNone\b|\['|\{'|\b(?:pending|resident|reviewer|rewards_officer|data_admin|submitted|under_review|"
    r"rejected|insufficient_info|unclear_photo|needs_confirmation|Asia/Shanghai|True|False)\b|cli:"
)


def visible(page: str) -> str:
    """The text a person sees: no tags, attributes, scripts, or form values."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def full_app(app: Flask) -> Iterator[Flask]:
    media, _sender = with_fake_wechat(app)
    add_staff(app, "root", {Role.ADMIN, Role.REWARDS_OFFICER})
    add_staff(app, "rev", {Role.REVIEWER})
    add_staff(app, "officer", {Role.REWARDS_OFFICER})
    reviewer = ConsoleClient(app).logged_in("rev")
    accepted = new_report(app, media, seeds=(11,), openid="o-alpha")
    reviewer.post(f"/console/reports/{accepted}/decide", {"action": "accept", "expected": "submitted"})
    rejected = new_report(app, media, seeds=(12,), openid="o-beta")
    reviewer.post(
        f"/console/reports/{rejected}/decide",
        {"action": "reject", "expected": "submitted", "reason": "insufficient_info"},
    )
    with session_scope(app) as session:
        bind_phone(session, "o-alpha", "13800138000")
    officer = ConsoleClient(app).logged_in("officer")
    officer.post("/console/rewards/batches")
    admin = ConsoleClient(app).logged_in("root")
    admin.post("/console/staff/rev/roles", {"roles": ["reviewer", "editor"]})
    with session_scope(app) as session:
        draft = approved_draft(session, utcnow())
        app.config["RAW_SCAN_DRAFT"] = draft.id
    app.config["RAW_SCAN_REPORTS"] = (accepted, rejected)
    yield app
    close_queue(app)


def test_no_console_page_shows_a_raw_code(full_app: Flask) -> None:
    app = full_app
    admin = ConsoleClient(app).logged_in("root")
    with session_scope(app) as session:
        batch_id = session.query(PayoutBatch.id).scalar()
    accepted, rejected = app.config["RAW_SCAN_REPORTS"]
    pages = [
        "/console/",
        "/console/stats/",
        "/console/reports/",
        f"/console/reports/{accepted}",
        f"/console/reports/{rejected}",
        "/console/rewards/",
        f"/console/rewards/batches/{batch_id}",
        "/console/staff/",
        "/console/staff/rev",
        "/console/audit/",
        "/console/datasets/",
        "/console/broadcasts/",
        f"/console/broadcasts/{app.config['RAW_SCAN_DRAFT']}",
        "/console/no-such-page",
    ]
    for path in pages:
        response = admin.get(path)
        assert response.status_code in (200, 404), path
        found = RAW.findall(visible(text(response)))
        assert found == [], f"{path}: {found}"
    history = visible(text(admin.get(f"/console/reports/{rejected}")))
    assert "市民：" in history
    assert "北京时间" in visible(text(admin.get("/console/stats/")))
    exported = admin.get("/console/audit/export.csv").data.decode("utf-8-sig")
    assert RAW.findall(exported.split("\n", 1)[1]) == []
    payout = admin.post(f"/console/rewards/batches/{batch_id}/export").data.decode("utf-8-sig")
    assert RAW.findall(payout) == []

"""The review queue in the console: filters, counts, the report page, decisions through
reports.workflow, stale decisions, bulk decisions, photos through an authenticated route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.audit import AuditEntry, Channel
from bot.core.clock import utcnow
from bot.core.database import session_scope
from reports.models import LedgerEntry, PhotoStatus, Report, ReportStatus, audit_of
from staff import models as staff_models
from staff.roles import Role
from tests.support.clock import T0, at
from tests.support.console import ConsoleClient, add_staff, text, with_fake_wechat
from tests.support.reports import FakeMedia, close_queue, make_unready, new_report

pytestmark = pytest.mark.integration


@pytest.fixture
def console_app(app: Flask) -> Iterator[tuple[Flask, FakeMedia]]:
    media, _sender = with_fake_wechat(app)
    add_staff(app, "rev", {Role.REVIEWER}, display_name="审核员甲")
    add_staff(app, "rev2", {Role.REVIEWER})
    add_staff(app, "officer", {Role.REWARDS_OFFICER})
    yield app, media
    close_queue(app)


def status_of(app: Flask, report_id: int) -> ReportStatus:
    with session_scope(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        return report.status


def flashes(page: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+"[^>]*>([^<]*)<', page)


def test_queue_lists_open_reports_oldest_first_with_counts(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    with at(T0):  # 10:00 in Shanghai: "today" holds every report of the test, whatever the hour
        now = utcnow()
        late = new_report(app, media, seeds=(11,), now=now - timedelta(hours=60), openid="o-a")
        fresh = new_report(
            app, media, seeds=(12,), now=now - timedelta(hours=1), openid="o-b", category="littering"
        )
        done = new_report(app, media, seeds=(13,), now=now - timedelta(hours=30), openid="o-c")
        client = ConsoleClient(app).logged_in("rev")
        client.post(f"/console/reports/{done}/decide", {"action": "accept", "expected": "submitted"})

        page = text(client.get("/console/reports/"))
        numbers = re.findall(r'/console/reports/(\d+)">SP', page)
        assert numbers == [str(late), str(fresh)]  # oldest first; the accepted one left the queue
        assert 'data-figure="open">2<' in page
        assert 'data-figure="overdue">1<' in page  # 60 h > the category's 48 h deadline
        assert 'data-figure="accepted">1<' in page
        assert page.count('class="status overdue">超期') == 1
        assert "乱扔垃圾 1" in page

        dashboard = text(client.get("/console/"))
        assert 'data-figure="open">2<' in dashboard
        assert 'data-figure="overdue">1<' in dashboard
        overdue = text(client.get("/console/reports/?status=open&overdue=1"))
        assert re.findall(r'/console/reports/(\d+)">SP', overdue) == [str(late)]
        by_category = text(client.get("/console/reports/?category=littering"))
        assert re.findall(r'/console/reports/(\d+)">SP', by_category) == [str(fresh)]
        accepted = text(client.get("/console/reports/?status=accepted"))
        assert re.findall(r'/console/reports/(\d+)">SP', accepted) == [str(done)]
        today = (now + timedelta(hours=8)).date().isoformat()
        by_date = text(client.get(f"/console/reports/?status=all&start={today}&end={today}"))
        assert str(fresh) in re.findall(r'/console/reports/(\d+)">SP', by_date)
        assert str(late) not in re.findall(r'/console/reports/(\d+)">SP', by_date)
        nowhere = text(client.get("/console/reports/?status=all&area=姑苏区"))
        assert "没有符合条件的举报" in nowhere
        assert client.get("/console/reports/?start=yesterday").status_code == 400


def test_report_page_shows_photos_location_history_and_no_identity(
    console_app: tuple[Flask, FakeMedia],
) -> None:
    app, media = console_app
    earlier = new_report(app, media, seeds=(21,), openid="o-secret-openid", description="早先的")
    report_id = new_report(app, media, seeds=(22,), openid="o-secret-openid", description="人行道上摆摊")
    client = ConsoleClient(app).logged_in("rev")
    page = text(client.get(f"/console/reports/{report_id}"))
    assert "人行道上摆摊" in page
    assert "西湖边" in page
    assert "占道经营" in page
    assert 'href="https://uri.amap.com/navigation?' in page  # a link, not an embedded map
    assert "<iframe" not in page
    assert "o-secret-openid" not in page
    assert re.search(r"举报人 居民-[0-9A-F]{8}", page)
    assert f"/console/reports/{earlier}" in page  # the resident's history
    assert "累计举报 2 件" in page
    shown = re.search(r'<img src="(/console/reports/photos/\d+)" alt="举报照片 1"', page)
    assert shown is not None
    photo_path = shown.group(1)
    photo = client.get(photo_path)
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    assert photo.data[:2] == b"\xff\xd8"
    assert b"Exif" not in photo.data[:200]  # the stripped derivative
    assert ConsoleClient(app).get(photo_path).status_code == 302  # photos need a login too
    assert client.get("/console/reports/photos/99999").status_code == 404


def test_accept_awards_points_and_is_audited(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(31,))
    client = ConsoleClient(app).logged_in("rev")
    response = client.post(
        f"/console/reports/{report_id}/decide",
        {"action": "accept", "expected": "submitted", "comment": "属实"},
    )
    assert response.headers["Location"] == f"/console/reports/{report_id}"
    page = text(client.get(response.headers["Location"]))
    assert "采纳，当前状态：已采纳" in flashes(page)[0]
    assert "+10" in page  # the ledger entry, on the report page
    assert status_of(app, report_id) == ReportStatus.ACCEPTED
    with session_scope(app) as session:
        ledger = list(session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id)))
        trail = audit_of(session, report_id)
        logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.accept")).one()
        assert [(e.points, e.actor) for e in ledger] == [(10, "rev")]
        assert [(e.to_status, e.actor, e.comment) for e in trail][-1] == ("accepted", "rev", "属实")
        assert trail[-1].channel == "console"
        # One entry for the decision, in the one trail: the console's act, with the reviewer's account.
        assert (logged.actor, logged.channel, logged.target_kind, logged.target_id) == (
            "rev",
            Channel.CONSOLE,
            "report",
            report_id,
        )
        assert logged.staff_id is not None
        assert logged.ip
        assert logged.detail_data["comment"] == "属实"


def test_stale_decision_is_refused_with_a_clear_message(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(41,))
    first = ConsoleClient(app).logged_in("rev")
    second = ConsoleClient(app).logged_in("rev2")
    assert 'name="expected" value="submitted"' in text(second.get(f"/console/reports/{report_id}"))
    first.post(f"/console/reports/{report_id}/decide", {"action": "accept", "expected": "submitted"})
    late = second.post(
        f"/console/reports/{report_id}/decide",
        {"action": "reject", "expected": "submitted", "reason": "unclear_photo"},
    )
    page = text(second.get(late.headers["Location"]))
    assert "已被他人处理（当前状态：已采纳），您的操作未执行" in flashes(page)[0]
    assert status_of(app, report_id) == ReportStatus.ACCEPTED
    with session_scope(app) as session:
        assert len(list(session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id)))) == 1


def test_nobody_decides_on_their_own_report(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    with session_scope(app) as session:
        staff_models.link_wechat(session, "rev", "o-rev-follower")
    own = new_report(app, media, seeds=(41,), openid="o-rev-follower")
    client = ConsoleClient(app).logged_in("rev")
    response = client.post(f"/console/reports/{own}/decide", {"action": "accept", "expected": "submitted"})
    assert response.status_code == 302
    assert flashes(text(client.get(response.headers["Location"]))) == ["不能审核自己提交的举报。"]
    assert status_of(app, own) == ReportStatus.SUBMITTED
    other = ConsoleClient(app).logged_in("rev2")
    other.post(f"/console/reports/{own}/decide", {"action": "accept", "expected": "submitted"})
    assert status_of(app, own) == ReportStatus.ACCEPTED


def _number(app: Flask, report_id: int) -> str:
    with session_scope(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        return report.number


def test_workflow_refusals_are_flashed_from_the_catalogue(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    rejected = new_report(app, media, seeds=(61,), openid="o-first")
    copy = new_report(app, media, seeds=(62,), openid="o-second")
    client = ConsoleClient(app).logged_in("rev")

    def decide(report_id: int, **form: str) -> list[str]:
        response = client.post(f"/console/reports/{report_id}/decide", form)
        assert response.status_code == 302
        return flashes(text(client.get(response.headers["Location"])))

    itself = decide(copy, action="duplicate", expected="submitted", original=_number(app, copy))
    assert itself == ["不能把举报标记为自身的重复。"]
    decide(rejected, action="reject", expected="submitted", reason="unclear_photo")
    number = _number(app, rejected)
    on_rejected = decide(copy, action="duplicate", expected="submitted", original=number)
    assert on_rejected == [f"原举报 {number} 未被采纳，不能作为重复的原件。"]
    wrong_state = decide(copy, action="resolve", expected="submitted")
    assert wrong_state == ["当前状态（已提交）下不能执行“已处理”。"]
    assert status_of(app, copy) == ReportStatus.SUBMITTED


def test_reject_needs_a_reason_and_duplicate_needs_an_original(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    original = new_report(app, media, seeds=(51,), openid="o-first")
    copy = new_report(app, media, seeds=(51,), openid="o-second")  # the same photo
    client = ConsoleClient(app).logged_in("rev")
    page = text(client.get(f"/console/reports/{copy}"))
    assert "疑似重复（1）" in page
    assert "同一照片" in page
    no_reason = client.post(f"/console/reports/{copy}/decide", {"action": "reject", "expected": "submitted"})
    assert "请选择不采纳的原因" in flashes(text(client.get(no_reason.headers["Location"])))[0]
    nothing = client.post(f"/console/reports/{copy}/decide", {"action": "duplicate", "expected": "submitted"})
    assert "请填写或选择原举报的编号" in flashes(text(client.get(nothing.headers["Location"])))[0]
    with session_scope(app) as session:
        number = session.get(Report, original).number  # type: ignore[union-attr]
    client.post(
        f"/console/reports/{copy}/decide",
        {"action": "duplicate", "expected": "submitted", "original": number},
    )
    assert status_of(app, copy) == ReportStatus.DUPLICATE
    client.post(
        f"/console/reports/{original}/decide",
        {"action": "reject", "expected": "submitted", "reason": "not_a_violation"},
    )
    assert status_of(app, original) == ReportStatus.REJECTED


def test_after_a_decision_the_next_report_opens(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    now = utcnow()
    first = new_report(app, media, seeds=(61,), now=now - timedelta(hours=3), openid="o-1")
    second = new_report(app, media, seeds=(62,), now=now - timedelta(hours=2), openid="o-2")
    client = ConsoleClient(app).logged_in("rev")
    page = text(client.get(f"/console/reports/{first}"))
    assert f'name="next_id" value="{second}"' in page
    response = client.post(
        f"/console/reports/{first}/decide",
        {"action": "accept", "expected": "submitted", "then": "next", "next_id": str(second)},
    )
    assert response.headers["Location"] == f"/console/reports/{second}"


def test_bulk_decision_with_one_reason_refuses_stale_items(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    ids = [new_report(app, media, seeds=(70 + i,), openid=f"o-bulk-{i}") for i in range(3)]
    client = ConsoleClient(app).logged_in("rev")
    ConsoleClient(app).logged_in("rev2").post(
        f"/console/reports/{ids[2]}/decide", {"action": "accept", "expected": "submitted"}
    )
    response = client.post(
        "/console/reports/bulk",
        {
            "action": "reject",
            "reason": "old_photo",
            "pick": [f"{report_id}:submitted" for report_id in ids],
            "back": "/console/reports/?status=open",
        },
    )
    assert response.headers["Location"] == "/console/reports/?status=open"
    messages = flashes(text(client.get(response.headers["Location"])))
    assert messages[0].startswith("已对 2 件举报执行“不采纳”")
    assert "已被他人处理" in messages[1]
    assert [status_of(app, i) for i in ids] == [
        ReportStatus.REJECTED,
        ReportStatus.REJECTED,
        ReportStatus.ACCEPTED,
    ]
    with session_scope(app) as session:
        reasons = set(session.scalars(select(Report.reason_code).where(Report.id.in_(ids[:2]))))
    assert reasons == {"old_photo"}
    missing = client.post("/console/reports/bulk", {"action": "reject", "reason": "old_photo"})
    assert "请先勾选举报" in flashes(text(client.get(missing.headers["Location"])))[0]


def test_accepted_report_is_resolved_or_revoked(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(81,))
    client = ConsoleClient(app).logged_in("rev")
    client.post(f"/console/reports/{report_id}/decide", {"action": "accept", "expected": "submitted"})
    refused = client.post(
        f"/console/reports/{report_id}/decide", {"action": "revoke", "expected": "accepted"}
    )
    assert "撤销采纳须填写说明" in flashes(text(client.get(refused.headers["Location"])))[0]
    client.post(
        f"/console/reports/{report_id}/decide",
        {"action": "revoke", "expected": "accepted", "comment": "照片经复核不符"},
    )
    assert status_of(app, report_id) == ReportStatus.UNDER_REVIEW
    with session_scope(app) as session:
        points = [
            e.points for e in session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id))
        ]
    assert points == [10, -10]
    client.post(f"/console/reports/{report_id}/decide", {"action": "accept", "expected": "under_review"})
    client.post(f"/console/reports/{report_id}/decide", {"action": "resolve", "expected": "accepted"})
    assert status_of(app, report_id) == ReportStatus.RESOLVED


def test_rewards_officer_may_look_but_not_decide(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(91,))
    officer = ConsoleClient(app).logged_in("officer")
    page = text(officer.get(f"/console/reports/{report_id}"))
    assert "审核决定" not in page
    refused = officer.post(
        f"/console/reports/{report_id}/decide", {"action": "accept", "expected": "submitted"}
    )
    assert refused.status_code == 403
    assert status_of(app, report_id) == ReportStatus.SUBMITTED


def confirm_form(page: str) -> dict[str, str]:
    """The fields of the confirmation step on a report page (empty when the page does not ask)."""
    found = re.search(r'<section class="card decide confirm" id="confirm-accept".*?</section>', page, re.S)
    if found is None:
        return {}
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', found.group(0)))
    button = re.search(r'<button type="submit" name="action" value="(\w+)"[^>]*>([^<]*)<', found.group(0))
    assert button is not None
    assert "data-shortcut" not in button.group(0)  # a second A never confirms
    return {**fields, "action": button.group(1), "label": button.group(2)}


def test_accepting_with_photos_not_ready_asks_first(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(91, 92))
    make_unready(app, report_id, PhotoStatus.FAILED)
    client = ConsoleClient(app).logged_in("rev")
    page = text(client.get(f"/console/reports/{report_id}"))
    assert "照片 1：下载失败" in page
    assert "照片尚未就绪：采纳前需要再确认一次。" in page
    assert 'data-shortcut="a"' in page
    assert confirm_form(page) == {}

    # what the accept button (or the A key) sends: refused, nothing changed, and the page asks
    response = client.post(
        f"/console/reports/{report_id}/decide",
        {"action": "accept", "expected": "submitted", "comment": "远景可见", "then": "next", "next_id": ""},
    )
    assert response.status_code == 302
    assert status_of(app, report_id) == ReportStatus.SUBMITTED
    with session_scope(app) as session:
        assert list(session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id))) == []
        assert [e.to_status for e in audit_of(session, report_id)] == ["submitted"]
    asked = text(client.get(response.headers["Location"]))
    number = _number(app, report_id)
    assert flashes(asked) == [
        f"举报 {number} 还有 1 张照片尚未就绪（正在下载或下载失败），审核人员还看不到。"
        "采纳前须确认在未看到这些照片的情况下采纳。"
    ]
    assert "照片尚未就绪，确认采纳？" in asked
    assert "采纳后将立即按类别向居民发放积分（10 分）" in asked
    form = confirm_form(asked)
    assert form["label"] == "确认采纳"
    assert (form["confirm_photos"], form["expected"], form["comment"], form["then"]) == (
        "1",
        "submitted",
        "远景可见",
        "next",
    )

    confirmed = client.post(
        f"/console/reports/{report_id}/decide", {k: v for k, v in form.items() if k != "label"}
    )
    assert confirmed.status_code == 302
    assert status_of(app, report_id) == ReportStatus.ACCEPTED
    with session_scope(app) as session:
        ledger = list(session.scalars(select(LedgerEntry).where(LedgerEntry.report_id == report_id)))
        assert [(e.points, e.actor) for e in ledger] == [(10, "rev")]
        assert [(e.to_status, e.comment) for e in audit_of(session, report_id)][-1] == (
            "accepted",
            "远景可见",
        )


def test_the_confirmation_step_is_asked_only_while_photos_are_not_ready(
    console_app: tuple[Flask, FakeMedia],
) -> None:
    app, media = console_app
    report_id = new_report(app, media, seeds=(93,))
    client = ConsoleClient(app).logged_in("rev")
    page = text(client.get(f"/console/reports/{report_id}?confirm=accept"))
    assert confirm_form(page) == {}
    assert "采纳前需要再确认一次" not in page
    make_unready(app, report_id, PhotoStatus.PENDING)
    pending = text(client.get(f"/console/reports/{report_id}?confirm=accept"))
    assert "照片 1：等待下载" in pending
    assert confirm_form(pending)["confirm_photos"] == "1"
    looking = ConsoleClient(app).logged_in("officer")  # may look, may not decide: never asked
    assert confirm_form(text(looking.get(f"/console/reports/{report_id}?confirm=accept"))) == {}


def test_bulk_acceptance_leaves_reports_with_photos_not_ready(console_app: tuple[Flask, FakeMedia]) -> None:
    app, media = console_app
    ready = new_report(app, media, seeds=(94,), openid="o-bulk-a")
    waiting = new_report(app, media, seeds=(95,), openid="o-bulk-b")
    make_unready(app, waiting, PhotoStatus.RETRYING)
    client = ConsoleClient(app).logged_in("rev")
    response = client.post(
        "/console/reports/bulk",
        {
            "action": "accept",
            "confirm_photos": "1",  # a bulk decision never confirms for photos nobody has seen
            "pick": [f"{ready}:submitted", f"{waiting}:submitted"],
            "back": "/console/reports/",
        },
    )
    messages = flashes(text(client.get(response.headers["Location"])))
    assert messages[0].startswith("已对 1 件举报执行“采纳”")
    assert f"举报 {_number(app, waiting)} 还有 1 张照片尚未就绪" in messages[1]
    assert messages[2] == "照片尚未就绪的举报没有批量采纳：请逐件打开举报页面，确认后再采纳。"
    assert (status_of(app, ready), status_of(app, waiting)) == (ReportStatus.ACCEPTED, ReportStatus.SUBMITTED)

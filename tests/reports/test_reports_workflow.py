"""The report lifecycle on both backends: transitions, roles, stale decisions, audit, ledger."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.geo import Datum, GeoPoint
from reports import rewards, workflow
from reports.models import (
    LedgerEntry,
    LedgerKind,
    Notification,
    PhotoStatus,
    RejectReason,
    Report,
    ReportStatus,
    audit_of,
)
from reports.roles import SYSTEM, PermissionDeniedError, staff_actor
from reports.settings import ReportsSettings
from staff.roles import Role
from tests.support.reports import WEST_LAKE_GCJ, FakeMedia, make_unready, new_report, unit

pytestmark = pytest.mark.integration

S = ReportStatus
REVIEWER = staff_actor("rev-a", Role.REVIEWER)
OTHER_REVIEWER = staff_actor("rev-b", Role.REVIEWER)
OFFICER = staff_actor("officer-a", Role.REWARDS_OFFICER)


def test_submission_numbers_position_and_first_audit(reports_app: Flask, media: FakeMedia) -> None:
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    first = new_report(reports_app, media, now=now)
    second = new_report(reports_app, media, now=now, openid="o-resident-2")
    with unit(reports_app) as session:
        a, b = session.get(Report, first), session.get(Report, second)
        assert a is not None
        assert b is not None
        assert a.number == "SP20261127-0001"
        assert b.number == "SP20261127-0002"
        assert a.status == S.SUBMITTED
        # given as GCJ-02, stored canonically as WGS-84 (a few hundred metres apart in China)
        assert (a.given_datum, a.given_lat, a.given_lon) == ("gcj02", *WEST_LAKE_GCJ)
        expected = GeoPoint(*WEST_LAKE_GCJ, Datum.GCJ02).to(Datum.WGS84)
        assert a.lat == pytest.approx(expected.lat)
        assert a.lon == pytest.approx(expected.lon)
        assert abs(a.lon - WEST_LAKE_GCJ[1]) > 0.003
        assert a.review_due_at == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 占道经营: 48 h
        [entry] = audit_of(session, first)
        assert (entry.actor, entry.role, entry.from_status, entry.to_status) == (
            "resident",
            "resident",
            None,
            "submitted",
        )


def test_local_day_starts_the_sequence_again(reports_app: Flask, media: FakeMedia) -> None:
    late = datetime(2026, 11, 27, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    next_day = datetime(2026, 11, 27, 16, 1, tzinfo=UTC)  # 00:01 on the 28th
    first = new_report(reports_app, media, now=late, openid="o-1")
    ids = [first, new_report(reports_app, media, now=next_day)]
    with unit(reports_app) as session:
        numbers = [session.get(Report, report_id).number for report_id in ids]  # type: ignore[union-attr]
    assert numbers == ["SP20261127-0001", "SP20261128-0001"]


def test_full_lifecycle_with_audit_trail(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        workflow.start_review(session, report_id, REVIEWER, S.SUBMITTED)
    with unit(reports_app) as session:
        workflow.accept(session, report_id, REVIEWER, S.UNDER_REVIEW, settings=settings, comment="属实")
    with unit(reports_app) as session:
        workflow.resolve(session, report_id, OTHER_REVIEWER, S.ACCEPTED, comment="已清理")
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == S.RESOLVED
        trail = [(e.actor, e.from_status, e.to_status, e.comment) for e in audit_of(session, report_id)]
        assert trail == [
            ("resident", None, "submitted", None),
            ("rev-a", "submitted", "under_review", None),
            ("rev-a", "under_review", "accepted", "属实"),
            ("rev-b", "accepted", "resolved", "已清理"),
        ]
        assert rewards.balance(session, report.openid) == 10
        events = [n.payload["event"] for n in session.scalars(select(Notification).order_by(Notification.id))]
        assert events == ["start_review", "accept", "resolve"]


def test_stale_decision_is_refused_and_leaves_no_trace(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        workflow.reject(session, report_id, REVIEWER, S.SUBMITTED, RejectReason.UNCLEAR_PHOTO)
    with pytest.raises(workflow.StaleDecisionError) as info, unit(reports_app) as session:
        workflow.accept(session, report_id, OTHER_REVIEWER, S.SUBMITTED, settings=settings)
    assert info.value.actual == S.REJECTED
    assert "stale" in str(info.value)
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == S.REJECTED
        assert report.reason_code == "unclear_photo"
        assert [e.to_status for e in audit_of(session, report_id)] == ["submitted", "rejected"]
        assert rewards.balance(session, report.openid) == 0


def test_roles_are_checked(reports_app: Flask, media: FakeMedia, settings: ReportsSettings) -> None:
    report_id = new_report(reports_app, media)
    with pytest.raises(PermissionDeniedError), unit(reports_app) as session:
        workflow.accept(session, report_id, OFFICER, S.SUBMITTED, settings=settings)
    with pytest.raises(PermissionDeniedError) as refused, unit(reports_app) as session:
        workflow.accept(session, report_id, SYSTEM, S.SUBMITTED, settings=settings)
    assert refused.value.code == "not_permitted"
    with unit(reports_app) as session:
        workflow.start_review(session, report_id, SYSTEM)  # automatic acts may start a review
    admin = staff_actor("boss", Role.ADMIN)
    with unit(reports_app) as session:
        workflow.accept(session, report_id, admin, S.UNDER_REVIEW, settings=settings)
        assert session.get(Report, report_id).status == S.ACCEPTED  # type: ignore[union-attr]


def test_nobody_decides_on_their_own_report(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media, openid="o-staff-member")
    me = staff_actor("rev-a", Role.REVIEWER, openid="o-staff-member")
    with pytest.raises(PermissionDeniedError, match="own") as refused, unit(reports_app) as session:
        workflow.accept(session, report_id, me, S.SUBMITTED, settings=settings)
    assert refused.value.code == "own_report"


def test_transition_from_wrong_status_and_unknown_reason(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with pytest.raises(workflow.InvalidTransitionError), unit(reports_app) as session:
        workflow.resolve(session, report_id, REVIEWER, S.SUBMITTED)
    with pytest.raises(workflow.WorkflowError, match="unknown reason"), unit(reports_app) as session:
        workflow.reject(session, report_id, REVIEWER, S.SUBMITTED, "because")
    with pytest.raises(workflow.ReportNotFoundError), unit(reports_app) as session:
        workflow.start_review(session, report_id + 999, REVIEWER)


def test_duplicate_links_to_the_root_original_and_earns_nothing(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    original = new_report(reports_app, media, openid="o-first")
    copy = new_report(reports_app, media, openid="o-second", seeds=(2,))
    third = new_report(reports_app, media, openid="o-third", seeds=(3,))
    with unit(reports_app) as session:
        workflow.accept(session, original, REVIEWER, S.SUBMITTED, settings=settings)
        workflow.mark_duplicate(session, copy, REVIEWER, S.SUBMITTED, original)
    with unit(reports_app) as session:
        workflow.mark_duplicate(session, third, REVIEWER, S.SUBMITTED, copy)  # points at a duplicate
    with unit(reports_app) as session:
        assert session.get(Report, copy).duplicate_of_id == original  # type: ignore[union-attr]
        assert session.get(Report, third).duplicate_of_id == original  # type: ignore[union-attr]
        assert rewards.balance(session, "o-first") == 10
        assert rewards.balance(session, "o-second") == 0
        assert rewards.balance(session, "o-third") == 0
        notice = session.scalars(select(Notification).where(Notification.openid == "o-third")).one()
        assert notice.payload["original"] == session.get(Report, original).number  # type: ignore[union-attr]
    with pytest.raises(workflow.WorkflowError), unit(reports_app) as session:
        workflow.mark_duplicate(session, original, REVIEWER, S.ACCEPTED, original)


def test_revoking_an_acceptance_writes_a_counter_entry_and_reaccept_earns_again(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media, category="illegal_building")  # 20 points
    with unit(reports_app) as session:
        workflow.accept(session, report_id, REVIEWER, S.SUBMITTED, settings=settings)
    with pytest.raises(workflow.WorkflowError, match="comment"), unit(reports_app) as session:
        workflow.revoke_acceptance(session, report_id, REVIEWER, S.ACCEPTED, comment=" ")
    with unit(reports_app) as session:
        workflow.revoke_acceptance(session, report_id, REVIEWER, S.ACCEPTED, comment="照片为网图")
    with unit(reports_app) as session:
        entries = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))
        assert [(e.kind, e.points, e.acceptance) for e in entries] == [
            (LedgerKind.EARN, 20, 1),
            (LedgerKind.REVERSE, -20, 1),
        ]
        assert rewards.balance(session, "o-resident-1") == 0
        assert session.get(Report, report_id).status == S.UNDER_REVIEW  # type: ignore[union-attr]
    with unit(reports_app) as session:
        workflow.accept(session, report_id, OTHER_REVIEWER, S.UNDER_REVIEW, settings=settings)
    with unit(reports_app) as session:
        assert rewards.balance(session, "o-resident-1") == 20
        assert session.get(Report, report_id).acceptances == 2  # type: ignore[union-attr]


def test_ledger_and_audit_rows_cannot_be_changed(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    from bot.core.audit import AuditEntry, AuditTamperError
    from reports.models import AppendOnlyError

    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        workflow.accept(session, report_id, REVIEWER, S.SUBMITTED, settings=settings)
    with unit(reports_app) as session:
        entry = session.scalars(select(LedgerEntry)).one()
        entry.points = 1000
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
    with unit(reports_app) as session:
        # A report's history is its part of the one audit trail, which refuses it too.
        first = audit_of(session, report_id)[0]
        session.delete(session.get(AuditEntry, first.id))
        with pytest.raises(AuditTamperError):
            session.flush()
        session.rollback()
    with unit(reports_app) as session:
        assert rewards.balance(session, "o-resident-1") == 10
        assert len(audit_of(session, report_id)) == 2


def test_rejection_notice_carries_the_reason_text(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    from bot.core import services
    from reports.notify import render

    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        workflow.reject(session, report_id, REVIEWER, S.SUBMITTED, "outside_area", comment="internal note")
    with unit(reports_app) as session:
        notice = session.scalars(select(Notification)).one()
        text, values = render(notice, services.texts(reports_app), ZoneInfo(settings.timezone))
    reason = services.texts(reports_app)("reports.reasons.outside_area")
    assert reason in text
    assert "internal note" not in text
    assert re.search(r"SP\d{8}-0001", text)
    assert values["status"] == services.texts(reports_app)("reports.status.rejected")


@pytest.mark.parametrize("status", [PhotoStatus.PENDING, PhotoStatus.RETRYING, PhotoStatus.FAILED])
def test_accepting_with_photos_not_ready_needs_the_confirmation(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings, status: PhotoStatus
) -> None:
    report_id = new_report(reports_app, media, seeds=(1, 2))
    make_unready(reports_app, report_id, status)
    with pytest.raises(workflow.PhotosNotReadyError) as refused, unit(reports_app) as session:
        workflow.accept(session, report_id, REVIEWER, S.SUBMITTED, settings=settings)
    assert refused.value.code == "photos_not_ready"
    assert refused.value.values["count"] == 1
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == S.SUBMITTED
        assert [p.ready for p in report.photos] == [False, True]
        assert [e.to_status for e in audit_of(session, report_id)] == ["submitted"]
        assert rewards.balance(session, report.openid) == 0
        assert list(session.scalars(select(Notification))) == []
    with unit(reports_app) as session:
        workflow.accept(session, report_id, REVIEWER, S.SUBMITTED, settings=settings, photos_confirmed=True)
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == S.ACCEPTED
        assert rewards.balance(session, report.openid) == 10


def test_photos_ready_need_no_confirmation(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert workflow.unready_photos(report) == []
        workflow.accept(session, report_id, REVIEWER, S.SUBMITTED, settings=settings)
        assert report.status == S.ACCEPTED

"""The rewards ledger: caps, balances, payout batches and their CSV, confirmation."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from bot.app import load_texts
from reports import phones, rewards, workflow
from reports.models import LedgerEntry, LedgerKind, LineStatus, Notification, PayoutLine, Report, ReportStatus
from reports.roles import PermissionDeniedError, staff_actor
from reports.settings import ReportsSettings
from staff.roles import Role
from tests.support.reports import FakeMedia, new_report, unit

pytestmark = pytest.mark.integration

REVIEWER = staff_actor("rev-a", Role.REVIEWER)
OFFICER = staff_actor("officer-a", Role.REWARDS_OFFICER)
SECOND_OFFICER = staff_actor("officer-b", Role.REWARDS_OFFICER)
ADMIN = staff_actor("boss", Role.ADMIN)
DAY1 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def accept_new(
    app: Flask, media: FakeMedia, when: datetime, openid: str = "o-a", category: str = "street_vending"
) -> int:
    report_id = new_report(
        app, media, openid=openid, category=category, now=when, seeds=(len(media.files) + 1,)
    )
    with unit(app) as session:
        workflow.accept(
            session,
            report_id,
            REVIEWER,
            ReportStatus.SUBMITTED,
            settings=app.config["CITYBOT"].reports,
            now=when,
        )
    return report_id


def earnings(app: Flask, openid: str) -> list[tuple[int, int, str | None]]:
    with unit(app) as session:
        query = select(LedgerEntry).where(LedgerEntry.openid == openid, LedgerEntry.kind == LedgerKind.EARN)
        return [
            (e.points, e.capped_points, e.reason) for e in session.scalars(query.order_by(LedgerEntry.id))
        ]


def test_daily_cap_records_what_it_withholds(
    make_reports_app: Callable[..., Flask], media: FakeMedia
) -> None:
    app = make_reports_app(daily_points_cap=25, monthly_points_cap=0, reports_per_hour=50)
    for minutes in range(4):
        accept_new(app, media, DAY1 + timedelta(minutes=minutes))
    accept_new(app, media, DAY1 + timedelta(days=1))  # a new local day
    assert earnings(app, "o-a") == [
        (10, 0, None),
        (10, 0, None),
        (5, 5, "daily_cap"),
        (0, 10, "daily_cap"),
        (10, 0, None),
    ]
    accept_new(app, media, DAY1, openid="o-b")  # caps are per resident
    with unit(app) as session:
        assert rewards.balance(session, "o-a") == 35
        assert rewards.balance(session, "o-b") == 10


def test_day_boundary_is_local_time(make_reports_app: Callable[..., Flask], media: FakeMedia) -> None:
    app = make_reports_app(daily_points_cap=10, monthly_points_cap=0)
    accept_new(app, media, datetime(2026, 11, 27, 15, 50, tzinfo=UTC))  # 23:50 Shanghai
    accept_new(app, media, datetime(2026, 11, 27, 16, 10, tzinfo=UTC))  # 00:10 the next day
    assert [points for points, _, _ in earnings(app, "o-a")] == [10, 10]


def test_monthly_cap(make_reports_app: Callable[..., Flask], media: FakeMedia) -> None:
    app = make_reports_app(daily_points_cap=0, monthly_points_cap=25)
    for day in range(3):
        accept_new(app, media, datetime(2026, 11, 10 + day, 2, 0, tzinfo=UTC))
    accept_new(app, media, datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    assert earnings(app, "o-a") == [(10, 0, None), (10, 0, None), (5, 5, "monthly_cap"), (10, 0, None)]


def test_accepting_twice_in_code_earns_once(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = accept_new(reports_app, media, DAY1)
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        again = rewards.award(session, report, REVIEWER, settings=settings, now=DAY1)
        assert again.points == 10
    with unit(reports_app) as session:
        assert rewards.balance(session, "o-a") == 10
        assert len(rewards.recent_entries(session, "o-a")) == 1


def test_phone_numbers_are_validated_and_masked(reports_app: Flask) -> None:
    assert phones.normalize_mobile("+86 138-0013-8000") == "13800138000"
    assert phones.normalize_mobile("１３８００１３８０００") == "13800138000"  # full-width digits
    for bad in ("12800138000", "1380013800", "23800138000", "138001380001", "电话"):
        with pytest.raises(phones.InvalidPhoneError):
            phones.normalize_mobile(bad)
    assert phones.mask("13800138000") == "138****8000"
    with unit(reports_app) as session:
        phones.bind_phone(session, "o-a", "13800138000")
        phones.bind_phone(session, "o-a", "13900139000")  # rebinding replaces
    with unit(reports_app) as session:
        assert phones.phone_of(session, "o-a") == "13900139000"
        assert phones.phone_of(session, "o-nobody") is None


def parse(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_payout_batch_csv_and_confirmation(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    accept_new(reports_app, media, DAY1, openid="o-alice")
    accept_new(reports_app, media, DAY1, openid="o-alice", category="illegal_building")
    accept_new(reports_app, media, DAY1, openid="o-bob")
    accept_new(reports_app, media, DAY1, openid="o-nophone")
    with unit(reports_app) as session:
        phones.bind_phone(session, "o-alice", "13800138000")
        phones.bind_phone(session, "o-bob", "13900139000")
        phones.bind_phone(session, "o-zero", "13700137000")  # nothing earned
    with pytest.raises(PermissionDeniedError), unit(reports_app) as session:
        rewards.create_payout_batch(session, REVIEWER, settings=settings)
    with unit(reports_app) as session:
        batch = rewards.create_payout_batch(session, OFFICER, settings=settings)
        assert batch is not None
        batch_id = batch.id
        assert (batch.line_count, batch.total_points) == (2, 40)
        lines = {line.openid: line.id for line in batch.lines}
    with unit(reports_app) as session:
        assert rewards.balance(session, "o-alice") == 0  # taken into the batch
        assert rewards.balance(session, "o-nophone") == 10  # no phone: stays due
        assert rewards.create_payout_batch(session, SECOND_OFFICER, settings=settings) is None

    with unit(reports_app) as session:
        officer_csv = rewards.export_csv(session, batch_id, OFFICER, settings=settings, texts=load_texts())
        admin_csv = rewards.export_csv(session, batch_id, ADMIN, settings=settings, texts=load_texts())
    rows = parse(officer_csv)
    assert rows[0] == ["批次", "序号", "手机号", "积分", "金额(元)", "状态", "失败原因"]
    assert {r[5] for r in rows[1:]} == {"待发放"}  # the status in words, not "pending"
    assert sorted((r[2], r[3], r[4]) for r in rows[1:]) == [
        ("13800138000", "30", "30.00"),
        ("13900139000", "10", "10.00"),
    ]
    assert sorted(r[2] for r in parse(admin_csv)[1:]) == ["138****8000", "139****9000"]
    for blob in (officer_csv, admin_csv):
        assert b"o-alice" not in blob
        assert b"o-bob" not in blob
    with pytest.raises(PermissionDeniedError), unit(reports_app) as session:
        rewards.export_csv(session, batch_id, REVIEWER, settings=settings, texts=load_texts())

    with (
        pytest.raises(PermissionDeniedError, match="other than its creator") as refused,
        unit(reports_app) as session,
    ):
        rewards.confirm_batch(session, batch_id, OFFICER, settings=settings)
    assert refused.value.code == "own_batch"
    with pytest.raises(rewards.PayoutError, match="not in batch"), unit(reports_app) as session:
        rewards.confirm_batch(session, batch_id, SECOND_OFFICER, settings=settings, failed={9999: "x"})
    with unit(reports_app) as session:
        rewards.confirm_batch(
            session, batch_id, SECOND_OFFICER, settings=settings, failed={lines["o-bob"]: "号码停机"}
        )
    with unit(reports_app) as session:
        assert rewards.balance(session, "o-alice") == 0
        assert rewards.balance(session, "o-bob") == 10  # failed: due again
        statuses = {v.openid: v.status for v in session.scalars(select(PayoutLine))}
        assert statuses == {"o-alice": LineStatus.PAID, "o-bob": LineStatus.FAILED}
        events = sorted(
            n.payload["event"]
            for n in session.scalars(select(Notification).where(Notification.kind == "payout"))
        )
        assert events == ["payout_failed", "payout_paid"]
    with pytest.raises(rewards.PayoutError, match="already confirmed"), unit(reports_app) as session:
        rewards.confirm_batch(session, batch_id, SECOND_OFFICER, settings=settings)
    with unit(reports_app) as session:
        again = rewards.create_payout_batch(session, OFFICER, settings=settings)
        assert again is not None
        assert [(line.openid, line.points) for line in again.lines] == [("o-bob", 10)]

"""Report statistics on both databases: by status and category, time to first review, payouts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from bot.core import services
from bot.core.database import session_scope
from console import stats
from reports import rewards, workflow
from reports.models import ReportStatus
from reports.phones import bind_phone
from reports.roles import staff_actor
from staff.roles import Role
from tests.support.console import with_fake_wechat
from tests.support.reports import close_queue, new_report

pytestmark = pytest.mark.contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on 2026-03-02 in Shanghai
RANGE = stats.DayRange(date(2026, 3, 1), date(2026, 3, 3), SHANGHAI)
REVIEWER = staff_actor("rev", Role.REVIEWER)


@pytest.fixture
def seeded(app: Flask) -> Iterator[Flask]:
    media, _ = with_fake_wechat(app)
    settings = services.settings(app).reports
    made = [
        new_report(app, media, seeds=(1,), openid="o-1", now=DAY),
        new_report(
            app, media, seeds=(2,), openid="o-2", now=DAY + timedelta(minutes=5), category="littering"
        ),
        new_report(app, media, seeds=(3,), openid="o-3", now=DAY + timedelta(minutes=10)),
        new_report(app, media, seeds=(4,), openid="o-4", now=DAY - timedelta(days=5)),  # outside the range
    ]
    with app.app_context(), session_scope(app) as session:
        # First reviews after 1 h, 2 h and (for the report outside the range) 10 h.
        workflow.accept(
            session,
            made[0],
            REVIEWER,
            ReportStatus.SUBMITTED,
            settings=settings,
            now=DAY + timedelta(hours=1),
        )
        workflow.reject(
            session,
            made[1],
            REVIEWER,
            ReportStatus.SUBMITTED,
            "unclear_photo",
            now=DAY + timedelta(hours=2, minutes=5),
        )
        workflow.accept(
            session,
            made[3],
            REVIEWER,
            ReportStatus.SUBMITTED,
            settings=settings,
            now=DAY - timedelta(days=5, hours=-10),
        )
        bind_phone(session, "o-1", "13800138000")
        bind_phone(session, "o-4", "13900139000")
        batch = rewards.create_payout_batch(
            session, staff_actor("officer-a", Role.REWARDS_OFFICER), settings=settings, now=DAY
        )
        assert batch is not None
        failed = {line.id: "停机" for line in batch.lines if line.openid == "o-4"}
        rewards.confirm_batch(
            session,
            batch.id,
            staff_actor("officer-b", Role.REWARDS_OFFICER),
            settings=settings,
            failed=failed,
            now=DAY + timedelta(hours=3),
        )
    yield app
    close_queue(app)


def test_reports_by_status_and_category(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        by_status = stats.reports_by_status(session, RANGE)
        by_category = dict(stats.reports_by_category(session, RANGE))
        per_day = stats.reports_per_day(session, RANGE)
    assert by_status[ReportStatus.ACCEPTED] == 1
    assert by_status[ReportStatus.REJECTED] == 1
    assert by_status[ReportStatus.SUBMITTED] == 1
    assert sum(by_status.values()) == 3
    assert by_category["占道经营"] == 2
    assert by_category["乱扔垃圾"] == 1
    assert by_category["违章搭建"] == 0
    assert per_day.values == [0, 3, 0]


def test_median_time_to_first_review(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        assert stats.median_first_review(session, RANGE) == timedelta(hours=1, minutes=30)
        empty = stats.DayRange(date(2026, 1, 1), date(2026, 1, 2), SHANGHAI)
        assert stats.median_first_review(session, empty) is None


def test_rewards_paid(seeded: Flask) -> None:
    with session_scope(seeded) as session:
        paid = stats.rewards_paid(session, RANGE)
    assert (paid.points, paid.lines, paid.residents) == (10, 1, 1)  # o-4's line failed

"""Two reviewers deciding at the same moment: one acceptance, one ledger entry (PostgreSQL and SQLite)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.audit import AuditEntry
from bot.core.database import session_scope
from reports import rewards, workflow
from reports.models import LedgerEntry, Notification, Report, ReportStatus
from reports.roles import staff_actor
from reports.settings import ReportsSettings
from staff.roles import Role
from tests.support.reports import FakeMedia, new_report, unit

pytestmark = pytest.mark.integration


def race(app: Flask, act: Callable[[Session, str], object]) -> dict[str, str]:
    """Run ``act`` in two threads with their own sessions, started together; each holds its
    transaction open a moment after acting, so the other must wait for its commit."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def contender(name: str) -> None:
        try:
            with app.app_context(), session_scope(app) as session:
                barrier.wait(timeout=10)
                act(session, name)
                time.sleep(0.3)
            outcomes[name] = "done"
        except workflow.StaleDecisionError:
            outcomes[name] = "stale"
        except Exception as exc:
            outcomes[name] = f"error: {exc!r}"

    threads = [threading.Thread(target=contender, args=(name,)) for name in ("rev-a", "rev-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def count(session: Session, query: object) -> int:
    return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_two_reviewers_accept_at_the_same_moment(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        workflow.start_review(session, report_id, staff_actor("rev-a", Role.REVIEWER))

    def accept(session: Session, name: str) -> None:
        workflow.accept(
            session, report_id, staff_actor(name, Role.REVIEWER), ReportStatus.UNDER_REVIEW, settings=settings
        )

    outcomes = race(reports_app, accept)
    assert sorted(outcomes.values()) == ["done", "stale"]
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        assert report.status == ReportStatus.ACCEPTED
        assert report.acceptances == 1
        assert count(session, select(func.count()).select_from(LedgerEntry)) == 1
        assert rewards.balance(session, report.openid) == 10
        accepted = select(func.count()).where(AuditEntry.action == "report.accept")
        assert count(session, accepted) == 1
        winner = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "report.accept")).one()
        assert outcomes[winner] == "done"
        notices = select(func.count()).where(Notification.payload["event"].as_string() == "accept")
        assert count(session, notices) == 1


def test_two_awards_for_one_acceptance_write_one_entry(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        report.acceptances = 1  # as accept() sets it; award is then called twice, concurrently

    def award(session: Session, name: str) -> None:
        found = session.get(Report, report_id)
        assert found is not None
        rewards.award(session, found, staff_actor(name, Role.REVIEWER), settings=settings)

    assert race(reports_app, award) == {"rev-a": "done", "rev-b": "done"}
    with unit(reports_app) as session:
        assert count(session, select(func.count()).select_from(LedgerEntry)) == 1
        assert rewards.balance(session, "o-resident-1") == 10

"""The overdue rule: one rule in reports.models, which the CLI, the console queue and the dashboard
all apply. A report is overdue when it still waits for a decision and its review deadline passed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from reports.models import (
    OPEN,
    Report,
    ReportStatus,
    category_by_code,
    is_overdue,
    list_reports,
    overdue_condition,
)
from tests.support import console
from tests.support.clock import T0, at
from tests.support.reports import FakeMedia, add_staff, new_report, unit

pytestmark = pytest.mark.integration

NOW = T0 + timedelta(hours=72)


def test_only_open_reports_past_their_deadline_are_overdue(reports_app: Flask) -> None:
    """Every status, with the deadline before, at and after now: the SQL condition and the Python
    check agree, and both say overdue exactly for open reports whose deadline is before now."""
    offsets = {"late": timedelta(minutes=-1), "due_now": timedelta(0), "early": timedelta(minutes=1)}
    expected: set[int] = set()
    with unit(reports_app) as session:
        category = category_by_code(session, "street_vending")
        assert category is not None
        for status in ReportStatus:
            for label, offset in offsets.items():
                report = Report(
                    number=f"SP20261127-{len(expected) + session.query(Report).count() + 1:04d}",
                    openid=f"o-{status}-{label}",
                    category_id=category.id,
                    status=status,
                    lat=30.25,
                    lon=120.14,
                    given_datum="wgs84",
                    given_lat=30.25,
                    given_lon=120.14,
                    created_at=T0,
                    updated_at=T0,
                    review_due_at=NOW + offset,
                )
                session.add(report)
                session.flush()
                if status in OPEN and label == "late":
                    expected.add(report.id)
    assert set(OPEN) == {ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW}
    with unit(reports_app) as session:
        everything = list(session.scalars(select(Report)))
        assert len(everything) == len(ReportStatus) * len(offsets)
        by_python = {r.id for r in everything if is_overdue(r, NOW)}
        by_sql = set(session.scalars(select(Report.id).where(overdue_condition(NOW))))
        listed = {r.id for r in list_reports(session, overdue_at=NOW, limit=100)}
    assert by_python == by_sql == listed == expected
    assert len(expected) == 2


def _ids(output: str) -> list[int]:
    return [
        int(line.split()[0]) for line in output.splitlines() if line.strip() and line.split()[0].isdigit()
    ]


def _console_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'/console/reports/(\d+)">SP', page)]


def _flagged_rows(page: str) -> set[int]:
    rows = page.split("<tr")[1:]
    return {int(i) for row in rows if row.startswith(' class="overdue"') for i in _console_ids(row)}


@pytest.fixture
def mixed(reports_app: Flask, media: FakeMedia, run: Callable[..., Result]) -> dict[str, int]:
    """Reports in every state the queue knows, some past the 48 h deadline of 占道经营 at NOW."""
    add_staff(reports_app)
    made: dict[str, int] = {}
    late = [
        "submitted",
        "under_review",
        "accepted",
        "rejected",
        "duplicate",
        "resolved",
        "closed",
        "revoked",
    ]
    for seed, name in enumerate(late, start=1):
        made[name] = new_report(reports_app, media, openid=f"o-{name}", seeds=(seed,), now=T0)
    # due exactly at NOW: not yet overdue
    made["due_now"] = new_report(
        reports_app, media, openid="o-due-now", seeds=(20,), now=T0 + timedelta(hours=24)
    )
    for seed, name in enumerate(("early_submitted", "early_review", "early_accepted"), start=30):
        made[name] = new_report(
            reports_app, media, openid=f"o-{name}", seeds=(seed,), now=T0 + timedelta(hours=60)
        )

    def decide(*args: str) -> None:
        with at(T0 + timedelta(hours=61)):
            result = run("report", *args, "--actor", "rev-a")
        assert result.exit_code == 0, result.output

    decide("review", str(made["under_review"]))
    decide("review", str(made["early_review"]))
    for name in ("accepted", "resolved", "closed", "revoked", "early_accepted"):
        decide("accept", str(made[name]))
    decide("reject", "--reason", "unclear_photo", str(made["rejected"]))
    decide("duplicate", "--of", str(made["accepted"]), str(made["duplicate"]))
    decide("resolve", str(made["resolved"]))
    decide("close", str(made["closed"]))
    decide("revoke", "--comment", "照片另有其人", str(made["revoked"]))
    return made


def test_the_command_line_and_the_console_agree_on_what_is_overdue(
    reports_app: Flask, mixed: dict[str, int], run: Callable[..., Result]
) -> None:
    overdue = {mixed["submitted"], mixed["under_review"], mixed["revoked"]}
    with at(NOW, tick=False):  # "due_now" is due at exactly this instant
        listed = run("report", "list", "--overdue")
        everything = run("report", "list", "--limit", "100")
        staff = console.ConsoleClient(reports_app).logged_in("rev-a", "correct-horse-battery")
        queue_overdue = console.text(staff.get("/console/reports/?status=all&overdue=1"))
        queue_all = console.text(staff.get("/console/reports/?status=all"))
        queue_open = console.text(staff.get("/console/reports/"))
        dashboard = console.text(staff.get("/console/"))
    assert listed.exit_code == 0, listed.output
    assert everything.exit_code == 0, everything.output

    assert set(_ids(listed.output)) == overdue
    assert set(_console_ids(queue_overdue)) == overdue
    assert _ids(listed.output) == _console_ids(queue_overdue)  # the same order, oldest first

    # The flags on full listings mark the same reports.
    flagged_cli = {int(line.split()[0]) for line in everything.output.splitlines() if "已超期" in line}
    assert len(_ids(everything.output)) == len(mixed)
    assert flagged_cli == overdue
    assert len(_console_ids(queue_all)) == len(mixed)
    assert _flagged_rows(queue_all) == overdue
    assert _flagged_rows(queue_open) == overdue

    # And so do the counts of the queue and of the dashboard.
    assert f'data-figure="overdue">{len(overdue)}<' in queue_open
    assert f'data-figure="overdue">{len(overdue)}<' in dashboard

    # Decided reports are never overdue, whatever status is asked for.
    accepted = run("report", "list", "--overdue", "--status", "accepted")
    assert accepted.output.strip() == "没有举报"

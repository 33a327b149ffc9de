"""Notices to residents: text inside the 48-hour window, template outside it, 45015 and 45047."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from bot.core import jobs
from bot.core.clock import utcnow
from bot.core.residents import touch
from reports import workflow
from reports.models import Notification, NotificationStatus
from reports.roles import staff_actor
from reports.settings import ReportsSettings
from staff.roles import Role
from tests.support.reports import FakeMedia, FakeSender, drain, new_report, outside_window, over_quota, unit

pytestmark = pytest.mark.integration

REVIEWER = staff_actor("rev-a", Role.REVIEWER)


def review(app: Flask, report_id: int) -> None:
    with unit(app) as session:
        workflow.start_review(session, report_id, REVIEWER)
    drain(app)


def notice(app: Flask) -> Notification:
    with unit(app) as session:
        found = session.scalars(select(Notification)).one()
        session.expunge(found)
        return found


def wrote_recently(app: Flask, openid: str = "o-resident-1") -> None:
    with unit(app) as session:
        touch(session, openid, by_message=True)


def test_inside_the_window_a_text_is_sent(reports_app: Flask, media: FakeMedia, sender: FakeSender) -> None:
    report_id = new_report(reports_app, media)
    wrote_recently(reports_app)
    review(reports_app, report_id)
    sent = notice(reports_app)
    assert (sent.status, sent.channel, sent.attempts) == (NotificationStatus.SENT, "text", 1)
    [(openid, content)] = sender.texts
    assert openid == "o-resident-1"
    assert "已进入审核" in content
    assert sender.templates == []


def test_outside_the_window_the_template_is_sent(
    reports_app: Flask, media: FakeMedia, sender: FakeSender
) -> None:
    report_id = new_report(reports_app, media)
    with unit(reports_app) as session:
        touch(session, "o-resident-1", by_message=True).last_message_at = utcnow() - timedelta(hours=49)
    review(reports_app, report_id)
    assert sender.texts == []
    [(openid, template_id, data, url)] = sender.templates
    assert (openid, template_id, url) == ("o-resident-1", "TPL-STATUS", None)
    assert data["keyword1"]["value"].startswith("SP")
    assert data["keyword2"]["value"] == "审核中"
    assert "已进入审核" in data["remark"]["value"]
    assert notice(reports_app).channel == "template"


def test_45015_falls_back_to_the_template(reports_app: Flask, media: FakeMedia, sender: FakeSender) -> None:
    report_id = new_report(reports_app, media)
    wrote_recently(reports_app)
    sender.text_error = outside_window()
    review(reports_app, report_id)
    assert sender.texts == []
    assert len(sender.templates) == 1
    sent = notice(reports_app)
    assert (sent.status, sent.channel) == (NotificationStatus.SENT, "template")


def test_an_errcode_attribute_is_understood_too(
    reports_app: Flask, media: FakeMedia, sender: FakeSender
) -> None:
    class APIError(Exception):
        errcode = 45015

    report_id = new_report(reports_app, media)
    wrote_recently(reports_app)
    sender.text_error = APIError("response out of time limit")
    review(reports_app, report_id)
    assert notice(reports_app).channel == "template"


def test_45047_is_retried_later(
    reports_app: Flask, media: FakeMedia, sender: FakeSender, settings: ReportsSettings
) -> None:
    report_id = new_report(reports_app, media)
    wrote_recently(reports_app)
    sender.text_error = over_quota()
    review(reports_app, report_id)
    waiting = notice(reports_app)
    assert waiting.status == NotificationStatus.PENDING
    assert waiting.attempts == 1
    assert "45047" in (waiting.last_error or "")
    assert waiting.next_attempt_at is not None
    assert sender.templates == []
    sender.text_error = None
    with unit(reports_app) as session:
        session.execute(update(Notification).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    jobs.run_due(reports_app)
    sent = notice(reports_app)
    assert (sent.status, sent.channel, sent.attempts) == (NotificationStatus.SENT, "text", 2)
    assert len(sender.texts) == 1


def test_no_template_configured_is_visible_as_undeliverable(
    make_reports_app: Callable[..., Flask], media: FakeMedia, sender: FakeSender
) -> None:
    app = make_reports_app(template_id="")
    report_id = new_report(app, media)
    review(app, report_id)
    found = notice(app)
    assert found.status == NotificationStatus.UNDELIVERABLE
    assert "no template" in (found.last_error or "")
    assert sender.texts == sender.templates == []


def test_gives_up_after_the_allowed_attempts(
    make_reports_app: Callable[..., Flask], media: FakeMedia, sender: FakeSender
) -> None:
    app = make_reports_app(notify_max_attempts=2)
    report_id = new_report(app, media)
    sender.template_error = RuntimeError("system busy")
    review(app, report_id)
    with unit(app) as session:
        session.execute(update(Notification).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    jobs.run_due(app)
    found = notice(app)
    assert (found.status, found.attempts) == (NotificationStatus.FAILED, 2)
    assert "system busy" in (found.last_error or "")

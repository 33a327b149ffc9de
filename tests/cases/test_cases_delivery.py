"""The cases outbox on both backends: retries with backoff, giving up, and no template configured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core import services
from bot.core.residents import get_or_create
from cases import delivery, service
from cases.models import Case, CaseDelivery, DeliveryStatus, EntryKind
from cases.service import Incoming
from cases.services import CasesServices
from cases.settings import CasesSettings
from reports.roles import staff_actor
from staff.roles import Role
from tests.support.clock import at
from tests.support.reports import drain, unit

pytestmark = pytest.mark.contract

OPENID = "oResidentOutbox000000001"
OFFICER = staff_actor("officer", Role.CASE_OFFICER)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class BrokenSender:
    """Every customer-service text fails as a network failure would; templates are never expected."""

    def __init__(self) -> None:
        self.calls = 0

    def send_text(self, openid: str, content: str) -> Any:
        self.calls += 1
        raise ConnectionError("network down")

    def send_template(self, openid: str, template_id: str, data: Any, url: str | None = None) -> Any:
        raise AssertionError("no template expected")


def _app(make_app: Callable[..., Flask], sender: BrokenSender, **cases: object) -> Flask:
    app = make_app(cases=cases)
    services.of(app).get(CasesServices).sender = sender  # the delivery job uses it too
    return app


def test_a_failing_text_is_retried_with_backoff_then_given_up(make_app: Callable[..., Flask]) -> None:
    sender = BrokenSender()
    app = _app(make_app, sender, notify_max_attempts=2)
    settings = services.settings(app).section(CasesSettings)
    with at(NOW, tick=False):
        with unit(app) as session:
            case = service.open_or_join(
                session, settings, openid=OPENID, incoming=Incoming("text", "问题反映"), now=NOW
            ).case
            get_or_create(session, OPENID).last_message_at = NOW
            service.reply(session, settings, case, OFFICER, "答复内容", now=NOW)
        drain(app)  # the job's first attempt, after the commit
    with unit(app) as session:
        row = session.scalars(select(CaseDelivery)).one()
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert row.next_attempt_at == NOW + timedelta(seconds=settings.retry_base_seconds)
        assert "network down" in (row.last_error or "")
        assert delivery.due_deliveries(session, now=NOW + timedelta(seconds=30)) == []
        assert delivery.due_deliveries(session, now=NOW + timedelta(seconds=61)) == [row.id]
        again = delivery.deliver(
            session,
            row.id,
            sender,
            settings=settings,
            texts=services.texts(app),
            secret="s",
            now=NOW + timedelta(minutes=2),
        )
        assert again is not None
        assert again.status is DeliveryStatus.FAILED
        outcomes = [
            e.details["outcome"] for e in service.thread(session, case) if e.kind is EntryKind.DELIVERY
        ]
        assert outcomes == ["retry", "failed"]
    assert sender.calls == 2  # the job's attempt and this one


def test_outside_the_window_without_a_template_a_delivery_is_undeliverable_and_says_so(
    make_app: Callable[..., Flask],
) -> None:
    sender = BrokenSender()
    app = _app(make_app, sender)
    settings = services.settings(app).section(CasesSettings)
    with unit(app) as session:
        get_or_create(session, OPENID).last_message_at = NOW - timedelta(hours=49)
        case = Case(
            number="LY20261201-0009", openid=OPENID, due_at=NOW, received_at=NOW, last_resident_at=NOW
        )
        session.add(case)
        session.flush()
        row = CaseDelivery(case_id=case.id, openid=OPENID, kind="rating", payload={}, created_at=NOW)
        session.add(row)
        session.flush()
        done = delivery.deliver(
            session, row.id, sender, settings=settings, texts=services.texts(app), secret="s", now=NOW
        )
        assert done is not None
        assert done.status is DeliveryStatus.UNDELIVERABLE
        [entry] = [e for e in service.thread(session, case) if e.kind is EntryKind.DELIVERY]
        assert delivery.entry_text(entry, services.texts(app), None) == (
            "无法发送：超出48小时客服消息窗口，且未配置模板消息"
        )
    assert sender.calls == 0  # no customer-service message was even tried

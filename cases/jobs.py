"""Jobs of the cases domain (run by ``bot.core.jobs``): deliver one outbox row; the sweeper that
escalates overdue cases and retries due deliveries. Each opens its own unit of work."""

from __future__ import annotations

import logging

from flask import Flask, current_app

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.jobs import defer
from cases import delivery as outbox
from cases.service import escalate_due
from cases.services import CasesServices
from cases.settings import CasesSettings

log = logging.getLogger("citybot.cases.jobs")


def deliver(delivery_id: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    container = services.of(app)
    settings = container.settings.section(CasesSettings)
    with session_scope(app) as session:
        row = outbox.deliver(
            session,
            delivery_id,
            container.get(CasesServices).send(),
            settings=settings,
            texts=container.texts,
            secret=container.settings.secret_key,
            now=utcnow(),
        )
        if row is not None and row.next_attempt_at is not None:
            defer(session, deliver, delivery_id, at=row.next_attempt_at)


def run_due(app: Flask) -> int:
    """Escalate overdue cases, then deliver what is due; returns how many items were handled."""
    settings = services.settings(app).section(CasesSettings)
    now = utcnow()
    with session_scope(app) as session:
        escalated = len(escalate_due(session, settings, now=now))
    with session_scope(app) as session:
        due = outbox.due_deliveries(session, now=now)
    done = escalated
    for item in due:
        try:
            deliver(item)
            done += 1
        except Exception:
            log.exception("cases delivery %s failed", item)
    return done

"""What operators see: ``/healthz`` (the process lives), ``/readyz`` (it can serve), ``/metrics``.

``/readyz`` answers 503 while the database or the store cannot be reached, and reports the spool
backlog and the messages stuck past their lease, so a load balancer stops sending work to a
broken instance and a dashboard shows a blip while it happens and its recovery afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import func, select, text

from bot.chat import inbox
from bot.chat.journal import JournalEntry, Outcome
from bot.core import metrics, services
from bot.core.clock import utcnow
from bot.core.database import sessionmaker_for

log = logging.getLogger("citybot.health")
bp = Blueprint("health", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz() -> Response:
    return Response("ok\n", mimetype="text/plain")


def readiness(app: Flask) -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {}
    ready = True
    try:
        with sessionmaker_for(app)() as session:
            session.execute(text("SELECT 1"))
            report["stuck"] = session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.status == Outcome.RECEIVED, JournalEntry.lease_until <= utcnow())
            )
        report["database"] = "ok"
    except Exception as exc:
        report["database"] = f"unavailable: {type(exc).__name__}"
        ready = False
    try:
        store_ok = services.store(app).ping()
    except Exception:
        store_ok = False
    report["store"] = "ok" if store_ok else "unavailable"
    ready = ready and store_ok
    depth = inbox.spool_for(app).depth()
    metrics.SPOOL_DEPTH.set(depth)
    report["spool_backlog"] = depth
    report["ready"] = ready
    return ready, report


@bp.get("/readyz")
def readyz() -> Response:
    ready, report = readiness(current_app._get_current_object())  # type: ignore[attr-defined]
    response = jsonify(report)
    response.status_code = 200 if ready else 503
    return response


@bp.get("/metrics")
def metrics_view() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)

"""Notices to residents: every status change of their report and every payout.

Each notice is a row in an outbox, created in the same unit of work as the change it reports, and
delivered by a job after the commit (``reports.jobs.deliver_notification``); failures are retried
with backoff and remain visible. Delivery is a customer-service text while the resident's 48-hour
window is open, else the configured template message. WeChat's 45015 (outside the window) falls
back to the template; 45047 (customer-service quota used up) is retried later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.delivery import OutOfServiceWindowError, SendQuotaExhaustedError
from bot.core.jobs import defer
from bot.core.residents import Resident
from bot.core.texts import Texts
from reports.models import Notification, NotificationStatus, Report, Source
from reports.retry import backoff
from reports.settings import ReportsSettings

log = logging.getLogger("citybot.reports.notify")

OUTSIDE_WINDOW = 45015
OVER_QUOTA = 45047


class Sender(Protocol):
    def send_text(self, openid: str, content: str) -> Any: ...

    def send_template(
        self, openid: str, template_id: str, data: Mapping[str, Any], url: str | None = None
    ) -> Any: ...


def _errcode(exc: BaseException) -> int | None:
    code = getattr(exc, "errcode", None)
    try:
        return None if code is None else int(code)
    except (TypeError, ValueError):
        return None


def _queue(session: Session, notification: Notification) -> Notification:
    session.add(notification)
    session.flush()
    defer(session, "reports.jobs.deliver_notification", notification.id)
    return notification


def status_changed(
    session: Session, report: Report, event: str, *, now: datetime, points: int | None = None
) -> Notification:
    """Queue a notice that ``report`` went through ``event`` (a transition name)."""
    payload: dict[str, Any] = {
        "event": event,
        "number": report.number,
        "status": str(report.status),
        "reason_code": report.reason_code,
        "points": points,
    }
    if report.duplicate_of_id is not None:
        original = session.get(Report, report.duplicate_of_id)
        payload["original"] = None if original is None else original.number
    if report.source == Source.MINIPROGRAM:
        # A mini program's openid is not a follower of the service account, which cannot message
        # it; the mini program shows the status (GET /api/v1/me/reports). Recorded, not sent.
        notification = Notification(
            openid=report.openid,
            kind="status",
            report_id=report.id,
            payload=payload,
            status=NotificationStatus.UNDELIVERABLE,
            last_error="reported in a mini program: the status is shown there",
            created_at=now,
        )
        session.add(notification)
        session.flush()
        return notification
    return _queue(
        session,
        Notification(
            openid=report.openid,
            kind="status",
            report_id=report.id,
            payload=payload,
            status=NotificationStatus.PENDING,
            created_at=now,
        ),
    )


def payout_settled(
    session: Session, *, openid: str, batch_id: int, points: int, phone_masked: str, paid: bool, now: datetime
) -> Notification:
    payload = {
        "event": "payout_paid" if paid else "payout_failed",
        "batch_id": batch_id,
        "points": points,
        "phone": phone_masked,
    }
    return _queue(
        session,
        Notification(
            openid=openid, kind="payout", payload=payload, status=NotificationStatus.PENDING, created_at=now
        ),
    )


def render(notification: Notification, texts: Texts, zone: ZoneInfo) -> tuple[str, dict[str, str]]:
    """(customer-service text, template values by logical field)."""
    payload = notification.payload
    event = payload["event"]
    when = notification.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if notification.kind == "payout":
        text = texts(f"reports.notify.{event}", points=payload["points"], phone=payload["phone"])
        return text, {
            "first": texts("reports.notify.template_payout_first"),
            "number": texts("reports.notify.payout_ref", batch=payload["batch_id"]),
            "status": texts(f"reports.notify.{event}_status"),
            "time": when,
            "remark": text,
        }
    reason = ""
    if payload.get("reason_code") and f"reports.reasons.{payload['reason_code']}" in texts:
        reason = texts(f"reports.reasons.{payload['reason_code']}")
    values = {
        "number": payload["number"],
        "points": payload.get("points") or 0,
        "reason": reason,
        "original": payload.get("original") or "",
    }
    key = f"reports.notify.{event}"
    if event == "accept" and not payload.get("points"):
        key = "reports.notify.accept_no_points"
    text = texts(key, **values)
    return text, {
        "first": texts("reports.notify.template_first"),
        "number": payload["number"],
        "status": texts(f"reports.status.{payload['status']}"),
        "time": when,
        "remark": text,
    }


def template_data(values: Mapping[str, str], settings: ReportsSettings) -> dict[str, dict[str, str]]:
    return {
        settings.template_fields[field]: {"value": value}
        for field, value in values.items()
        if field in settings.template_fields
    }


def in_service_window(session: Session, openid: str, now: datetime, settings: ReportsSettings) -> bool:
    resident = session.get(Resident, openid)
    last = None if resident is None else resident.last_message_at
    return last is not None and now - last < timedelta(hours=settings.service_window_hours)


def _retry_later(notification: Notification, error: str, now: datetime, settings: ReportsSettings) -> None:
    notification.last_error = error[:1000]
    if notification.attempts >= settings.notify_max_attempts:
        notification.status = NotificationStatus.FAILED
        notification.next_attempt_at = None
    else:
        notification.next_attempt_at = now + backoff(notification.attempts, settings)


def deliver(
    session: Session,
    notification_id: int,
    sender: Sender,
    *,
    settings: ReportsSettings,
    texts: Texts,
    now: datetime | None = None,
) -> Notification | None:
    """Try to deliver one pending notice; the outcome is recorded on the row."""
    now = now or utcnow()
    notification = session.get(Notification, notification_id, with_for_update=True, populate_existing=True)
    if notification is None or notification.status != NotificationStatus.PENDING:
        return notification
    notification.attempts += 1
    text, values = render(notification, texts, ZoneInfo(settings.timezone))
    if in_service_window(session, notification.openid, now, settings):
        try:
            sender.send_text(notification.openid, text)
        except Exception as exc:
            code = _errcode(exc)
            if isinstance(exc, SendQuotaExhaustedError) or code == OVER_QUOTA:
                _retry_later(notification, "45047 customer-service quota used up", now, settings)
                session.flush()
                return notification
            if not (isinstance(exc, OutOfServiceWindowError) or code == OUTSIDE_WINDOW):
                log.warning("notification %s: text failed: %s", notification.id, type(exc).__name__)
                _retry_later(notification, f"{type(exc).__name__}: {exc}", now, settings)
                session.flush()
                return notification
            # 45015: the window is closed after all; use the template below.
        else:
            _sent(notification, "text", now)
            session.flush()
            return notification
    if not settings.template_id:
        notification.status = NotificationStatus.UNDELIVERABLE
        notification.last_error = "outside the 48-hour window and no template configured"
        notification.next_attempt_at = None
        session.flush()
        return notification
    try:
        sender.send_template(
            notification.openid,
            settings.template_id,
            template_data(values, settings),
            url=settings.template_url or None,
        )
    except Exception as exc:
        log.warning("notification %s: template failed: %s", notification.id, type(exc).__name__)
        _retry_later(notification, f"{type(exc).__name__}: {exc}", now, settings)
    else:
        _sent(notification, "template", now)
    session.flush()
    return notification


def _sent(notification: Notification, channel: str, now: datetime) -> None:
    notification.status = NotificationStatus.SENT
    notification.channel = channel
    notification.sent_at = now
    notification.next_attempt_at = None
    notification.last_error = None


def due_notifications(session: Session, *, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Pending notices whose retry is due, and pending ones no job took within a minute."""
    now = now or utcnow()
    query = (
        select(Notification.id)
        .where(
            Notification.status == NotificationStatus.PENDING,
            (
                (Notification.next_attempt_at.is_(None))
                & (Notification.created_at <= now - timedelta(minutes=1))
            )
            | (Notification.next_attempt_at <= now),
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return list(session.scalars(query))

"""Delivering the outbox of cases: staff replies and the satisfaction question to residents, notices
to staff (escalation, duty alerts).

The pattern of ``reports.notify``: a row queued in the unit of work of the act, a job after the
commit, backoff retries. A customer-service text while the recipient's 48-hour window is open and
has messages left (``[cases] window_messages``); outside it (45015) or over quota (45047), the
template message, whose link (for residents) opens a signed page with the answer. Every attempt
and its outcome is an entry of the case's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.delivery import OutOfServiceWindowError, SendQuotaExhaustedError
from bot.core.texts import Texts
from cases import links
from cases.models import Case, CaseDelivery, CaseMessage, DeliveryStatus, EntryKind
from cases.service import shown_text, window_state
from cases.settings import CasesSettings
from reports.notify import Sender
from reports.retry import backoff
from reports.roles import Actor

log = logging.getLogger("citybot.cases.delivery")

OUTSIDE_WINDOW = 45015
OVER_QUOTA = 45047
OUTSIDE_WINDOW_TEXT = "45015 outside the customer-service window"
OVER_QUOTA_TEXT = "45047 customer-service quota used up"


def refusal(exc: BaseException) -> str | None:
    """``"window"`` (45015), ``"quota"`` (45047) or None for any other failure."""
    code = getattr(exc, "errcode", None)
    if isinstance(exc, OutOfServiceWindowError) or code == OUTSIDE_WINDOW:
        return "window"
    if isinstance(exc, SendQuotaExhaustedError) or code == OVER_QUOTA:
        return "quota"
    return None


def render(
    session: Session, delivery: CaseDelivery, case: Case, texts: Texts, settings: CasesSettings
) -> tuple[str, dict[str, str]]:
    """(customer-service text, template values by logical field)."""
    zone = ZoneInfo(settings.timezone)
    when = delivery.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if delivery.kind == "reply":
        entry = session.get(CaseMessage, delivery.message_id) if delivery.message_id else None
        body = "" if entry is None else entry.content
        text = texts("cases.notify.reply", number=case.number, text=body)
        first = texts("cases.notify.template_first")
        remark = texts("cases.notify.template_remark")
    elif delivery.kind == "rating":
        text = texts("cases.notify.rating", number=case.number)
        first = texts("cases.notify.template_rating_first")
        remark = text
    else:
        event = str(delivery.payload.get("event", "escalate_section"))
        due = case.second_due_at if event == "escalate_deputy" and case.second_due_at else case.due_at
        text = texts(
            f"cases.notify.{event}",
            number=case.number,
            subject=case.subject or texts("cases.chat.nothing"),
            due=due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        )
        first, remark = text, text
    return text, {"first": first, "number": case.number, "time": when, "remark": remark}


def template_data(values: Mapping[str, str], settings: CasesSettings) -> dict[str, dict[str, str]]:
    return {
        settings.template_fields[name]: {"value": value}
        for name, value in values.items()
        if name in settings.template_fields
    }


def _record(session: Session, delivery: CaseDelivery, outcome: str, now: datetime, error: str = "") -> None:
    session.add(
        CaseMessage(
            case_id=delivery.case_id,
            kind=EntryKind.DELIVERY,
            msg_type=delivery.kind,
            actor="system",
            details={
                "delivery": delivery.id,
                "attempt": delivery.attempts,
                "channel": delivery.channel or "",
                "outcome": outcome,
                "error": error[:300],
                "to_staff": delivery.kind == "staff",
            },
            created_at=now,
        )
    )


def _retry_later(
    session: Session, delivery: CaseDelivery, error: str, now: datetime, settings: CasesSettings
) -> None:
    delivery.last_error = error[:1000]
    if delivery.attempts >= settings.notify_max_attempts:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        _record(session, delivery, "failed", now, delivery.last_error)
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, settings)
        _record(session, delivery, "retry", now, delivery.last_error)


def _sent(delivery: CaseDelivery, channel: str, now: datetime) -> None:
    delivery.status = DeliveryStatus.SENT
    delivery.channel = channel
    delivery.sent_at = now
    delivery.next_attempt_at = None
    delivery.last_error = None


def deliver(
    session: Session,
    delivery_id: int,
    sender: Sender,
    *,
    settings: CasesSettings,
    texts: Texts,
    secret: str,
    now: datetime,
) -> CaseDelivery | None:
    """Try one pending delivery; the outcome is on the row and on the case's thread."""
    delivery = session.get(CaseDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery
    case = session.get(Case, delivery.case_id)
    if case is None:
        return delivery
    delivery.attempts += 1
    text, values = render(session, delivery, case, texts, settings)
    window = window_state(session, settings, delivery.openid, now)
    fallback = "closed" if not window.open else ("quota" if window.messages_left <= 0 else "")
    if not fallback:
        try:
            sender.send_text(delivery.openid, text)
        except Exception as exc:
            why = refusal(exc)
            if why is None:
                log.warning("case delivery %s: text failed: %s", delivery.id, type(exc).__name__)
                delivery.channel = "text"
                _retry_later(session, delivery, f"{type(exc).__name__}: {exc}", now, settings)
                session.flush()
                return delivery
            fallback = why
            delivery.channel = "text"
            _record(session, delivery, why, now, OUTSIDE_WINDOW_TEXT if why == "window" else OVER_QUOTA_TEXT)
        else:
            _sent(delivery, "text", now)
            _record(session, delivery, "sent", now)
            session.flush()
            return delivery
    delivery.channel = "template"
    if not settings.template_id:
        delivery.status = DeliveryStatus.UNDELIVERABLE
        delivery.last_error = f"no customer-service message possible ({fallback}) and no template configured"
        delivery.next_attempt_at = None
        _record(session, delivery, "undeliverable", now, delivery.last_error)
        session.flush()
        return delivery
    url: str | None = None
    if delivery.kind == "reply" and settings.public_base_url:
        url = links.answer_url(settings.public_base_url, secret, case.id)
    try:
        sender.send_template(delivery.openid, settings.template_id, template_data(values, settings), url=url)
    except Exception as exc:
        log.warning("case delivery %s: template failed: %s", delivery.id, type(exc).__name__)
        _retry_later(session, delivery, f"{type(exc).__name__}: {exc}", now, settings)
    else:
        _sent(delivery, "template", now)
        delivery.payload = {**delivery.payload, "url": url or ""}
        _record(session, delivery, "sent", now)
    session.flush()
    return delivery


def due_deliveries(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Pending deliveries whose retry is due, and pending ones no job took within a minute."""
    query = (
        select(CaseDelivery.id)
        .where(
            CaseDelivery.status == DeliveryStatus.PENDING,
            (CaseDelivery.next_attempt_at.is_(None) & (CaseDelivery.created_at <= now - timedelta(minutes=1)))
            | (CaseDelivery.next_attempt_at <= now),
        )
        .order_by(CaseDelivery.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def describe(entry: CaseMessage, texts: Texts) -> str:
    """A delivery entry of the thread as staff read it."""
    details: dict[str, Any] = entry.details or {}
    outcome = details.get("outcome", "")
    channel_key = f"cases.thread.channel_{details.get('channel') or 'text'}"
    channel = texts(channel_key) if channel_key in texts else str(details.get("channel", ""))
    error = str(details.get("error", ""))
    if outcome == "sent":
        return texts("cases.thread.delivery_sent", channel=channel)
    if outcome == "undeliverable":
        return texts("cases.thread.delivery_undeliverable")
    if outcome == "failed":
        return texts("cases.thread.delivery_failed", error=error)
    return texts("cases.thread.delivery_retry", error=error)


def entry_text(entry: CaseMessage, texts: Texts, viewer: Actor | None) -> str:
    """One thread entry as staff read it: the words (phones masked unless the viewer may see them),
    a photo, link or location, an event or a delivery attempt."""
    if entry.kind is EntryKind.DELIVERY:
        return describe(entry, texts)
    if entry.kind is EntryKind.EVENT:
        key = f"cases.events.{entry.msg_type}"
        if key not in texts:
            return entry.msg_type
        needed = texts.placeholders(key)
        values = {name: _event_value(texts, entry.details.get(name, "")) for name in needed}
        sentence = texts(key, **values)
        return f"{sentence}：{entry.content}" if entry.content else sentence
    parts = [shown_text(entry.content, viewer)] if entry.content else []
    if entry.kind is EntryKind.RESIDENT and entry.msg_type != "text":
        kind_key = f"cases.kinds.{entry.msg_type}"
        parts.insert(0, f"[{texts(kind_key) if kind_key in texts else entry.msg_type}]")
    if entry.url:
        parts.append(entry.url)
    if entry.lat is not None and entry.lon is not None:
        parts.append(f"({entry.lat:.5f}, {entry.lon:.5f})")
    if entry.flagged:
        parts.append(texts("cases.cli.flagged"))
    return " ".join(parts) or texts("cases.chat.nothing")


def _event_value(texts: Texts, value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    key = f"cases.rating.{value}"
    return texts(key) if key in texts else str(value)

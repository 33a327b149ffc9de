"""Accepting one verified message: journal, take the resident's turn, dispatch, commit, reply.

The promises, and what keeps each:

- **Journaled exactly once.** The journal's unique dedupe key is the only dedupe guard (a store
  that forgets, or a Redis outage, changes nothing). If the database cannot take the row, the
  message goes to the local spool (bot.chat.spool) and is replayed when the database is back.
- **Handled at most once.** Whoever runs the handler holds the row's lease; the outcome is
  committed with the handler's effects only while the lease token still matches (bot.chat.journal).
  A WeChat retry that finds a live lease waits for the outcome; one that finds an expired lease
  (the first attempt's worker was killed) takes it over.
- **Answered once.** An attempt that commits within ``intake.passive_budget`` of its arrival
  answers passively; a retry that finds a finished reply claims it; a reply no attempt took
  before WeChat stopped retrying goes out as a customer-service message (bot.chat.recovery).
- **One resident at a time, in WeChat's order.** The handler runs inside the resident's turn
  (bot.core.residents.take_turn) and first lets the resident's earlier messages still in hand finish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.chat import journal
from bot.chat.conversation import Conversation
from bot.chat.journal import Delivery, JournalEntry, Outcome
from bot.chat.replies import Reply, Silence, Text, reply_from_dict
from bot.chat.routing import Context, Dispatcher
from bot.chat.services import ChatServices
from bot.chat.settings import ConversationSettings, IntakeSettings
from bot.chat.spool import Spool
from bot.core import metrics, residents, services
from bot.core.clock import epoch, utcnow
from bot.core.database import sessionmaker_for
from bot.wechat.inbound import Inbound

log = logging.getLogger("citybot.inbox")

# Events that open WeChat's 48-hour customer-service window, like a message does.
WINDOW_EVENTS = frozenset(
    {
        "subscribe",
        "click",
        "view",
        "scan",
        "scancode_push",
        "scancode_waitmsg",
        "pic_sysphoto",
        "pic_photo_or_album",
        "pic_weixin",
        "location_select",
    }
)

POLL = 0.05
ATTEMPT_SECONDS = 5.0  # how long WeChat waits for one attempt's answer


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached (as opposed to a bug or bad data)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def dispatcher(app: Flask) -> Dispatcher:
    container = services.of(app)
    return container.get(ChatServices).dispatcher


def spool_for(app: Flask) -> Spool:
    container = services.of(app)
    found = container.get(ChatServices).spool
    if found is None:
        settings = container.settings
        folder = settings.section(IntakeSettings).spool_dir or str(Path(settings.instance_path) / "spool")
        found = container.get(ChatServices).spool = Spool(folder)
    return found


def lease_of(app: Flask) -> timedelta:
    return timedelta(seconds=services.settings(app).section(IntakeSettings).lease)


# -- the webhook's entry -----------------------------------------------------------------------------


def accept(
    app: Flask, inbound: Inbound, *, started: float | None = None, sent_at: int | None = None
) -> Reply:
    """The passive reply for ``inbound`` (Silence when it is answered another way).

    ``started`` is when the request reached the app (monotonic); ``sent_at`` the signed timestamp
    of the attempt (Unix seconds, WeChat's clock): an attempt that waited in a busy server's accept
    queue has less of WeChat's 5 seconds left than its own start suggests, so the answer must also
    be ready by ``sent_at`` + 5 s (servers keep NTP time).
    """
    budget = services.settings(app).section(IntakeSettings).passive_budget
    now = time.monotonic()
    started = now if started is None else started
    deadline = started + budget
    if sent_at is not None:
        # The signed timestamp is truncated to the second, so sent_at + 5 never ends after WeChat does.
        deadline = min(deadline, now + (sent_at + ATTEMPT_SECONDS - epoch()))
    spool = spool_for(app)
    if spool.holds_sender(inbound.openid):
        # The resident's earlier messages wait for the database: this one queues behind them.
        return _spool(app, inbound, "earlier messages of this resident are spooled")
    try:
        entry_id, token = _journal(app, inbound)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return _spool(app, inbound, f"database unavailable: {type(exc).__name__}")
    if token is not None:
        reply = run(app, entry_id, token, inbound, passive_deadline=deadline)
        if reply is not None:
            return reply
    return _follow(app, entry_id, inbound, deadline)


def record(session: Session, inbound: Inbound, *, lease: timedelta) -> JournalEntry:
    """Journal ``inbound`` as ``received``, the caller holding its lease (flushed, not committed)."""
    return journal.record_received(
        session,
        key=inbound.dedupe_key,
        msg_type=inbound.msg_type,
        event=inbound.event,
        sender=inbound.openid,
        payload=inbound.xml,
        sent_at=inbound.create_time,
        msg_id=inbound.msg_id or 0,
        lease=lease,
    )


def _journal(app: Flask, inbound: Inbound) -> tuple[int, str | None]:
    """Insert the row holding its lease: (id, token); (id, None) when it was journaled before."""
    with sessionmaker_for(app)() as session:
        try:
            entry = record(session, inbound, lease=lease_of(app))
            session.commit()
            return entry.id, entry.lease_token
        except IntegrityError:
            session.rollback()
        existing = journal.by_key(session, inbound.dedupe_key)
        if existing is None:  # pragma: no cover - the unique key said it exists
            raise LookupError(inbound.dedupe_key)
        return existing.id, None


def _spool(app: Flask, inbound: Inbound, why: str) -> Reply:
    spool = spool_for(app)
    spool.put(
        inbound.xml,
        key=inbound.dedupe_key,
        sender=inbound.openid,
        sent_at=inbound.create_time,
        msg_id=inbound.msg_id or 0,
    )
    metrics.MESSAGES.labels("spooled").inc()
    metrics.SPOOL_DEPTH.set(spool.depth())
    log.warning("spooled %s (%s)", inbound.dedupe_key, why)
    return Silence()


def _follow(app: Flask, entry_id: int, inbound: Inbound, deadline: float) -> Reply:
    """A retry (or a concurrent attempt): wait for the outcome, claim it, or take an expired lease."""
    make_session = sessionmaker_for(app)
    while True:
        try:
            with make_session() as session:
                entry = session.get(JournalEntry, entry_id)
                if entry is None:  # pragma: no cover - rows are never deleted
                    return Silence()
                now = utcnow()
                if entry.status != Outcome.RECEIVED:
                    reply = _claim_passive(session, entry)
                    if reply is not None:
                        return reply
                    continue
                if not entry.lease_live(now):
                    token = journal.take_lease(
                        session, entry_id, lease=lease_of(app), statuses=(Outcome.RECEIVED,), now=now
                    )
                    session.commit()
                    if token is not None:
                        metrics.MESSAGES.labels("taken_over").inc()
                        log.warning("took over %s after its lease ran out", entry.dedupe_key)
                        reply = run(app, entry_id, token, inbound, passive_deadline=deadline)
                        if reply is not None:
                            return reply
                        continue
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("database unavailable while following %s", inbound.dedupe_key)
            metrics.MESSAGES.labels("retry_silent").inc()
            return Silence()
        if time.monotonic() + POLL >= deadline:
            metrics.MESSAGES.labels("retry_silent").inc()
            log.info("attempt of %s ends while another still handles it", inbound.dedupe_key)
            return Silence()
        time.sleep(POLL)


def _claim_passive(session: Session, entry: JournalEntry) -> Reply | None:
    """The finished row's reply if this attempt may answer with it; Silence if it went another way."""
    if entry.delivery in (Delivery.PASSIVE, Delivery.NONE):
        metrics.MESSAGES.labels("retry_answered").inc()
        data = entry.reply_data
        return Silence() if data is None else reply_from_dict(data)
    if entry.delivery is not None:  # sent (or being sent) as a customer-service message
        metrics.MESSAGES.labels("retry_silent").inc()
        return Silence()
    if journal.claim_delivery(session, entry.id, Delivery.PASSIVE, now=utcnow()):
        session.commit()
        metrics.MESSAGES.labels("retry_answered").inc()
        data = entry.reply_data
        return Silence() if data is None else reply_from_dict(data)
    session.rollback()
    return None  # someone else settled it meanwhile: read again


# -- running a handler -------------------------------------------------------------------------------


def _take_turn(app: Flask, session: Session, entry_id: int, inbound: Inbound) -> None:
    """Hold the resident's turn, after their earlier messages still in hand (bounded wait)."""
    settings = services.settings(app)
    give_up = time.monotonic() + settings.section(IntakeSettings).order_wait
    while True:
        residents.take_turn(session, inbound.openid)
        if time.monotonic() >= give_up or not journal.earlier_unfinished(
            session,
            entry_id=entry_id,
            sender=inbound.openid,
            sent_at=inbound.create_time,
            msg_id=inbound.msg_id or 0,
            now=utcnow(),
        ):
            return
        session.rollback()  # let the earlier message take the turn
        time.sleep(0.01)


def run(
    app: Flask, entry_id: int, token: str, inbound: Inbound, *, passive_deadline: float | None
) -> Reply | None:
    """Run the handler for a row whose lease ``token`` holds; commit effects and outcome together.

    With ``passive_deadline`` (a webhook attempt), a commit before it settles the delivery as
    passive and the reply is returned; a later commit returns Silence and leaves the reply for a
    retry to claim or for the recovery loop to send. Without a deadline the reply is returned for
    the caller to deliver. Returns None when nothing was committed (the lease was taken over or
    the database went away): the row's lease will run out and someone takes the message again.
    """
    settings = services.settings(app)
    texts = services.texts(app)
    began = time.monotonic()
    now = utcnow()
    handler_name: str | None = None
    with sessionmaker_for(app)() as session:
        ctx: Context | None = None
        try:
            _take_turn(app, session, entry_id, inbound)
            conversation = Conversation(
                session, inbound.openid, settings.section(ConversationSettings).timeout, now=now
            )
            ctx = Context(
                session=session,
                store=services.store(app),
                settings=settings,
                texts=texts,
                conversation=conversation,
                now=now,
                app=app,
            )
            residents.touch(
                session, inbound.openid, by_message=not inbound.is_event or inbound.event in WINDOW_EVENTS
            )
            handler_name, reply = dispatcher(app).dispatch(inbound, ctx)
            conversation.save()
            status, error = Outcome.HANDLED, None
        except Exception as exc:
            if database_unavailable(exc):
                _quiet_rollback(session)
                log.warning("database unavailable while handling %s; its lease will run out", entry_id)
                return None
            _quiet_rollback(session)
            log.exception("handler %s failed for message %s", handler_name or "(dispatch)", entry_id)
            reply, status, error = (
                Text(texts("common.apology")),
                Outcome.FAILED,
                f"{type(exc).__name__}: {exc}",
            )
            ctx = None
        try:
            delivery = _passive_delivery(reply, passive_deadline)
            if not journal.finish(
                session,
                entry_id,
                token=token,
                status=status,
                handler=handler_name,
                reply=reply.to_dict(),
                error=error,
                delivery=delivery,
            ):
                _quiet_rollback(session)
                log.warning("lease of message %s was taken over; this attempt's work is dropped", entry_id)
                return None
            session.commit()
        except Exception as exc:
            _quiet_rollback(session)
            if not database_unavailable(exc):
                raise
            log.warning("database unavailable while finishing message %s; its lease will run out", entry_id)
            return None
    metrics.HANDLER_SECONDS.observe(time.monotonic() - began)
    metrics.MESSAGES.labels(status.value).inc()
    if ctx is not None:
        ctx.run_after_commit()
    if passive_deadline is None or delivery is not None:
        return reply
    # Too late for this attempt: a waiting retry claims the reply, or the recovery loop sends it.
    log.warning("message %s finished after its attempt's budget", entry_id)
    return Silence()


def _passive_delivery(reply: Reply, deadline: float | None) -> Delivery | None:
    if isinstance(reply, Silence):
        return Delivery.NONE
    if deadline is not None and time.monotonic() <= deadline:
        return Delivery.PASSIVE
    return None


def _quiet_rollback(session: Session) -> None:
    try:
        session.rollback()
    except Exception:
        log.debug("rollback failed", exc_info=True)


# -- replays -------------------------------------------------------------------------------------------

Deliver = Callable[[str, Reply], None]

"""The recovery loop: nothing verified is left unhandled, nothing handled is left unanswered.

Each pass, in every web worker (started by the first webhook request; ``intake.recovery_interval``)
or from ``citybot messages recover``:

1. **Spool replay.** Messages kept on disk while the database was unreachable (bot.chat.spool) are
   journaled in WeChat's order, handled, and answered by customer-service message.
2. **Expired leases.** A row still ``received`` after its lease ran out (a killed worker, a
   database lost mid-handler) is taken over with a new lease and handled once.
3. **Undelivered replies.** A finished row whose reply no WeChat attempt took passively by the
   time WeChat stopped retrying (``intake.retry_horizon``) goes out as a customer-service message.

Every step takes what it works on with a conditional update (a lease, a delivery claim) or an
``flock``, so any number of workers and CLI runs may recover at once without doing anything twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from sqlalchemy.exc import IntegrityError

from bot.chat import inbox, journal
from bot.chat.journal import Delivery, JournalEntry, Outcome
from bot.chat.outbox import deliver_reply
from bot.chat.replies import Reply, Silence, reply_from_dict
from bot.chat.services import ChatServices
from bot.chat.settings import IntakeSettings
from bot.core import metrics, services
from bot.core.clock import utcnow
from bot.core.database import sessionmaker_for
from bot.wechat.errors import (
    CustomerServiceQuotaError,
    OutsideServiceWindowError,
    RateLimitError,
    SystemBusyError,
    WeChatAPIError,
    WeChatUnavailableError,
)
from bot.wechat.inbound import BadMessageError, parse_inbound

log = logging.getLogger("citybot.recovery")

RETRYABLE = (CustomerServiceQuotaError, WeChatUnavailableError, SystemBusyError, RateLimitError)


@dataclass
class Pass:
    replayed: int = 0
    recovered: int = 0
    delivered: int = 0
    errors: list[str] = field(default_factory=list)


def _default_deliver(app: Flask) -> inbox.Deliver:
    return lambda openid, reply: deliver_reply(app, openid, reply)


# -- delivery ------------------------------------------------------------------------------------------


def deliver_entry(app: Flask, entry_id: int, *, deliver: inbox.Deliver | None = None) -> Delivery | None:
    """Send a finished row's reply as a customer-service message, once; record what happened."""
    intake = services.settings(app).section(IntakeSettings)
    make_session = sessionmaker_for(app)
    with make_session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None or entry.delivery is not None or entry.status == Outcome.RECEIVED:
            return None
        data = entry.reply_data
        reply: Reply = Silence() if data is None else reply_from_dict(data)
        claim = Delivery.NONE if isinstance(reply, Silence) else Delivery.SENDING
        if not journal.claim_delivery(session, entry_id, claim, now=utcnow()):
            session.rollback()
            return None
        session.commit()
        if claim == Delivery.NONE:
            return Delivery.NONE
        openid, attempts = entry.sender, entry.delivery_attempts
    send = deliver or _default_deliver(app)
    outcome, error, retry_at = Delivery.SENT, None, None
    try:
        send(openid, reply)
    except OutsideServiceWindowError as exc:
        outcome, error = Delivery.EXPIRED, str(exc)
    except (*RETRYABLE, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        if attempts < intake.delivery_attempts:
            outcome = Delivery.SENDING
            retry_at = utcnow() + timedelta(seconds=intake.delivery_backoff * 2 ** max(0, attempts - 1))
        else:
            outcome = Delivery.FAILED
    except WeChatAPIError as exc:
        outcome, error = Delivery.FAILED, str(exc)
    with make_session() as session:
        journal.settle_delivery(session, entry_id, outcome, now=utcnow(), error=error, retry_at=retry_at)
        session.commit()
    result = "retry" if retry_at is not None else outcome.value
    metrics.DELIVERIES.labels(result).inc()
    if outcome != Delivery.SENT:
        log.warning("customer-service reply to message %s: %s (%s)", entry_id, result, error)
    return None if retry_at is not None else outcome


# -- replays -------------------------------------------------------------------------------------------


def replay_entry(
    app: Flask,
    entry_id: int,
    *,
    statuses: tuple[Outcome, ...],
    deliver: inbox.Deliver | None = None,
) -> Outcome | None:
    """Take the row's lease, handle it once, deliver its reply; None when someone else has it."""
    make_session = sessionmaker_for(app)
    with make_session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is None:
            return None
        was = entry.status
        token = journal.take_lease(
            session, entry_id, lease=inbox.lease_of(app), statuses=statuses, now=utcnow()
        )
        session.commit()
        if token is None:
            return None
        payload = entry.payload
    inbound = parse_inbound(payload)
    reply = inbox.run(app, entry_id, token, inbound, passive_deadline=None)
    if reply is None:
        return None
    with make_session() as session:
        status = session.get(JournalEntry, entry_id, populate_existing=True).status  # type: ignore[union-attr]
        if was == Outcome.FAILED and status == Outcome.FAILED:
            # The resident had their apology already; a replay that fails again stays quiet.
            journal.claim_delivery(session, entry_id, Delivery.NONE, now=utcnow())
            session.commit()
    deliver_entry(app, entry_id, deliver=deliver)
    return status


def replay_spool(app: Flask, *, deliver: inbox.Deliver | None = None, limit: int = 500) -> int:
    """Journal and handle spooled messages, oldest first; stops at the first database failure."""
    spool = inbox.spool_for(app)
    done = 0
    for spooled in spool.entries()[:limit]:
        with spool.claim(spooled) as mine:
            if not mine:
                continue
            try:
                inbound = parse_inbound(spooled.read())
            except (BadMessageError, FileNotFoundError, UnicodeDecodeError) as exc:
                log.error("dropping unreadable spool file %s: %s", spooled.path.name, exc)
                spool.remove(spooled)
                continue
            with sessionmaker_for(app)() as session:
                try:
                    entry = inbox.record(session, inbound, lease=inbox.lease_of(app))
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    spool.remove(spooled)  # a WeChat retry journaled it after the database came back
                    metrics.REPLAYS.labels("duplicate").inc()
                    continue
                entry_id, token = entry.id, entry.lease_token
            spool.remove(spooled)  # the journal row is now the durable record
        metrics.REPLAYS.labels("journaled").inc()
        assert token is not None
        if inbox.run(app, entry_id, token, inbound, passive_deadline=None) is not None:
            deliver_entry(app, entry_id, deliver=deliver)
        done += 1
    metrics.SPOOL_DEPTH.set(spool.depth())
    return done


def run_once(app: Flask, *, deliver: inbox.Deliver | None = None) -> Pass:
    """One recovery pass (see the module's docstring); a database still down ends it early."""
    result = Pass()
    intake = services.settings(app).section(IntakeSettings)
    with app.app_context():
        try:
            result.replayed = replay_spool(app, deliver=deliver)
            now = utcnow()
            with sessionmaker_for(app)() as session:
                stuck = journal.stuck(session, now=now)
            for entry_id in stuck:
                if replay_entry(app, entry_id, statuses=(Outcome.RECEIVED,), deliver=deliver) is not None:
                    result.recovered += 1
                    metrics.RECOVERED.inc()
            with sessionmaker_for(app)() as session:
                waiting = journal.undelivered(
                    session, finished_before=now - timedelta(seconds=intake.retry_horizon), now=now
                )
            for entry_id in waiting:
                if deliver_entry(app, entry_id, deliver=deliver) == Delivery.SENT:
                    result.delivered += 1
        except Exception as exc:
            if not inbox.database_unavailable(exc):
                raise
            result.errors.append(type(exc).__name__)
    return result


def retry_failed(
    app: Flask,
    *,
    deliver: inbox.Deliver | None = None,
    stuck_after_seconds: int = 600,
    limit: int = 100,
) -> list[tuple[str, Outcome]]:
    """Replay failed (and long-stuck) messages; each new reply goes out as a customer-service message.

    Each message is taken with a lease (a conditional update), so two runs at once never handle
    one message twice; every delivery is recorded on the journal row. Returns (key, status) pairs.
    """
    results: list[tuple[str, Outcome]] = []
    with sessionmaker_for(app)() as session:
        entries = journal.needing_retry(
            session, stuck_after=timedelta(seconds=stuck_after_seconds), limit=limit
        )
        candidates = [(entry.id, entry.dedupe_key) for entry in entries]
    for entry_id, key in candidates:
        status = replay_entry(app, entry_id, statuses=(Outcome.FAILED, Outcome.RECEIVED), deliver=deliver)
        if status is not None:
            results.append((key, status))
    return results


# -- the loop ------------------------------------------------------------------------------------------


class RecoveryLoop:
    """A daemon thread running ``run_once`` every ``interval`` seconds in one process."""

    def __init__(self, app: Flask, interval: float, run: Callable[[Flask], Pass] = run_once) -> None:
        self.app = app
        self.interval = interval
        self._run = run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="citybot-recovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._run(self.app)
            except Exception:
                log.exception("recovery pass failed")


_start_lock = threading.Lock()


def ensure_started(app: Flask) -> None:
    """Start this process's loop once (called by the webhook, so CLI commands never start one)."""
    container = services.of(app)
    if container.get(ChatServices).recovery_started:
        return
    with _start_lock:
        if container.get(ChatServices).recovery_started:
            return
        interval = container.settings.section(IntakeSettings).recovery_interval
        loop = RecoveryLoop(app, interval) if interval > 0 else None
        container.get(ChatServices).recovery = loop
        container.get(ChatServices).recovery_started = True
        if loop is not None:
            loop.start()


def stop(app: Flask) -> None:
    loop = services.of(app).get(ChatServices).recovery
    if loop is not None:
        loop.stop()

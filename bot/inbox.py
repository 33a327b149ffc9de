"""Accepting one parsed message: dedupe, journal, dispatch, commit, cache the reply.

Two guards keep WeChat's retries (up to 3 attempts, possibly on different workers at the same
moment) from repeating a side effect:

- a claim in the store (atomic add-if-absent): the first attempt runs the handler, concurrent
  attempts wait briefly for its cached reply;
- the journal's unique dedupe key in the database: even if the store forgot the claim, a message
  already journaled is never handled again by a webhook attempt.

The journal row is committed as ``received`` before the handler runs; the handler's effects and
the outcome are committed together afterwards. A handler that raises is rolled back, its message
marked ``failed`` and the resident gets a short apology; ``citybot messages retry`` replays it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import journal, residents, services
from bot.clock import utcnow
from bot.conversation import Conversation
from bot.database import sessionmaker_for
from bot.journal import JournalEntry, Outcome
from bot.replies import Reply, Silence, Text, reply_from_dict
from bot.routing import Context, Dispatcher
from bot.wechat.inbound import Inbound, parse_inbound

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


def dispatcher(app: Flask) -> Dispatcher:
    found: Dispatcher | None = app.extensions.get("citybot.dispatcher")
    if found is None:
        from handlers import FALLBACK, ROUTERS

        found = Dispatcher(ROUTERS, FALLBACK)
        app.extensions["citybot.dispatcher"] = found
    return found


def _reply_key(key: str) -> str:
    return f"wx:reply:{key}"


def _journal_reply(app: Flask, key: str) -> Reply | None:
    with sessionmaker_for(app)() as session:
        entry = journal.by_key(session, key)
        data = entry.reply_data if entry is not None else None
    return None if data is None else reply_from_dict(data)


def accept(app: Flask, inbound: Inbound) -> Reply:
    """The reply for ``inbound``; runs its handler at most once across attempts and workers."""
    settings = services.settings(app)
    store = services.store(app)
    key = inbound.dedupe_key
    cached = store.get_json(_reply_key(key))
    if cached is not None:
        return reply_from_dict(cached)
    if not store.add(f"wx:claim:{key}", "1", ttl=settings.wechat.dedupe_ttl):
        waited = store.wait_for(_reply_key(key), settings.wechat.reply_wait)
        if waited is not None:
            return reply_from_dict(json.loads(waited))
        log.info("retry of %s while its first attempt is still running", key)
        return _journal_reply(app, key) or Silence()

    with sessionmaker_for(app)() as session:
        try:
            entry = journal.record_received(
                session,
                key=key,
                msg_type=inbound.msg_type,
                event=inbound.event,
                sender=inbound.openid,
                payload=inbound.xml,
            )
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("message %s was journaled before; not handling it again", key)
            reply = _journal_reply(app, key) or Silence()
        else:
            reply = handle(app, session, entry, inbound)
    store.set_json(_reply_key(key), reply.to_dict(), ttl=settings.wechat.dedupe_ttl)
    return reply


def handle(app: Flask, session: Session, entry: JournalEntry, inbound: Inbound) -> Reply:
    """Dispatch ``inbound`` and commit its effects together with the journal outcome."""
    settings = services.settings(app)
    store = services.store(app)
    texts = services.texts(app)
    conversation = Conversation(store, inbound.openid, settings.conversation.timeout)
    ctx = Context(
        session=session,
        store=store,
        settings=settings,
        texts=texts,
        conversation=conversation,
        now=utcnow(),
        app=app,
    )
    handler_name: str | None = None
    try:
        residents.touch(
            session, inbound.openid, by_message=not inbound.is_event or inbound.event in WINDOW_EVENTS
        )
        handler_name, reply = dispatcher(app).dispatch(inbound, ctx)
        journal.mark_handled(entry, handler=handler_name, reply=reply.to_dict())
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("handler %s failed for %s", handler_name or "(dispatch)", entry.dedupe_key)
        reply = Text(texts("common.apology"))
        journal.mark_failed(
            entry, handler=handler_name, error=f"{type(exc).__name__}: {exc}", reply=reply.to_dict()
        )
        session.commit()
        return reply
    conversation.save()
    ctx.run_after_commit()
    return reply


def retry_failed(
    app: Flask,
    *,
    deliver: Callable[[Inbound, Reply], None],
    stuck_after_seconds: int = 600,
    limit: int = 100,
) -> list[tuple[str, Outcome]]:
    """Replay failed (and long-stuck) messages; hand each new reply to ``deliver``.

    The passive reply window is long gone, so a successful replay's reply is delivered another
    way (a customer-service message). Returns (dedupe key, new status) pairs.
    """
    from datetime import timedelta

    results: list[tuple[str, Outcome]] = []
    with sessionmaker_for(app)() as session:
        entries = journal.needing_retry(
            session, stuck_after=timedelta(seconds=stuck_after_seconds), limit=limit
        )
        ids = [entry.id for entry in entries]
    for entry_id in ids:
        with sessionmaker_for(app)() as session:
            entry = session.get(JournalEntry, entry_id)
            if entry is None or entry.status == Outcome.HANDLED:
                continue
            inbound = parse_inbound(entry.payload)
            reply = handle(app, session, entry, inbound)
            session.refresh(entry)
            status = entry.status
            key = entry.dedupe_key
        services.store(app).set_json(
            _reply_key(key), reply.to_dict(), ttl=services.settings(app).wechat.dedupe_ttl
        )
        if status == Outcome.HANDLED and not isinstance(reply, Silence):
            deliver(inbound, reply)
        results.append((key, status))
    return results

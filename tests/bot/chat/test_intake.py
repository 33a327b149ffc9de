"""Nothing lost: the intake across a database outage, a dead attempt, a slow handler, a burst of
photos from one resident and concurrent replays, on both backends, through the real webhook.

The database outage here is in-process (new connections refused by the driver, pooled ones
dropped); tests/bot/chat/test_intake_faults.py stops real servers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from bot.chat import inbox, recovery
from bot.chat.conversation import Conversation
from bot.chat.journal import Delivery, JournalEntry, Outcome
from bot.chat.replies import Text
from bot.chat.routing import Dispatcher, Router
from bot.chat.services import ChatServices
from bot.core import services
from bot.core.clock import epoch, utcnow
from bot.core.database import session_scope
from bot.wechat.inbound import parse_inbound
from devtools.fake_wechat import FakeWeChat
from tests.support import images
from tests.support.clock import at
from tests.support.reports import unit
from tests.support.wechat import close_apps, simulator_for

pytestmark = pytest.mark.integration

RUNS: list[str] = []
router = Router(__name__)


@router.text("echo")
def echo(msg: Any, ctx: Any) -> Text:
    RUNS.append(msg.content)
    return Text(f"收到：{msg.content}")


@router.text(pattern=r"^slow (?P<seconds>[0-9.]+)$")
def slow(msg: Any, ctx: Any) -> Text:
    RUNS.append(msg.content)
    time.sleep(float(ctx.match.group("seconds")))
    return Text("慢慢来")


def rows(app: Flask) -> list[JournalEntry]:
    with session_scope(app) as session:
        found = list(session.scalars(select(JournalEntry).order_by(JournalEntry.id)))
        session.expunge_all()
        return found


@pytest.fixture
def make_intake_app(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> Iterator[Callable[..., Flask]]:
    built: list[Flask] = []

    def factory(routed: bool = True, **extra: Any) -> Flask:
        app = make_app(**fake_wechat.settings_overrides(), **extra)
        if routed:
            services.of(app).get(ChatServices).dispatcher = Dispatcher([router], echo)
        built.append(app)
        return app

    RUNS.clear()
    yield factory
    close_apps(built)


@contextmanager
def database_down(app: Flask) -> Iterator[None]:
    """Every new connection is refused by the driver, as when the server is stopped."""
    engine = services.of(app).engine
    dbapi = engine.dialect.loaded_dbapi

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise dbapi.OperationalError("connection refused (simulated outage)")

    engine.dispose()
    event.listen(engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)
        engine.dispose()


def sent_texts(fake: FakeWeChat) -> list[tuple[str, str]]:
    return [(m["touser"], m["text"]["content"]) for m in fake.sent_messages if m.get("msgtype") == "text"]


# -- the database away ---------------------------------------------------------------------------------


def test_messages_spooled_while_the_database_is_away_are_replayed_in_order_and_answered(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    first = sim.text("o-spool", "echo", msg_id=1001)
    second = sim.text("o-spool", "echo", msg_id=1002)
    with database_down(app):
        for xml in (second, first, second):  # a WeChat retry of the second rewrites the same file
            reply = sim.send(xml)
            assert (reply.status, reply.body) == (200, "success")
        assert inbox.spool_for(app).depth() == 2
        assert recovery.run_once(app).errors  # still down: the pass stops, nothing is lost
        assert inbox.spool_for(app).depth() == 2
    assert rows(app) == []

    done = recovery.run_once(app)
    assert (done.replayed, done.errors) == (2, [])
    assert inbox.spool_for(app).depth() == 0
    journal = rows(app)
    assert [(r.msg_id, r.status, r.attempts, r.delivery) for r in journal] == [
        (1001, Outcome.HANDLED, 1, Delivery.SENT),
        (1002, Outcome.HANDLED, 1, Delivery.SENT),
    ]
    assert sent_texts(fake_wechat) == [("o-spool", "收到：echo"), ("o-spool", "收到：echo")]
    # A WeChat retry arriving after the replay is answered from the journal without a second run.
    assert sim.send(second).body == "success"
    assert len(RUNS) == 2
    assert recovery.run_once(app).replayed == 0
    assert len(sent_texts(fake_wechat)) == 2


def test_a_resident_with_spooled_messages_queues_behind_them(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    with database_down(app):
        sim.send(sim.text("o-queue", "echo", msg_id=1))
    # The database is back, but the resident's first message is still on disk: the second joins it.
    assert sim.send(sim.text("o-queue", "echo", msg_id=2)).body == "success"
    assert (sim.send(sim.text("o-other", "echo", msg_id=3)).text or "") == "收到：echo"  # others unaffected
    assert inbox.spool_for(app).depth() == 2
    recovery.run_once(app)
    order = [r.msg_id for r in rows(app) if r.sender == "o-queue"]
    assert order == [1, 2]
    assert [r.delivery for r in rows(app) if r.sender == "o-queue"] == [Delivery.SENT, Delivery.SENT]


# -- a dead attempt ------------------------------------------------------------------------------------


def dead_attempt(app: Flask, xml: str, *, lease_left: float) -> int:
    """The row a killed worker leaves: journaled, leased, never finished."""
    inbound = parse_inbound(xml)
    with session_scope(app) as session:
        entry = inbox.record(session, inbound, lease=timedelta(seconds=lease_left))
        return entry.id


def test_a_retry_takes_over_an_expired_lease_and_answers_passively(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    xml = sim.text("o-killed", "echo", msg_id=2001)
    dead_attempt(app, xml, lease_left=-1)
    reply = sim.send(xml)
    assert reply.text == "收到：echo"
    [row] = rows(app)
    assert (row.status, row.attempts, row.delivery, row.lease_token) == (
        Outcome.HANDLED,
        1,
        Delivery.PASSIVE,
        None,
    )
    assert recovery.run_once(app).recovered == 0
    assert sent_texts(fake_wechat) == []


def test_a_retry_while_the_lease_lives_waits_then_stays_silent_and_recovery_answers_once(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app(intake={"recovery_interval": 0, "passive_budget": 0.5})
    sim = simulator_for(app)
    xml = sim.text("o-killed", "echo", msg_id=2002)
    dead_attempt(app, xml, lease_left=30)
    began = time.monotonic()
    assert sim.send(xml).body == "success"
    assert 0.4 < time.monotonic() - began < 4.0  # waited for the holder, within its own budget
    assert recovery.run_once(app).recovered == 0  # the lease still lives
    with at(utcnow() + timedelta(seconds=31)):
        first, second = recovery.run_once(app), recovery.run_once(app)
    assert (first.recovered, second.recovered) == (1, 0)
    [row] = rows(app)
    assert (row.status, row.attempts, row.delivery) == (Outcome.HANDLED, 1, Delivery.SENT)
    assert sent_texts(fake_wechat) == [("o-killed", "收到：echo")]
    assert sim.send(xml).body == "success"  # a late retry: the reply went by customer-service message
    assert len(sent_texts(fake_wechat)) == 1


def test_a_late_holder_loses_its_work_when_the_lease_was_taken_over(
    make_intake_app: Callable[..., Flask],
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    xml = sim.text("o-fenced", "echo", msg_id=2003)
    entry_id = dead_attempt(app, xml, lease_left=-1)
    with session_scope(app) as session:
        stale = session.get(JournalEntry, entry_id).lease_token  # type: ignore[union-attr]
    assert sim.send(xml).text == "收到：echo"  # the retry took the lease over and finished
    assert inbox.run(app, entry_id, str(stale), parse_inbound(xml), passive_deadline=None) is None
    [row] = rows(app)
    assert row.attempts == 1
    assert len(RUNS) == 2  # the late holder ran, but its commit was refused by the fencing token


# -- a slow handler ------------------------------------------------------------------------------------


def test_a_reply_finished_after_the_attempt_gave_up_goes_out_once_by_customer_service(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app(intake={"recovery_interval": 0, "passive_budget": 0.5, "lease": 8})
    sim = simulator_for(app)
    assert sim.send(sim.text("o-slow", "slow 0.7", msg_id=3001)).body == "success"
    [row] = rows(app)
    assert (row.status, row.delivery) == (Outcome.HANDLED, None)
    assert recovery.run_once(app).delivered == 0  # WeChat may still retry and take it passively
    with at(utcnow() + timedelta(seconds=17)):
        assert recovery.run_once(app).delivered == 1
        assert recovery.run_once(app).delivered == 0
    assert sent_texts(fake_wechat) == [("o-slow", "慢慢来")]
    assert rows(app)[0].delivery == Delivery.SENT


def test_a_waiting_retry_takes_a_slow_reply_passively(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app(intake={"recovery_interval": 0, "passive_budget": 1.5})
    sim = simulator_for(app)
    xml = sim.text("o-slow", "slow 1.8", msg_id=3002)
    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(sim.send(xml).body))
    first.start()
    time.sleep(1.0)  # WeChat's next attempt, while the first still runs
    retry = sim.send(xml)
    first.join()
    assert answers == ["success"]
    assert retry.text == "慢慢来"
    [row] = rows(app)
    assert (row.attempts, row.delivery) == (1, Delivery.PASSIVE)
    with at(utcnow() + timedelta(seconds=60)):
        assert recovery.run_once(app).delivered == 0
    assert sent_texts(fake_wechat) == []


def test_outside_the_window_is_recorded_and_not_retried(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    with database_down(app):
        sim.send(sim.text("o-window", "echo", msg_id=4001))
    fake_wechat.fail_next("message/custom/send", errcode=45015, times=1)
    recovery.run_once(app)
    [row] = rows(app)
    assert (row.delivery, row.delivery_attempts) == (Delivery.EXPIRED, 1)
    assert "45015" in (row.delivery_error or "")
    with at(utcnow() + timedelta(hours=1)):
        assert recovery.run_once(app).delivered == 0


def test_over_quota_is_tried_again_later(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    app = make_intake_app()
    sim = simulator_for(app)
    with database_down(app):
        sim.send(sim.text("o-quota", "echo", msg_id=4002))
    fake_wechat.fail_next("message/custom/send", errcode=45047, times=1)
    recovery.run_once(app)
    [row] = rows(app)
    assert (row.delivery, row.next_delivery_at is not None) == (None, True)
    with at(utcnow() + timedelta(minutes=5)):
        assert recovery.run_once(app).delivered == 1
    assert rows(app)[0].delivery == Delivery.SENT
    assert sent_texts(fake_wechat) == [("o-quota", "收到：echo")]


# -- one resident, one message at a time --------------------------------------------------------------


@pytest.mark.parametrize("order_wait", [0.0, 1.0], ids=["turn-only", "turn-and-order"])
def test_three_photos_sent_together_all_land_in_the_draft(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat, backend: str, order_wait: float
) -> None:
    intake = {"recovery_interval": 0, "order_wait": order_wait}
    first = make_intake_app(routed=False, intake=intake)
    apps = [first, first if backend == "embedded" else make_intake_app(routed=False, intake=intake)]
    openid = "o-three-photos"
    xmls = []
    sim = simulator_for(first)
    for n in range(3):
        media = f"MEDIA-BURST-{n}"
        fake_wechat.add_media(media, images.jpeg(n + 1))
        xmls.append(sim.image(openid, f"http://mmbiz.qpic.cn/{media}", media))
    barrier = threading.Barrier(3)
    replies: list[str] = []

    def post(index: int) -> None:
        target = simulator_for(apps[index % 2])
        barrier.wait()
        replies.append(target.send(xmls[index]).text or "")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counted = sorted(text.split("（")[1].split("）")[0] for text in replies if "已收到照片（" in text)
    assert counted == ["1/3", "2/3", "3/3"]
    with unit(first) as session:
        draft = Conversation(session, openid, timeout=1800).data["report"]
        assert sorted(photo["media_id"] for photo in draft["photos"]) == [
            f"MEDIA-BURST-{n}" for n in range(3)
        ]


# -- replays at once -----------------------------------------------------------------------------------


def test_two_retry_runs_at_once_answer_each_message_once(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat, backend: str
) -> None:
    failing = {"on": True}
    flaky = Router("flaky")

    @flaky.text("flaky")
    def handler(msg: Any, ctx: Any) -> Text:
        if failing["on"]:
            raise RuntimeError("broken for now")
        return Text(f"好了 {msg.openid}")

    first = make_intake_app(routed=False)
    second = first if backend == "embedded" else make_intake_app(routed=False)
    for app in {id(first): first, id(second): second}.values():
        services.of(app).get(ChatServices).dispatcher = Dispatcher([flaky], handler)
    sim = simulator_for(first)
    for n in range(10):
        assert "抱歉" in (sim.send(sim.text(f"o-retry-{n}", "flaky")).text or "")
    failing["on"] = False
    results: list[list[tuple[str, Outcome]]] = []
    barrier = threading.Barrier(2)

    def replay(app: Flask) -> None:
        barrier.wait()
        results.append(recovery.retry_failed(app))

    threads = [threading.Thread(target=replay, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(len(r) for r in results) == 10
    assert sorted(openid for openid, _ in sent_texts(fake_wechat)) == sorted(
        f"o-retry-{n}" for n in range(10)
    )
    assert {(r.status, r.attempts, r.delivery) for r in rows(first)} == {(Outcome.HANDLED, 2, Delivery.SENT)}


# -- what operators see --------------------------------------------------------------------------------


def test_health_readiness_and_metrics(make_intake_app: Callable[..., Flask]) -> None:
    app = make_intake_app()
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"database": "ok", "store": "ok", "spool_backlog": 0, "stuck": 0, "ready": True}
    sim = simulator_for(app)
    dead_attempt(app, sim.text("o-stuck", "echo", msg_id=5001), lease_left=-1)
    with database_down(app):
        sim.send(sim.text("o-down", "echo", msg_id=5002))
        down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json["database"].startswith("unavailable")
    assert down.json["spool_backlog"] == 1
    assert client.get("/readyz").json["stuck"] == 1
    exposition = client.get("/metrics").get_data(as_text=True)
    assert 'citybot_messages_total{outcome="spooled"}' in exposition
    assert "citybot_spool_depth 1.0" in exposition
    assert "citybot_handler_seconds_bucket" in exposition


def test_an_attempt_that_waited_past_wechats_window_does_not_answer_passively(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    """A request that sat in a busy server's queue: its signed timestamp says WeChat gave up on it."""
    app = make_intake_app()
    sim = simulator_for(app)
    queued = sim.send(sim.text("o-queued", "echo", msg_id=6001), timestamp=str(int(epoch()) - 6))
    assert queued.body == "success"
    [row] = rows(app)
    assert (row.status, row.delivery) == (Outcome.HANDLED, None)
    with at(utcnow() + timedelta(seconds=17)):
        assert recovery.run_once(app).delivered == 1
    assert sent_texts(fake_wechat) == [("o-queued", "收到：echo")]


def test_a_replay_that_fails_again_sends_no_second_apology(
    make_intake_app: Callable[..., Flask], fake_wechat: FakeWeChat
) -> None:
    broken = Router("broken")

    @broken.text("broken")
    def handler(msg: Any, ctx: Any) -> Text:
        raise RuntimeError("still broken")

    app = make_intake_app(routed=False)
    services.of(app).get(ChatServices).dispatcher = Dispatcher([broken], handler)
    sim = simulator_for(app)
    assert "抱歉" in (sim.send(sim.text("o-still-broken", "broken")).text or "")
    [(_, status)] = recovery.retry_failed(app)
    assert status == Outcome.FAILED
    [row] = rows(app)
    assert (row.attempts, row.delivery) == (2, Delivery.NONE)
    assert sent_texts(fake_wechat) == []  # the resident had their apology with the first attempt

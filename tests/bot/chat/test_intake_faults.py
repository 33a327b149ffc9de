"""The intake under real faults: gunicorn with 2 sync workers on a private PostgreSQL and Redis, a
WeChat-like sender (5 s per attempt, 3 attempts) pushing distinct signed messages at 20 per second,
and a fault injected mid-stream: Redis stopped for 5 s, PostgreSQL stopped for 5 s, a worker killed
with SIGKILL while it handles a message, a handler held 12 s by a row lock, three photos at once.

Every message is one resident saying 帮助, so "answered" is per openid: a passive reply, or a
customer-service message on the fake WeChat. The method and the figures are in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.app import load_settings
from bot.migrations import upgrade
from devtools.fake_wechat import FakeWeChat
from tests.support import images
from tests.support.delivery import Pushed, WeChatLike, stream
from tests.support.live import write_config
from tests.support.servers import Gunicorn, PrivatePostgres, PrivateRedis, available

pytestmark = [pytest.mark.faults, pytest.mark.slow]

RATE = 20.0  # messages per second
SECONDS = 20  # length of each stream
OUTAGE = 5.0  # seconds a server stays down
ANSWER_WITHIN = 60.0  # seconds after recovery by which every resident must have an answer
TOKEN = "faulttoken"


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    fake: FakeWeChat
    web: Gunicorn
    engine: Engine


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    why = available()
    if why is not None:
        if os.environ.get("CITYBOT_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(f"fault suite cannot run: {why}")
        pytest.skip(why)
    folder = Path(tempfile.mkdtemp(prefix="citybot-faults-"))
    postgres, redis = PrivatePostgres(), PrivateRedis()
    postgres.init()
    postgres.start()
    redis.start()
    fake = FakeWeChat()
    fake.__enter__()
    overrides: dict[str, Any] = {
        "database_url": postgres.url,
        "redis_url": redis.url,
        "secret_key": secrets.token_hex(32),
        "instance_path": str(folder / "instance"),
        "wechat": {**fake.settings_overrides()["wechat"], "token": TOKEN},
        "intake": {"spool_dir": str(folder / "spool"), "recovery_interval": 0.5},
        "logging": {"level": "WARNING"},
    }
    upgrade(load_settings(None, overrides, environ={}))
    web = Gunicorn(Path(write_config(str(folder / "citybot.toml"), overrides)), workers=2)
    web.start()
    engine = create_engine(postgres.url, pool_pre_ping=True)
    try:
        yield Stack(postgres, redis, fake, web, engine)
    finally:
        web.stop()
        engine.dispose()
        fake.__exit__(None, None, None)
        redis.close()
        postgres.close()
        shutil.rmtree(folder, ignore_errors=True)


def messages(prefix: str, count: int) -> list[Pushed]:
    """``count`` residents saying 帮助 once each."""
    sim = WeChatLike("http://unused", TOKEN).sim
    base = secrets.randbelow(10**12) * 10_000
    return [
        Pushed(f"{prefix}-{n:04d}", sim.text(f"{prefix}-{n:04d}", "帮助", msg_id=base + n))
        for n in range(count)
    ]


def settled(stack: Stack, openid: str, rows: int) -> list[dict[str, Any]]:
    """The resident's journal rows once ``rows`` of them are finished and their replies settled."""
    deadline = time.monotonic() + ANSWER_WITHIN
    while True:
        found = journal(stack, openid.rsplit("-", 1)[0])
        found = [row for row in found if row["sender"] == openid]
        done = [r for r in found if r["status"] != "received" and r["delivery"] not in (None, "sending")]
        if len(done) >= rows or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def journal(stack: Stack, prefix: str) -> list[dict[str, Any]]:
    with stack.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT sender, status, attempts, delivery FROM message_journal"
                " WHERE sender LIKE :p ORDER BY id"
            ),
            {"p": prefix + "-%"},
        )
        return [dict(row._mapping) for row in found]


def customer_service(stack: Stack, prefix: str) -> Counter[str]:
    return Counter(
        m["touser"] for m in stack.fake.sent_messages if str(m.get("touser", "")).startswith(prefix)
    )


def wait_for_answers(stack: Stack, prefix: str, pushed: list[Pushed], recovered_at: float) -> dict[str, Any]:
    """Wait until every resident is answered (or ANSWER_WITHIN passes); return the figures."""
    passive = {p.openid for p in pushed if p.answered_passively}
    everyone = {p.openid for p in pushed}
    deadline = recovered_at + ANSWER_WITHIN
    while True:
        sent = customer_service(stack, prefix)
        rows = journal(stack, prefix)
        settled = all(
            row["status"] != "received" and row["delivery"] not in (None, "sending") for row in rows
        )
        if (passive | set(sent)) >= everyone and len(rows) == len(everyone) and settled:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.25)
    answered_at = time.monotonic()
    figures = {
        "sent": len(everyone),
        "deliveries": sum(len(p.attempts) for p in pushed),
        "journal_rows": len(rows),
        "distinct_journaled": len({row["sender"] for row in rows}),
        "handler_runs_max": max((row["attempts"] for row in rows), default=0),
        "left_received": sum(row["status"] == "received" for row in rows),
        "passive": len(passive),
        "customer_service": sum(sent.values()),
        "answered_twice": sorted(
            openid for openid in everyone if (openid in passive) + sent.get(openid, 0) > 1
        ),
        "unanswered": sorted(everyone - passive - set(sent)),
        "answered_after_recovery_s": round(answered_at - recovered_at, 1),
    }
    print(f"\n{prefix}: {json.dumps(figures, ensure_ascii=False)}")
    return figures


def assert_nothing_lost(figures: dict[str, Any]) -> None:
    assert figures["journal_rows"] == figures["sent"] == figures["distinct_journaled"]
    assert figures["handler_runs_max"] == 1
    assert figures["left_received"] == 0
    assert figures["unanswered"] == []
    assert figures["answered_twice"] == []
    assert figures["passive"] + figures["customer_service"] == figures["sent"]
    assert figures["answered_after_recovery_s"] < ANSWER_WITHIN


def outage(server: PrivateRedis | PrivatePostgres, marks: dict[str, float]) -> None:
    server.stop()
    marks["down"] = time.monotonic()
    time.sleep(OUTAGE)
    server.start()
    marks["up"] = time.monotonic()


def test_redis_stopped_for_five_seconds(stack: Stack) -> None:
    sender = WeChatLike(stack.web.url, TOKEN)
    pushed = messages("o-redis", int(RATE * SECONDS))
    marks: dict[str, float] = {}
    done = stream(sender, pushed, rate=RATE, at_second={5.0: lambda: outage(stack.redis, marks)})
    assert marks["up"] - marks["down"] >= OUTAGE
    assert_nothing_lost(wait_for_answers(stack, "o-redis", done, marks["up"]))


def test_postgres_stopped_for_five_seconds(stack: Stack) -> None:
    sender = WeChatLike(stack.web.url, TOKEN)
    pushed = messages("o-pg", int(RATE * SECONDS))
    marks: dict[str, float] = {}
    done = stream(sender, pushed, rate=RATE, at_second={5.0: lambda: outage(stack.postgres, marks)})
    figures = wait_for_answers(stack, "o-pg", done, marks["up"])
    assert_nothing_lost(figures)
    assert figures["customer_service"] > 0  # those spooled during the outage were answered afterwards


def hold_resident(stack: Stack, openid: str) -> psycopg.Connection[Any]:
    """Lock a resident's row from outside, as a long transaction elsewhere would."""
    conn = psycopg.connect(host="127.0.0.1", port=stack.postgres.port, user="postgres", dbname="postgres")
    conn.execute("SELECT 1 FROM residents WHERE openid = %s FOR UPDATE", (openid,))
    return conn


def waiting_worker(stack: Stack, timeout: float = 10.0) -> int:
    """The PID of the worker whose connection waits on a lock (application_name is citybot:<pid>)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with stack.engine.connect() as conn:
            name = conn.scalar(
                text(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND application_name LIKE 'citybot:%' LIMIT 1"
                )
            )
        if name:
            return int(name.split(":")[1])
        time.sleep(0.05)
    raise TimeoutError("no worker waits on the resident's lock")


def victim_of(sender: WeChatLike, prefix: str) -> Pushed:
    """A resident who has written before (their row exists to be locked) and writes again."""
    [warm] = messages(prefix, 1)
    assert sender.push(warm).answered_passively
    return Pushed(warm.openid, sender.sim.text(warm.openid, "帮助", msg_id=secrets.randbelow(10**15)))


def answered_once(stack: Stack, victim: Pushed) -> None:
    rows = settled(stack, victim.openid, 2)
    assert [(r["status"], r["attempts"]) for r in rows] == [("handled", 1), ("handled", 1)]
    assert rows[1]["delivery"] in ("passive", "sent")
    assert customer_service(stack, victim.openid)[victim.openid] + victim.answered_passively == 1


def test_a_worker_killed_mid_message(stack: Stack) -> None:
    sender = WeChatLike(stack.web.url, TOKEN)
    victim = victim_of(sender, "o-kv")
    pushed = messages("o-kill", int(RATE * SECONDS))
    killed: dict[str, Any] = {}

    def kill_mid_message() -> None:
        lock = hold_resident(stack, victim.openid)
        pusher = threading.Thread(target=sender.push, args=(victim,))
        pusher.start()
        pid = waiting_worker(stack)
        assert pid in stack.web.worker_pids()
        os.kill(pid, 9)
        killed.update(pid=pid, at=time.monotonic())
        lock.rollback()
        lock.close()
        pusher.join(30)

    done = stream(sender, pushed, rate=RATE, at_second={5.0: kill_mid_message})
    assert killed["pid"] not in stack.web.worker_pids()
    assert_nothing_lost(wait_for_answers(stack, "o-kill", done, killed["at"]))
    answered_once(stack, victim)


def test_a_handler_held_twelve_seconds_by_a_row_lock(stack: Stack) -> None:
    sender = WeChatLike(stack.web.url, TOKEN)
    held = victim_of(sender, "o-held")
    lock = hold_resident(stack, held.openid)
    pusher = threading.Thread(target=sender.push, args=(held,))
    pusher.start()
    waiting_worker(stack)
    time.sleep(12)
    lock.rollback()
    lock.close()
    pusher.join(30)
    answered_once(stack, held)


def test_three_photos_at_the_same_instant_on_two_workers(stack: Stack) -> None:
    sender = WeChatLike(stack.web.url, TOKEN)
    openid = f"o-photos-{secrets.token_hex(4)}"
    pushed = []
    for n in range(3):
        media = f"FAULT-MEDIA-{openid}-{n}"
        stack.fake.add_media(media, images.jpeg(n + 1))
        pushed.append(Pushed(openid, sender.sim.image(openid, f"http://mmbiz.qpic.cn/{media}", media)))
    barrier = threading.Barrier(3)

    def push(message: Pushed) -> None:
        barrier.wait()
        sender.push(message)

    threads = [threading.Thread(target=push, args=(message,)) for message in pushed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    counts = sorted(
        (p.body or "").split("已收到照片（")[1].split("）")[0]
        for p in pushed
        if "已收到照片（" in (p.body or "")
    )
    assert counts == ["1/3", "2/3", "3/3"]
    with stack.engine.connect() as conn:
        data = json.loads(
            conn.scalar(text("SELECT data FROM conversations WHERE openid = :o"), {"o": openid})
        )
    assert len(data["report"]["photos"]) == 3

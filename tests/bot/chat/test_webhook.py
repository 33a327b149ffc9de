"""The /wechat endpoint end to end: signed (and encrypted) XML through the real app."""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask
from sqlalchemy import func, select

from bot.chat.journal import Delivery, JournalEntry, Outcome
from bot.chat.services import ChatServices
from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.residents import Resident
from bot.core.store import InProcessStore
from bot.wechat.inbound import parse_inbound, parse_xml
from bot.wechat.signature import sign
from devtools.simulator import WeChatSimulator, build_xml
from tests.support import vectors
from tests.support.clock import at
from tests.support.wechat import client_transport, sample_messages, simulator_for

pytestmark = pytest.mark.integration

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx0000000000000000"


def journal_rows(app: Flask) -> list[JournalEntry]:
    with session_scope(app) as session:
        return list(session.scalars(select(JournalEntry).order_by(JournalEntry.id)))


def signed_query(token: str, timestamp: str | None = None, nonce: str = "42") -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    return {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


# -- URL verification --------------------------------------------------------------------------------


def test_get_returns_echostr_when_signed(app: Flask) -> None:
    query = {**signed_query("testtoken"), "echostr": "shr5ch"}
    response = app.test_client().get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.data == b"shr5ch"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda q: q.update(signature="0" * 40),
        lambda q: q.update(nonce="43"),
        lambda q: q.pop("signature"),
    ],
)
def test_get_refuses_bad_signature(app: Flask, mutate: Callable[[dict[str, str]], Any]) -> None:
    query = {**signed_query("testtoken"), "echostr": "x"}
    mutate(query)
    assert app.test_client().get("/wechat", query_string=query).status_code == 403


def test_published_get_vector(make_app: Callable[..., Flask]) -> None:
    # Tencent sample values, as published in ilyydy/cf-openai src/platform/wechat/wechat.test.ts
    vector = vectors.MP_DECRYPT[0]
    app = make_app(wechat={"token": vector["token"], "timestamp_window": 10**10})
    query = {
        "signature": "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a",
        "timestamp": vector["timestamp"],
        "nonce": vector["nonce"],
        "echostr": "shr5ch",
    }
    response = app.test_client().get("/wechat", query_string=query)
    assert (response.status_code, response.data) == (200, b"shr5ch")


def test_stale_timestamp_refused(app: Flask) -> None:
    old = str(int(time.time()) - 301)
    query = {**signed_query("testtoken", timestamp=old), "echostr": "x"}
    assert app.test_client().get("/wechat", query_string=query).status_code == 403
    sim = simulator_for(app)
    reply = sim.send(sim.text("o1", "帮助"), timestamp=old)
    assert reply.status == 403
    assert journal_rows(app) == []


# -- plain mode ----------------------------------------------------------------------------------------


def test_text_no_feature_takes_becomes_a_case_and_is_journaled(app: Flask) -> None:
    sim = simulator_for(app)
    reply = sim.send(sim.text("resident-1", "随便说点什么"))
    assert reply.status == 200
    assert reply.fields is not None
    assert reply.fields["ToUserName"] == "resident-1"
    assert reply.fields["FromUserName"] == "gh_citybot"
    assert "您的留言已收到，编号 LY" in (reply.text or "")  # 有问必答
    [row] = journal_rows(app)
    assert row.status == Outcome.HANDLED
    assert row.sender == "resident-1"
    assert row.handler == "handlers.cases.fallback"
    assert row.msg_type == "text"
    assert "随便说点什么" in row.payload


def test_full_width_digits_and_spaces_are_normalised(app: Flask) -> None:
    sim = simulator_for(app)
    reply = sim.send(sim.text("r", "　帮助 "))
    assert "小助手" in (reply.text or "")
    assert journal_rows(app)[0].handler == "handlers.basics.help_text"


def test_subscribe_welcomes_and_unsubscribe_is_recorded(app: Flask) -> None:
    sim = simulator_for(app)
    welcome = sim.send(sim.event("fan", "subscribe"))
    assert "欢迎关注" in (welcome.text or "")
    bye = sim.send(sim.event("fan", "unsubscribe"))
    assert bye.is_success
    with session_scope(app) as session:
        resident = session.get(Resident, "fan")
        assert resident is not None
        assert resident.subscribed is False
        assert resident.subscribed_at is not None
        assert resident.unsubscribed_at is not None


def test_every_sample_message_gets_a_valid_answer(app: Flask) -> None:
    transport = client_transport(app)
    sim = simulator_for(app)
    plain = [p for p in sample_messages() if not p.name.startswith("encrypted_")]
    assert len(plain) >= 25
    for path in plain:
        xml = path.read_text(encoding="utf-8")
        timestamp, nonce = str(int(time.time())), "7"
        body, query = sim.envelope(xml, timestamp, nonce)
        status, raw = transport("/wechat?" + "&".join(f"{k}={v}" for k, v in query.items()), body)
        assert status == 200, path.name
        text = raw.decode()
        if text != "success":
            fields = parse_xml(text)
            assert fields["MsgType"] in ("text", "news", "image"), path.name
    # Several samples reuse FromUserName + MsgId (or CreateTime + Event): those are retries to us.
    keys = {parse_inbound(p.read_text(encoding="utf-8")).dedupe_key for p in plain}
    assert sorted(row.dedupe_key for row in journal_rows(app)) == sorted(keys)


def test_events_without_handler_get_success(app: Flask) -> None:
    sim = simulator_for(app)
    for event in ("VIEW", "TEMPLATESENDJOBFINISH", "SCAN"):
        assert sim.send(sim.event("o", event, "k")).is_success


def test_unknown_message_type_gets_success(app: Flask) -> None:
    sim = simulator_for(app)
    xml = build_xml(
        {
            "ToUserName": "gh",
            "FromUserName": "o",
            "CreateTime": int(time.time()),
            "MsgType": "hologram",
            "MsgId": 99,
        }
    )
    assert sim.send(xml).is_success


# -- bad input --------------------------------------------------------------------------------------------


def post_raw(app: Flask, body: bytes, query: dict[str, str] | None = None) -> tuple[int, bytes]:
    response = app.test_client().post("/wechat", query_string=query or signed_query("testtoken"), data=body)
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<xml><ToUserName>", 400),
        (b"not xml at all", 400),
        (b"<notxml><MsgType>text</MsgType></notxml>", 400),
        (b"<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime></xml>", 400),
        (b"<xml><MsgType>text</MsgType><CreateTime>1</CreateTime></xml>", 400),
        (b"<xml><MsgType>text</MsgType><FromUserName>o</FromUserName><CreateTime>x</CreateTime></xml>", 400),
        (
            b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b"<xml><MsgType>text</MsgType><Content>&b;</Content></xml>",
            400,
        ),
        (
            b'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Content>&xxe;</Content></xml>',
            400,
        ),
        (b"\xff\xfe<xml/>", 400),
    ],
)
def test_malformed_or_hostile_bodies(
    app: Flask, body: bytes, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    code, _ = post_raw(app, body)
    assert code == status
    assert journal_rows(app) == []
    refusals = [r for r in caplog.records if r.name == "citybot.webhook"]
    assert len(refusals) == 1
    assert refusals[0].exc_info is None


def test_bad_signature_on_post(app: Flask) -> None:
    sim = simulator_for(app)
    body = sim.text("o", "hi").encode()
    query = signed_query("testtoken")
    query["signature"] = "f" * 40
    assert post_raw(app, body, query)[0] == 403
    assert journal_rows(app) == []


def test_oversized_body(make_app: Callable[..., Flask]) -> None:
    app = make_app(wechat={"max_body_bytes": 2048})
    sim = simulator_for(app)
    assert sim.send(sim.text("o", "大" * 2000)).status == 413
    assert journal_rows(app) == []


# -- safe and compatible mode ---------------------------------------------------------------------------


@pytest.fixture
def safe_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(wechat={"encoding_aes_key": AES_KEY, "app_id": APP_ID})


def independent_decrypt(encoding_aes_key: str, encrypt: str) -> tuple[bytes, bytes]:
    """The published algorithm, written here from the spec rather than taken from the code under test:
    AES-256-CBC, key = b64decode(EncodingAESKey + "="), IV = key[:16], PKCS#7 to 32-byte blocks,
    plaintext = random(16) + len(4, big-endian) + message + app id."""
    key = base64.b64decode(encoding_aes_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + length], plain[20 + length :]


@pytest.mark.parametrize("mode", ["safe", "compat"])
def test_encrypted_round_trip(safe_app: Flask, mode: str) -> None:
    sim = simulator_for(safe_app, mode)
    reply = sim.send(sim.text("enc-user", "帮助"))
    assert reply.status == 200
    assert "小助手" in (reply.text or "")
    envelope = parse_xml(reply.body)
    assert envelope["MsgSignature"] == sign(
        "testtoken", envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    message, app_id = independent_decrypt(AES_KEY, envelope["Encrypt"])
    assert app_id == APP_ID.encode()
    fields = parse_xml(message)
    assert fields["ToUserName"] == "enc-user"
    assert "小助手" in fields["Content"]


def test_silence_is_not_encrypted(safe_app: Flask) -> None:
    sim = simulator_for(safe_app, "safe")
    reply = sim.send(sim.event("enc-user", "VIEW", "http://example.invalid/"))
    assert (reply.status, reply.body) == (200, "success")


@pytest.mark.parametrize("vector", vectors.MP_DECRYPT, ids=lambda v: v["source"].split()[0])
def test_published_mp_vectors_decrypt_and_route(
    make_app: Callable[..., Flask], vector: dict[str, str]
) -> None:
    app = make_app(
        wechat={
            "token": vector["token"],
            "encoding_aes_key": vector["aes_key"],
            "app_id": vector["app_id"],
            "timestamp_window": 10**10,
        }
    )
    body = build_xml({"ToUserName": "gh_x", "Encrypt": vector["encrypt"]}).encode()
    query = {
        "signature": sign(vector["token"], vector["timestamp"], vector["nonce"]),
        "timestamp": vector["timestamp"],
        "nonce": vector["nonce"],
        "encrypt_type": "aes",
        "msg_signature": vector["msg_signature"],
    }
    with at(datetime.fromtimestamp(int(vector["timestamp"]), UTC)):  # when the vector was recorded
        status, raw = post_raw(app, body, query)
    assert status == 200
    [row] = journal_rows(app)
    assert row.payload == vector["plaintext"]
    assert row.status == Outcome.HANDLED
    plain = parse_xml(vector["plaintext"])
    if plain["MsgType"] == "text":
        envelope = parse_xml(raw)
        message, _ = independent_decrypt(vector["aes_key"], envelope["Encrypt"])
        assert parse_xml(message)["ToUserName"] == plain["FromUserName"]
    else:  # godcong/wego text2 carries an empty MsgType: routed as an unknown type
        assert raw == b"success"


def test_non_conforming_ciphertext_refused(make_app: Callable[..., Flask]) -> None:
    vector = vectors.NON_CONFORMING
    app = make_app(wechat={"encoding_aes_key": vector["aes_key"], "app_id": vector["app_id"]})
    timestamp, nonce = str(int(time.time())), "1"
    query = {
        **signed_query("testtoken", timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": sign("testtoken", timestamp, nonce, vector["encrypt"]),
    }
    body = build_xml({"ToUserName": "gh", "Encrypt": vector["encrypt"]}).encode()
    assert post_raw(app, body, query)[0] == 400
    assert journal_rows(app) == []


def test_wrong_app_id_and_garbage_ciphertext(safe_app: Flask, make_app: Callable[..., Flask]) -> None:
    other = make_app(wechat={"encoding_aes_key": AES_KEY, "app_id": "wxSOMEONEELSE0000"})
    foreign = simulator_for(other, "safe")
    timestamp, nonce = str(int(time.time())), "5"
    body, query = foreign.envelope(foreign.text("o", "hi"), timestamp, nonce)
    assert post_raw(safe_app, body, query)[0] == 400
    garbage = base64.b64encode(b"x" * 48).decode()
    query = {
        **signed_query("testtoken", timestamp, nonce),
        "encrypt_type": "aes",
        "msg_signature": sign("testtoken", timestamp, nonce, garbage),
    }
    body = build_xml({"ToUserName": "gh", "Encrypt": garbage}).encode()
    assert post_raw(safe_app, body, query)[0] == 400
    query["msg_signature"] = "0" * 40
    assert post_raw(safe_app, body, query)[0] == 403
    assert journal_rows(safe_app) == []


def test_encrypted_only_refuses_plain(make_app: Callable[..., Flask]) -> None:
    app = make_app(wechat={"encoding_aes_key": AES_KEY, "app_id": APP_ID, "encrypted_only": True})
    sim = simulator_for(app, "plain")
    assert sim.send(sim.text("o", "hi")).status == 403
    assert simulator_for(app, "safe").send(sim.text("o", "hi")).status == 200


def test_reply_decrypts_with_deterministic_vector_algorithm() -> None:
    """Our encryption equals a published deterministic vector (wechatpy test_encrypt_message)."""
    from unittest import mock

    from bot.wechat.crypto import MessageCrypto

    vector = vectors.DETERMINISTIC
    crypto = MessageCrypto(vector["token"], vector["aes_key"], vector["app_id"])
    with mock.patch("wechatpy.crypto.base.BasePrpCrypto.get_random_string", return_value=vector["random"]):
        envelope = parse_xml(crypto.encrypt_reply(vector["plaintext"], vector["nonce"], vector["timestamp"]))
    assert envelope["Encrypt"] == vector["encrypt"]
    assert envelope["MsgSignature"] == vector["msg_signature"]


def test_sha1_helper_matches_published_signature() -> None:
    vector = vectors.MP_DECRYPT[0]
    expected = hashlib.sha1(
        "".join(sorted([vector["token"], vector["timestamp"], vector["nonce"], vector["encrypt"]])).encode()
    ).hexdigest()
    assert sign(vector["token"], vector["timestamp"], vector["nonce"], vector["encrypt"]) == expected
    assert expected == vector["msg_signature"]


# -- retries and the journal --------------------------------------------------------------------------


def test_retry_gets_cached_reply_without_second_run(app: Flask) -> None:
    sim = simulator_for(app)
    xml = sim.event("fan2", "subscribe")
    replies = [sim.send(xml) for _ in range(3)]
    assert len({r.text for r in replies}) == 1
    assert "欢迎关注" in (replies[0].text or "")
    [row] = journal_rows(app)
    assert row.attempts == 1


def test_store_loss_does_not_rerun(app: Flask) -> None:
    """The journal alone is the dedupe guard: a store that forgets everything changes nothing."""
    sim = simulator_for(app)
    xml = sim.text("forgetful", "帮助", msg_id=777)
    first = sim.send(xml)
    services.of(app).store = InProcessStore()  # a store that forgot everything
    second = sim.send(xml)
    assert second.text == first.text
    [row] = journal_rows(app)
    assert row.attempts == 1
    assert row.delivery == Delivery.PASSIVE


def test_text_reply_capped_at_2048_bytes(app: Flask) -> None:
    from bot.chat.replies import Text
    from bot.chat.routing import Dispatcher, Router

    router = Router("test")

    @router.text("long")
    def long_reply(msg: Any, ctx: Any) -> Text:
        return Text("第1行：" + "城管服务" * 300 + "\n" + "又一行" * 300)

    services.of(app).get(ChatServices).dispatcher = Dispatcher([router], long_reply)
    sim = simulator_for(app)
    reply = sim.send(sim.text("o", "long"))
    body = reply.text or ""
    assert len(body.encode("utf-8")) <= 2048
    assert body.endswith("（内容过长，已省略）")
    assert "\ufffd" not in body


def test_handler_failure_is_journaled_and_apologised(app: Flask) -> None:
    from bot.chat.replies import Text
    from bot.chat.routing import Dispatcher, Router

    router = Router("test")
    calls: list[str] = []

    @router.text("boom")
    def boom(msg: Any, ctx: Any) -> Text:
        calls.append(msg.openid)
        from bot.core import residents

        residents.subscribe(ctx.session, "should-roll-back")
        if len(calls) == 1:
            raise RuntimeError("first attempt breaks")
        return Text("修好了")

    services.of(app).get(ChatServices).dispatcher = Dispatcher([router], boom)
    sim = simulator_for(app)
    xml = sim.text("o-fail", "boom")
    reply = sim.send(xml)
    assert reply.status == 200
    assert "抱歉" in (reply.text or "")
    assert sim.send(xml).text == reply.text  # a WeChat retry gets the same apology
    [row] = journal_rows(app)
    assert row.status == Outcome.FAILED
    assert "first attempt breaks" in (row.error or "")
    with session_scope(app) as session:
        assert session.get(Resident, "should-roll-back") is None

    from bot.chat import recovery

    delivered: list[tuple[str, str]] = []
    results = recovery.retry_failed(app, deliver=lambda openid, r: delivered.append((openid, r.content)))
    assert results == [("msg:o-fail:" + str(parse_xml(xml)["MsgId"]), Outcome.HANDLED)]
    assert delivered == [("o-fail", "修好了")]
    [row] = journal_rows(app)
    assert row.status == Outcome.HANDLED
    assert row.attempts == 2
    with session_scope(app) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Resident).where(Resident.openid == "should-roll-back")
            )
            == 1
        )
    assert recovery.retry_failed(app, deliver=lambda openid, r: delivered.append(("again", ""))) == []


def test_concurrent_attempts_on_two_apps(make_app: Callable[..., Flask], backend: str) -> None:
    """Three simultaneous attempts of one message; on the services backend they reach two app
    instances sharing one Redis and one PostgreSQL (the embedded store serves one process only)."""
    import threading

    from bot.chat.replies import Text
    from bot.chat.routing import Dispatcher, Router

    first = make_app()
    second = first if backend == "embedded" else make_app()
    runs: list[int] = []
    lock = threading.Lock()
    router = Router("test")

    @router.text("slow")
    def slow(msg: Any, ctx: Any) -> Text:
        with lock:
            runs.append(1)
        time.sleep(0.5)
        return Text("只处理一次")

    for app in {first, second}:
        services.of(app).get(ChatServices).dispatcher = Dispatcher([router], slow)
    sims = [simulator_for(first), simulator_for(second), simulator_for(first)]
    xml = sims[0].text("concurrent", "slow", msg_id=4242)
    barrier = threading.Barrier(3)
    results: list[Any] = [None] * 3

    def attempt(i: int) -> None:
        barrier.wait()
        results[i] = sims[i].send(xml)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.text for r in results] == ["只处理一次"] * 3
    assert len(runs) == 1
    assert len(journal_rows(first)) == 1


def test_simulator_rejects_forged_reply_signature(safe_app: Flask) -> None:
    sim = simulator_for(safe_app, "safe")
    reply = sim.send(sim.text("o", "帮助"))
    forged = reply.body.replace(parse_xml(reply.body)["MsgSignature"], "0" * 40)
    with pytest.raises(ValueError, match="MsgSignature"):
        sim.read_reply(200, forged.encode())


def test_simulator_modes_validated() -> None:
    with pytest.raises(ValueError, match="mode"):
        WeChatSimulator(lambda p, b: (200, b""), token="t", mode="weird")
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeChatSimulator(lambda p, b: (200, b""), token="t", mode="safe")


def test_an_unreachable_store_does_not_stop_the_intake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    store = services.of(app).store

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("store unreachable")

    for name in ("get", "set", "add", "delete", "incr", "ttl"):
        monkeypatch.setattr(store, name, broken)
    sim = simulator_for(app)
    reply = sim.send(sim.text("o", "帮助"))
    assert reply.status == 200
    assert "回复" in (reply.text or "")
    [row] = journal_rows(app)
    assert (row.status, row.attempts) == (Outcome.HANDLED, 1)


def test_after_commit_callbacks_run_after_commit_and_failures_are_contained(app: Flask) -> None:
    from bot.chat.replies import Text
    from bot.chat.routing import Dispatcher, Router

    router = Router("test")
    seen: list[str] = []

    @router.text("go")
    def go(msg: Any, ctx: Any) -> Text:
        def check_committed() -> None:
            rows = journal_rows(app)
            seen.append(rows[0].status.value)

        def explode() -> None:
            raise RuntimeError("queue down")

        ctx.after_commit(explode)
        ctx.after_commit(check_committed)
        return Text("好")

    services.of(app).get(ChatServices).dispatcher = Dispatcher([router], go)
    sim = simulator_for(app)
    assert sim.send(sim.text("o", "go")).text == "好"
    assert seen == ["handled"]


def test_a_retry_much_later_is_still_not_handled_again(app: Flask) -> None:
    sim = simulator_for(app)
    xml = sim.text("late-retry", "帮助", msg_id=8080)
    first = sim.send(xml)
    with at(utcnow() + timedelta(days=3)):  # the journal keeps its keys: no lifetime to run out
        again = sim.send(xml)
    assert again.status == 200
    assert again.text == first.text
    [row] = journal_rows(app)
    assert row.attempts == 1

"""Inbound fields are held to WeChat's limits before anything is claimed or journaled, and what
passes fits the journal: long VIEW URLs are answered, oversized or malformed fields are a 400."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from flask import Flask

from bot.chat.journal import Outcome, key_hash
from bot.wechat import limits
from devtools.simulator import build_xml
from tests.bot.chat.test_webhook import AES_KEY, APP_ID, journal_rows, post_raw
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration


def menu_url(length: int) -> str:
    """An OAuth-style menu link of exactly ``length`` characters."""
    head = (
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0000000000000000"
        "&response_type=code&scope=snsapi_base&state=menu&redirect_uri=https%3A%2F%2Fcity.example%2Fpage%3Fq%3D"
    )
    return head + "x" * (length - len(head))


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_refused_once(caplog: pytest.LogCaptureFixture) -> None:
    [line] = refusals(caplog)
    assert line.name == "citybot.webhook"
    assert line.exc_info is None


@pytest.mark.parametrize("length", [1024, limits.EVENT_KEY])
def test_view_event_with_a_long_url_is_journaled_and_answered(app: Flask, length: int) -> None:
    sim = simulator_for(app)
    url = menu_url(length)
    created = int(time.time())
    xml = sim.event("oVIEW0000000000000000000000a", "VIEW", url, create_time=created)
    reply = sim.send(xml)
    assert reply.status == 200
    assert reply.is_success
    [row] = journal_rows(app)
    assert row.status == Outcome.HANDLED
    assert row.event == "view"
    assert row.dedupe_key.endswith(":view:" + url)
    assert row.dedupe_hash == key_hash(row.dedupe_key)
    # WeChat's retry is recognised by the long key; another URL at the same second is its own message.
    assert sim.send(xml).is_success
    other = sim.event("oVIEW0000000000000000000000a", "VIEW", url[:-1] + "y", create_time=created)
    assert sim.send(other).is_success
    assert [r.dedupe_key[-1] for r in journal_rows(app)] == ["x", "y"]


def _message(**fields: object) -> str:
    base: dict[str, object] = {
        "ToUserName": "gh_citybot",
        "FromUserName": "oBOUNDS000000000000000000000",
        "CreateTime": int(time.time()),
        "MsgType": "text",
        "Content": "你好",
        "MsgId": 7,
    }
    base.update(fields)
    return build_xml({k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(_message(FromUserName="o" * (limits.OPENID + 1)), id="openid-too-long"),
        pytest.param(_message(FromUserName="o]]><x>"), id="openid-breaks-cdata"),
        pytest.param(_message(FromUserName="o 1"), id="openid-with-space"),
        pytest.param(_message(ToUserName="gh_]]>"), id="account-breaks-cdata"),
        pytest.param(_message(ToUserName="g" * (limits.ACCOUNT + 1)), id="account-too-long"),
        pytest.param(_message(MsgType="t" * (limits.MSG_TYPE + 1)), id="msgtype-too-long"),
        pytest.param(
            _message(MsgType="event", Event="e" * (limits.EVENT + 1), MsgId=None, Content=None),
            id="event-too-long",
        ),
        pytest.param(
            _message(MsgType="event", Event="VIEW", EventKey=menu_url(limits.EVENT_KEY + 1), MsgId=None),
            id="eventkey-too-long",
        ),
        pytest.param(_message(Content="字" * (limits.CONTENT + 1)), id="content-too-long"),
        pytest.param(_message(MsgId="9" * (limits.DIGITS + 1)), id="msgid-too-long"),
        pytest.param(_message(MsgId=2**63), id="msgid-out-of-range"),
        pytest.param(_message(MsgType="image", PicUrl="h" * (limits.WECHAT_URL + 1)), id="picurl-too-long"),
        pytest.param(
            _message(
                MsgType="event",
                Event="PUBLISHJOBFINISH",
                MsgId=None,
                PublishEventInfo={"publish_id": 1, "article_id": "a" * (limits.ARTICLE_ID + 1)},
            ),
            id="article-id-too-long",
        ),
        pytest.param(_message(CreateTime=2**32), id="createtime-out-of-range"),
        pytest.param(_message(CreateTime=-1), id="createtime-negative"),
        pytest.param(_message(Extra={"Inner": "x" * (limits.OTHER + 1)}), id="nested-field-too-long"),
    ],
)
def test_fields_above_their_limits_are_refused(
    app: Flask, xml: str, caplog: pytest.LogCaptureFixture
) -> None:
    reply = simulator_for(app).send(xml)
    assert reply.status == 400
    assert journal_rows(app) == []
    assert_refused_once(caplog)


def test_fields_at_their_limits_are_accepted(app: Flask) -> None:
    sim = simulator_for(app)
    openid = "o" * limits.OPENID
    longest = _message(FromUserName=openid, ToUserName="g" * limits.ACCOUNT, Content="字" * limits.CONTENT)
    reply = sim.send(longest)
    assert reply.status == 200
    assert reply.fields is not None
    assert reply.fields["ToUserName"] == openid
    [row] = journal_rows(app)
    assert row.sender == openid
    event = _message(MsgType="event", Event="e" * limits.EVENT, MsgId=None, Content=None)
    assert sim.send(event).status == 200
    assert journal_rows(app)[-1].event == "e" * limits.EVENT


def deep(levels: int) -> bytes:
    return ("<xml>" + "<a>" * (levels - 1) + "x" + "</a>" * (levels - 1) + "</xml>").encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(deep(5000), id="5000-deep"),
        pytest.param(deep(limits.MAX_DEPTH + 1), id="just-too-deep"),
        pytest.param(
            ("<xml>" + "<a>x</a>" * limits.MAX_ELEMENTS + "</xml>").encode(), id="too-many-elements"
        ),
    ],
)
def test_deep_or_large_trees_are_refused_with_one_line(
    app: Flask, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    status, text = post_raw(app, body)
    assert status == 400
    assert b"Traceback" not in text
    assert journal_rows(app) == []
    assert_refused_once(caplog)


def test_deep_tree_inside_a_ciphertext_is_refused(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(wechat={"encoding_aes_key": AES_KEY, "app_id": APP_ID})
    sim = simulator_for(app, "safe")
    caplog.clear()  # building the app may warn (the in-process store)
    reply = sim.send(deep(5000).decode())
    assert reply.status == 400
    assert journal_rows(app) == []
    assert_refused_once(caplog)


def test_nesting_as_deep_as_wechat_is_accepted(app: Flask) -> None:
    sim = simulator_for(app)
    xml = sim.event(
        "oBOUNDS000000000000000000000",
        "PUBLISHJOBFINISH",
        PublishEventInfo={"publish_id": 1, "article_detail": {"count": 1, "item": {"idx": 1}}},
    )
    assert sim.send(xml).status == 200
    [row] = journal_rows(app)
    assert row.event == "publishjobfinish"

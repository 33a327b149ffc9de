"""The menu's 一键查找 buttons in the chat, through the webhook on both backends: one per facility
kind, answered as the kind's keyword is."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from flask import Flask

from bot.core.database import session_scope
from devtools.simulator import WeChatSimulator
from geodata.datums import Datum
from geodata.demo import centre, load_demo
from geodata.kinds import PoiKind
from menu.keys import nearby_key
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

RESIDENT = "o_resident"
_seconds = itertools.count(int(time.time()))


@pytest.fixture
def sim(make_app: Callable[..., Flask]) -> WeChatSimulator:
    app = make_app()
    with session_scope(app) as session:
        assert all(result.ok for result in load_demo(session))
    return simulator_for(app)


def click(sim: WeChatSimulator, key: str) -> str:
    # each click with its own CreateTime (two in one second would be one event retried)
    reply = sim.send(sim.event(RESIDENT, "CLICK", key, create_time=next(_seconds)))
    assert reply.status == 200
    return reply.text or ""


def say(sim: WeChatSimulator, text: str) -> str:
    reply = sim.send(sim.text(RESIDENT, text))
    assert reply.status == 200
    return reply.text or ""


@pytest.mark.parametrize("kind", list(PoiKind))
def test_public_service_buttons_reuse_nearby_search(sim: WeChatSimulator, kind: PoiKind) -> None:
    asked = click(sim, nearby_key(kind))
    assert f"最近的{kind.label}" in asked
    assert "发送您的位置" in asked
    here = centre().to(Datum.GCJ02)
    answered = sim.send(sim.location(RESIDENT, here.lat, here.lon, "市中心")).text or ""
    assert kind.label in answered
    assert "请先发送您的位置" not in answered
    # with the location remembered, the button answers at once, as the keyword does
    assert click(sim, nearby_key(kind)) == say(sim, kind.keyword)

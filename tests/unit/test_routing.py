"""Dispatch order, matching and conversation state."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.clock import utcnow
from bot.config import load_settings
from bot.conversation import Conversation
from bot.replies import Reply, Silence, Text
from bot.routing import Context, Dispatcher, Router
from bot.store import InProcessStore
from bot.texts import Texts
from bot.wechat.inbound import Inbound, normalise_text, parse_inbound
from bot.wechat.simulator import WeChatSimulator
from tests.conftest import SECRET_ENV

SIM = WeChatSimulator(lambda path, body: (200, b""), token="t")


def inbound(xml: str) -> Inbound:
    return parse_inbound(xml)


def make_ctx(state: str | None = None) -> Context:
    store = InProcessStore()
    conversation = Conversation(store, "o", timeout=60)
    if state:
        conversation.enter(state)
    return Context(
        session=None,
        store=store,
        settings=load_settings(None, environ=SECRET_ENV),  # type: ignore[arg-type]
        texts=Texts.load(),
        conversation=conversation,
        now=utcnow(),
    )


def named(name: str) -> Any:
    def handler(msg: Inbound, ctx: Context) -> Reply:
        return Text(name)

    handler.__name__ = name
    return handler


def build() -> Dispatcher:
    first, second = Router("first"), Router("second")
    first.text("1", "2")(named("digits"))
    first.text(pattern=r"^分类\s*(?P<item>.+)$")(named("sorting"))
    first.message("location", state="report.awaiting_location")(named("report_location"))
    first.message(state="report.awaiting_text")(named("report_any"))
    first.text("取消", interrupt=True)(named("cancel"))
    second.text("1")(named("shadowed"))
    second.message("location")(named("remember_location"))
    second.event("LOCATION")(named("location_event"))
    second.click("MENU_A")(named("menu_a"))
    second.event("subscribe", key="qrscene_1")(named("scene_1"))
    return Dispatcher([first, second], named("help"))


@pytest.mark.parametrize(
    ("xml", "state", "expected"),
    [
        (SIM.text("o", "1"), None, "digits"),  # first router wins over the second
        (SIM.text("o", "１"), None, "digits"),  # full-width digit
        (SIM.text("o", "  2 "), None, "digits"),
        (SIM.text("o", "12"), None, "help"),
        (SIM.text("o", "分类 电池"), None, "sorting"),
        (SIM.location("o", 31.3, 120.6), None, "remember_location"),
        (SIM.location("o", 31.3, 120.6), "report.awaiting_location", "report_location"),
        (SIM.text("o", "1"), "report.awaiting_text", "report_any"),  # state routes before stateless
        (SIM.text("o", "取消"), "report.awaiting_text", "cancel"),  # interrupts before state routes
        (SIM.click("o", "MENU_A"), "report.awaiting_text", "menu_a"),  # clicks interrupt too
        (SIM.click("o", "MENU_B"), None, "help"),
        (SIM.location_event("o", 31.3, 120.6), None, "location_event"),
        (SIM.event("o", "subscribe", "qrscene_1"), None, "scene_1"),
        (SIM.event("o", "subscribe", "qrscene_2"), None, "help"),
        (SIM.image("o", "http://p", "m"), "some.other.state", "help"),
    ],
)
def test_dispatch_order(xml: str, state: str | None, expected: str) -> None:
    route, _ = build().resolve(inbound(xml), state)
    assert route.handler(inbound(xml), make_ctx()) == Text(expected)


def test_pattern_match_reaches_handler() -> None:
    router = Router("r")
    seen: list[str] = []

    @router.text(pattern=r"^分类\s*(?P<item>.+)$")
    def sorting(msg: Inbound, ctx: Context) -> Reply:
        assert ctx.match is not None
        seen.append(ctx.match["item"])
        return Silence()

    ctx = make_ctx()
    name, reply = Dispatcher([router], named("help")).dispatch(inbound(SIM.text("o", "分类　废电池")), ctx)
    assert (name, reply, seen) == ("tests.unit.test_routing.sorting", Silence(), ["废电池"])


def test_registering_has_no_global_effect() -> None:
    router = Router("isolated")
    router.text("x")(named("x"))
    assert Dispatcher([], named("help")).resolve(inbound(SIM.text("o", "x")), None)[0].name.endswith("help")


def test_normalise_text() -> None:
    assert normalise_text("　ＡＢＣ１２３　") == "ABC123"


def test_conversation_is_saved_only_when_asked_and_times_out() -> None:
    store = InProcessStore()
    conversation = Conversation(store, "o", timeout=1)
    conversation.enter("report.awaiting_location", report_id=7)
    assert Conversation(store, "o", timeout=1).state is None  # not saved yet
    conversation.save()
    again = Conversation(store, "o", timeout=1)
    assert (again.state, again.data) == ("report.awaiting_location", {"report_id": 7})
    again.update(step=2)
    again.save()
    assert Conversation(store, "o", timeout=1).data == {"report_id": 7, "step": 2}
    time.sleep(1.2)
    assert Conversation(store, "o", timeout=1).state is None


def test_conversation_end_deletes() -> None:
    store = InProcessStore()
    conversation = Conversation(store, "o", timeout=60)
    conversation.enter("x")
    conversation.save()
    conversation.end()
    conversation.save()
    assert store.get("conv:o") is None

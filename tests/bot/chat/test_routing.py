"""Dispatch order, matching and conversation state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.app import load_settings, load_texts
from bot.chat.conversation import Conversation, ConversationRow
from bot.chat.replies import Reply, Silence, Text
from bot.chat.routing import Context, Dispatcher, Router
from bot.core.clock import utcnow
from bot.core.database import Base
from bot.core.store import InProcessStore
from bot.wechat.inbound import Inbound, normalise_text, parse_inbound
from devtools.simulator import WeChatSimulator
from tests.conftest import SECRET_ENV
from tests.support.clock import T0, at

pytestmark = pytest.mark.unit

SIM = WeChatSimulator(lambda path, body: (200, b""), token="t")


def inbound(xml: str) -> Inbound:
    return parse_inbound(xml)


def conversation_session() -> Session:
    """A session on a private in-memory database holding the conversations table."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[ConversationRow.__table__])  # type: ignore[list-item]
    return Session(engine)


def make_ctx(state: str | None = None) -> Context:
    store = InProcessStore()
    conversation = Conversation(conversation_session(), "o", timeout=60)
    if state:
        conversation.enter(state)
    return Context(
        session=None,
        store=store,
        settings=load_settings(None, environ=SECRET_ENV),  # type: ignore[arg-type]
        texts=load_texts(),
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
    assert (name, reply, seen) == ("tests.bot.chat.test_routing.sorting", Silence(), ["废电池"])


def test_a_route_with_a_condition_takes_a_message_only_while_it_holds() -> None:
    asked: set[str] = set()
    first, second = Router("first"), Router("second")
    first.text("1", when=lambda msg, ctx: msg.openid in asked)(named("rating"))
    second.text("1")(named("nearby"))
    dispatcher = Dispatcher([first, second], named("help"))
    message = inbound(SIM.text("o", "1"))
    assert dispatcher.dispatch(message, make_ctx())[1] == Text("nearby")
    asked.add("o")
    assert dispatcher.dispatch(message, make_ctx())[1] == Text("rating")
    # without a context the condition cannot be read: the route is passed over
    assert dispatcher.resolve(message, None)[0].name.endswith("nearby")


def test_registering_has_no_global_effect() -> None:
    router = Router("isolated")
    router.text("x")(named("x"))
    assert Dispatcher([], named("help")).resolve(inbound(SIM.text("o", "x")), None)[0].name.endswith("help")


def test_normalise_text() -> None:
    assert normalise_text("　ＡＢＣ１２３　") == "ABC123"


def test_conversation_is_saved_only_when_asked_and_times_out() -> None:
    session = conversation_session()
    with at(T0, tick=False):
        conversation = Conversation(session, "o", timeout=60)
        conversation.enter("report.awaiting_location", report_id=7)
        assert Conversation(session, "o", timeout=60).state is None  # not saved yet
        conversation.save()
        again = Conversation(session, "o", timeout=60)
        assert (again.state, again.data, again.started_at) == (
            "report.awaiting_location",
            {"report_id": 7},
            T0,
        )
        again.update(step=2)
        again.save()
        assert Conversation(session, "o", timeout=60).data == {"report_id": 7, "step": 2}
    with at(T0 + timedelta(seconds=59), tick=False):
        assert Conversation(session, "o", timeout=60).state == "report.awaiting_location"
    with at(T0 + timedelta(seconds=60), tick=False):
        assert Conversation(session, "o", timeout=60).state is None


def test_conversation_end_deletes_and_changes_roll_back_with_the_transaction() -> None:
    session = conversation_session()
    conversation = Conversation(session, "o", timeout=60)
    conversation.enter("x")
    conversation.save()
    session.commit()
    conversation.end()
    conversation.save()
    assert session.get(ConversationRow, "o") is None
    session.rollback()  # the handler failed: its conversation change goes with its other effects
    assert Conversation(session, "o", timeout=60).state == "x"

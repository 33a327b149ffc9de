"""Routers record routes; the Dispatcher picks exactly one handler per message.

Each handler module owns ``router = Router(__name__)``; the composition root hands the chat engine
the features' routers in the features list's order, which is the routing policy. Dispatch order:

1. interrupting routes (menu clicks, and routes declared ``interrupt=True`` such as 取消),
2. routes whose ``state`` is the resident's current conversation state,
3. stateless routes, in the features list's order,
4. the fallback (help).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.chat.conversation import Conversation
from bot.chat.replies import Reply
from bot.core import audit
from bot.core.config import Settings
from bot.core.store import Store
from bot.core.texts import Texts
from bot.wechat.inbound import Inbound, normalise_text

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("citybot.routing")


@dataclass
class Context:
    """What a handler may use. Handlers never commit and never touch flask.request."""

    session: Session
    store: Store
    settings: Settings
    texts: Texts
    conversation: Conversation
    now: datetime
    app: Flask | None = None
    match: re.Match[str] | None = None
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the unit of work has committed (e.g. enqueue a job)."""
        self._after_commit.append(callback)

    def run_after_commit(self) -> None:
        """Run the callbacks; a failing one is logged and does not stop the others (work is committed)."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback %r failed", callback)


Handler = Callable[[Inbound, Context], Reply]


def _lower_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


def _states(state: str | Sequence[str] | None) -> frozenset[str]:
    if state is None:
        return frozenset()
    return frozenset([state] if isinstance(state, str) else state)


@dataclass(frozen=True)
class Route:
    handler: Handler
    name: str
    msg_types: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    event_keys: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    pattern: re.Pattern[str] | None = None
    states: frozenset[str] = frozenset()
    interrupt: bool = False
    # Words that come from the settings (e.g. configurable keywords), read when a message arrives.
    words_from: Callable[[Settings], Iterable[str]] | None = None
    # A condition on the resident's data (e.g. a question waiting for its answer): the route takes a
    # message only when it holds; otherwise the routes after it are tried, as if it did not match.
    when: Callable[[Inbound, Context], bool] | None = None

    def match(self, msg: Inbound, settings: Settings | None = None) -> re.Match[str] | bool:
        """A truthy value when this route takes ``msg`` (the regex match for pattern routes)."""
        if self.msg_types and msg.msg_type not in self.msg_types:
            return False
        if self.events and (msg.event or "") not in self.events:
            return False
        if self.event_keys and (msg.event_key or "") not in self.event_keys:
            return False
        if self.words and (msg.content or "") not in self.words:
            return False
        if self.words_from is not None:
            if settings is None:
                return False
            if (msg.content or "") not in {normalise_text(w) for w in self.words_from(settings)}:
                return False
        if self.pattern is not None:
            return self.pattern.search(msg.content or "") or False
        return True


class Router:
    """Collects routes with decorators; registering on a router has no global effect."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []

    def _add(self, **spec: Any) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.routes.append(
                Route(handler=handler, name=f"{handler.__module__}.{handler.__name__}", **spec)
            )
            return handler

        return decorator

    def text(
        self,
        *words: str,
        pattern: str | None = None,
        state: str | Sequence[str] | None = None,
        interrupt: bool = False,
        words_from: Callable[[Settings], Iterable[str]] | None = None,
        when: Callable[[Inbound, Context], bool] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Text messages equal to one of ``words`` or matching ``pattern`` (after normalisation).

        ``words_from`` gives words that the settings decide (configurable keywords); ``when`` is a
        condition the message must also meet (it may read the database through the context).
        """
        return self._add(
            msg_types=frozenset({"text"}),
            words=frozenset(normalise_text(w) for w in words),
            pattern=re.compile(pattern) if pattern else None,
            states=_states(state),
            interrupt=interrupt,
            words_from=words_from,
            when=when,
        )

    def message(
        self, *msg_types: str, state: str | Sequence[str] | None = None
    ) -> Callable[[Handler], Handler]:
        """Messages of the given MsgTypes (any message when none are given)."""
        return self._add(msg_types=_lower_set(msg_types), states=_states(state))

    def event(
        self,
        *events: str,
        key: str | Sequence[str] | None = None,
        state: str | Sequence[str] | None = None,
        interrupt: bool = False,
    ) -> Callable[[Handler], Handler]:
        keys = frozenset() if key is None else frozenset([key] if isinstance(key, str) else key)
        return self._add(
            msg_types=frozenset({"event"}),
            events=_lower_set(events),
            event_keys=keys,
            states=_states(state),
            interrupt=interrupt,
        )

    def click(self, *keys: str) -> Callable[[Handler], Handler]:
        """Menu CLICK events by EventKey; they interrupt any conversation."""
        return self._add(
            msg_types=frozenset({"event"}),
            events=frozenset({"click"}),
            event_keys=frozenset(keys),
            interrupt=True,
        )


@dataclass(frozen=True)
class Dispatcher:
    routers: Sequence[Router]
    fallback: Handler

    def resolve(
        self, msg: Inbound, state: str | None, settings: Settings | None = None, ctx: Context | None = None
    ) -> tuple[Route, re.Match[str] | None]:
        """The route that takes ``msg``; a route with a ``when`` condition is skipped without ``ctx``."""
        routes = [route for router in self.routers for route in router.routes]
        tiers = (
            [r for r in routes if r.interrupt and (not r.states or state in r.states)],
            [r for r in routes if not r.interrupt and state is not None and state in r.states],
            [r for r in routes if not r.interrupt and not r.states],
        )
        for tier in tiers:
            for route in tier:
                found = route.match(msg, settings)
                if found and route.when is not None and (ctx is None or not route.when(msg, ctx)):
                    continue
                if found:
                    return route, found if isinstance(found, re.Match) else None
        return Route(handler=self.fallback, name=f"{self.fallback.__module__}.{self.fallback.__name__}"), None

    def dispatch(self, msg: Inbound, ctx: Context) -> tuple[str, Reply]:
        route, match = self.resolve(msg, ctx.conversation.state, ctx.settings, ctx)
        ctx.match = match
        with audit.through(audit.Channel.CHAT, actor="wechat"):  # a resident's turn or WeChat's event
            return route.name, route.handler(msg, ctx)

    def all_routes(self) -> list[Route]:
        return [route for router in self.routers for route in router.routes]

"""The chat engine's entry from the composition root: its routers, its endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask

from bot.chat import health, webhook
from bot.chat.routing import Dispatcher, Handler, Router
from bot.chat.services import ChatServices
from bot.core import services


def use_routers(app: Flask, routers: Sequence[Router], fallback: Handler) -> None:
    """The routers the features bring, in the features list's order, and the last resort."""
    services.of(app).put(ChatServices(dispatcher=Dispatcher(tuple(routers), fallback)))


def init_app(app: Flask) -> None:
    webhook.init_app(app)
    health.init_app(app)

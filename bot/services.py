"""Process-wide services built once per app: the store, the text catalogue, the dispatcher.

They live in ``app.extensions`` and are read through the accessors below, so nothing connects at
import time and tests can build as many isolated apps as they like.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from flask import Flask, current_app

from bot.config import Settings
from bot.store import InProcessStore, Store, make_store
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.wechat.api import WeChatAPI

log = logging.getLogger("citybot.services")

_api_lock = threading.Lock()


def init_app(app: Flask) -> None:
    settings: Settings = app.config["CITYBOT"]
    store = make_store(settings)
    if isinstance(store, InProcessStore):
        log.warning(
            "redis_url is empty: using the in-process store, which serves ONE process only; "
            "set redis_url before running several workers"
        )
    app.extensions["citybot.store"] = store
    app.extensions["citybot.texts"] = Texts.load(settings.texts.file or None)


def settings(app: Flask | None = None) -> Settings:
    return (app or current_app).config["CITYBOT"]


def store(app: Flask | None = None) -> Store:
    return (app or current_app).extensions["citybot.store"]


def texts(app: Flask | None = None) -> Texts:
    return (app or current_app).extensions["citybot.texts"]


def api(app: Flask | None = None) -> WeChatAPI:
    """The app's WeChat API client, built on first use (nothing connects at app creation)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client: WeChatAPI | None = app.extensions.get("citybot.wechat_api")
    if client is None:
        with _api_lock:
            client = app.extensions.get("citybot.wechat_api")
            if client is None:
                from bot.wechat.api import WeChatAPI

                client = WeChatAPI.from_settings(settings(app), store(app))
                app.extensions["citybot.wechat_api"] = client
    return client

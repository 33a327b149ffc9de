"""The app's WeChat API client, one part of the app's container, built on first use."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import Flask

from bot.core import services
from bot.wechat.api import WeChatAPI

_lock = threading.Lock()


@dataclass(eq=False)
class WeChatServices:
    # None until the first call needs it (nothing connects at app creation); a test assigns a fake.
    api: WeChatAPI | None = None


def init_app(app: Flask) -> None:
    services.of(app).put(WeChatServices())


def api(app: Flask | None = None) -> WeChatAPI:
    """The app's WeChat API client (the current app's when None)."""
    container = services.of(app)
    part = container.get(WeChatServices)
    client = part.api
    if client is None:
        with _lock:
            client = part.api
            if client is None:
                client = part.api = WeChatAPI.from_settings(container.settings, container.store)
    return client

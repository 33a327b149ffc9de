"""城管发布's services, one part of the app's container: ``services.of(app).get(BroadcastsServices)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from bot.core import services
from broadcasts.remote import BroadcastAPI


@dataclass(eq=False)
class BroadcastsServices:
    # the app's client, wired by the composition root
    wechat: Callable[[], BroadcastAPI]
    # another client for the feature's WeChat calls (tests); None uses ``wechat``
    api: BroadcastAPI | None = None


def init_app(app: Flask, wechat: Callable[[Flask], BroadcastAPI]) -> None:
    services.of(app).put(BroadcastsServices(wechat=lambda: wechat(app)))

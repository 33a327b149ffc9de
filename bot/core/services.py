"""Process-wide services built once per app: the store, the text catalogue, the dispatcher, ...

They live in one typed container, :class:`Services`, stored under the single key
``app.extensions["citybot"]`` and read through :func:`of` (or the accessors below), so nothing
connects at import time and tests can build as many isolated apps as they like. A test replaces a
service by assigning the attribute: ``services.of(app).dispatcher = Dispatcher(...)``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from bot.core.config import Settings
from bot.core.store import InProcessStore, Store, make_store
from bot.core.texts import Texts

if TYPE_CHECKING:
    import requests
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.chat.recovery import RecoveryLoop
    from bot.chat.routing import Dispatcher
    from bot.chat.spool import Spool
    from bot.core.feature import Sweeper
    from bot.core.httperrors import Renderer
    from bot.core.jobs import JobQueue
    from bot.wechat.api import WeChatAPI
    from bot.wechat.crypto import MessageCrypto
    from broadcasts.remote import BroadcastAPI
    from console.access import ConsoleServices
    from reports.services import ReportsServices

log = logging.getLogger("citybot.services")

KEY = "citybot"

_api_lock = threading.Lock()


@dataclass(eq=False)
class Services:
    """Every service of one app, one typed attribute each.

    The attributes without a default are set by their subsystem's ``init_app`` during
    ``create_app`` (reading one before that raises AttributeError); those defaulting to None are
    optional (``crypto``) or built on first use (``dispatcher``, ``spool``, ``wechat_api``, the
    recovery loop), never at app creation.
    """

    settings: Settings
    # bot.core.database
    engine: Engine = field(init=False)
    sessionmaker: sessionmaker[Session] = field(init=False)
    # bot.core.services
    store: Store = field(init=False)
    texts: Texts = field(init=False)
    # bot.core.jobs
    jobs: JobQueue = field(init=False)
    # the features' sweepers of due work (citybot jobs run-due)
    sweepers: list[Sweeper] = field(default_factory=list)
    # bot.chat.webhook: the safe-mode cipher, None in plain mode
    crypto: MessageCrypto | None = None
    # bot.chat.inbox, built on first use
    dispatcher: Dispatcher | None = None
    spool: Spool | None = None
    # bot.chat.recovery: started by the first webhook request; the loop stays None when disabled
    recovery_started: bool = False
    recovery: RecoveryLoop | None = None
    # services.api(), built on first use
    wechat_api: WeChatAPI | None = None
    # bot.core.httperrors: path prefix -> renderer
    error_renderers: dict[str, Renderer] = field(default_factory=dict)
    # feature-owned services
    reports: ReportsServices = field(init=False)
    console: ConsoleServices = field(init=False)
    # miniprogram_api: the HTTP session of its code2session calls
    miniprogram_http: requests.Session = field(init=False)
    # broadcasts: another client for its WeChat calls (tests); None uses the app's API client
    broadcasts_api: BroadcastAPI | None = None


def install(app: Flask, settings: Settings) -> Services:
    """Put an empty container on ``app`` (the first step of ``create_app``)."""
    container = Services(settings=settings)
    app.extensions[KEY] = container
    return container


def of(app: Flask | None = None) -> Services:
    """The services of ``app`` (the current app when None)."""
    target: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    container: Services = target.extensions[KEY]
    return container


def init_app(app: Flask) -> None:
    container = of(app)
    store = make_store(container.settings)
    if isinstance(store, InProcessStore):
        log.warning(
            "redis_url is empty: using the in-process store, which serves ONE process only; "
            "set redis_url before running several workers"
        )
    container.store = store
    container.texts = Texts.load(container.settings.texts.file or None)


def settings(app: Flask | None = None) -> Settings:
    return of(app).settings


def store(app: Flask | None = None) -> Store:
    return of(app).store


def texts(app: Flask | None = None) -> Texts:
    return of(app).texts


def api(app: Flask | None = None) -> WeChatAPI:
    """The app's WeChat API client, built on first use (nothing connects at app creation)."""
    container = of(app)
    client = container.wechat_api
    if client is None:
        with _api_lock:
            client = container.wechat_api
            if client is None:
                from bot.wechat.api import WeChatAPI

                client = WeChatAPI.from_settings(container.settings, container.store)
                container.wechat_api = client
    return client

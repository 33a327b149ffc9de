"""The app's services live in one typed container under one extension key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from bot.chat import inbox
from bot.chat.replies import Reply, Text
from bot.chat.routing import Context, Dispatcher
from bot.chat.services import ChatServices
from bot.core import services
from bot.core.store import InProcessStore
from bot.wechat.inbound import Inbound
from bot.wechat.service import WeChatServices
from bot.wechat.service import api as wechat_api
from reports.jobs import media_fetcher, sender_for
from reports.services import ReportsServices

pytestmark = pytest.mark.unit


def test_the_container_is_the_only_extension_key(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    ours = {key for key in app.extensions if key.startswith(("citybot", "reports"))}

    assert ours == {"citybot"}
    features = ("console", "miniprogram", "broadcasts", "open311", "staff", "waste", "geodata")
    assert not [key for key in app.extensions if key.startswith(features)]
    assert isinstance(app.extensions["citybot"], services.Services)
    assert services.of(app) is app.extensions["citybot"]


def test_of_reads_the_current_app(make_app: Callable[..., Flask]) -> None:
    app, other = make_app(), make_app()

    with app.app_context():
        assert services.of() is services.of(app)
        assert services.store() is services.of(app).store
        assert services.texts() is services.of(app).texts
        assert services.settings() is app.config["CITYBOT"]
    assert services.of(other) is not services.of(app)
    with pytest.raises(RuntimeError):
        services.of()  # outside an app context


def test_lazy_services_are_not_built_at_app_creation(make_app: Callable[..., Flask]) -> None:
    container = services.of(make_app())

    # The dispatcher is no connection: the composition root hands it the features' routers.
    assert container.get(ChatServices).dispatcher is not None
    assert container.get(ChatServices).spool is None
    assert container.get(WeChatServices).api is None
    assert container.get(ChatServices).recovery is None
    assert not container.get(ChatServices).recovery_started


def test_a_test_replaces_a_service_through_its_attribute(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    def fallback(msg: Inbound, ctx: Context) -> Reply:
        return Text("替换")

    replaced = Dispatcher([], fallback)
    store = InProcessStore()

    def fetch(media_id: str) -> tuple[bytes, str]:
        return b"", "image/jpeg"

    class Sender:
        def send_text(self, openid: str, content: str) -> None: ...

        def send_template(
            self, openid: str, template_id: str, data: object, url: str | None = None
        ) -> None: ...

    sender = Sender()
    container = services.of(app)
    container.store.close()  # the one the app built
    container.get(ChatServices).dispatcher = replaced
    container.store = store
    container.get(ReportsServices).fetch_media = fetch
    container.get(ReportsServices).sender = sender

    assert inbox.dispatcher(app) is replaced
    assert services.store(app) is store
    assert media_fetcher(app) is fetch
    assert sender_for(app) is sender
    assert container.get(WeChatServices).api is None  # the fakes stand in; no API client was built


def test_reports_fall_back_to_the_api_client(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    client = wechat_api(app)
    try:
        assert sender_for(app) is client
        assert services.of(app).get(WeChatServices).api is client
    finally:
        client.close()

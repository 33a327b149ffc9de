"""The app's WeChat API client: built on first use, shared afterwards, on both backends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from bot.core import services
from bot.wechat.service import WeChatServices
from bot.wechat.service import api as wechat_api
from devtools.fake_wechat import FakeWeChat

pytestmark = pytest.mark.contract


def test_api_is_built_lazily_and_cached(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> None:
    app = make_app(**fake_wechat.settings_overrides())
    assert services.of(app).get(WeChatServices).api is None  # nothing connects at app creation
    assert fake_wechat.calls() == []

    with app.app_context():
        client = wechat_api()
        assert wechat_api() is client
    assert wechat_api(app) is client
    assert fake_wechat.calls() == []  # built, still not connected

    client.send_text("openid-1", "您好")

    assert fake_wechat.sent_messages[0]["touser"] == "openid-1"
    assert len(fake_wechat.token_fetches) == 1


def test_apps_share_the_token_through_the_store(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, backend: str
) -> None:
    first = make_app(**fake_wechat.settings_overrides())
    second = make_app(**fake_wechat.settings_overrides())

    wechat_api(first).send_text("openid-1", "一")
    wechat_api(second).send_text("openid-2", "二")

    sends = fake_wechat.calls("message/custom/send")
    assert [c.errcode for c in sends] == [0, 0]
    assert sends[0].query["access_token"] == sends[1].query["access_token"]
    if backend == "services":  # one Redis: the second app finds the first app's token
        assert len(fake_wechat.token_fetches) == 1
    else:  # two in-process stores: each fetches, and stable_token hands both the same token
        assert len(fake_wechat.token_fetches) == 2

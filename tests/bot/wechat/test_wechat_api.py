"""WeChatAPI against the fake WeChat server: payloads, typed errors, media, menus, network failures."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from bot.app import load_settings
from bot.core.config import ConfigError
from bot.core.store import InProcessStore
from bot.wechat.api import WeChatAPI
from bot.wechat.errors import (
    CustomerServiceQuotaError,
    InvalidTokenError,
    MassSendQuotaError,
    OutsideServiceWindowError,
    RateLimitError,
    SystemBusyError,
    WeChatAPIError,
    WeChatUnavailableError,
)
from devtools.fake_wechat import FakeWeChat
from tests.conftest import SECRET_ENV

pytestmark = pytest.mark.unit

MakeAPI = Callable[..., WeChatAPI]


@pytest.fixture
def api(make_wechat_api: MakeAPI, fake_wechat: FakeWeChat) -> WeChatAPI:
    return make_wechat_api(InProcessStore(), fake_wechat)


def test_send_text_posts_a_customer_service_message(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    answer = api.send_text("openid-1", "您的上报已受理")

    assert answer["errcode"] == 0
    assert fake_wechat.sent_messages == [
        {"touser": "openid-1", "msgtype": "text", "text": {"content": "您的上报已受理"}}
    ]
    call = fake_wechat.calls("message/custom/send")[0]
    assert call.method == "POST"
    assert call.query["access_token"] == api.tokens.get()


def test_send_news_sends_one_article(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    api.send_news("openid-1", [{"title": "最近的公厕", "url": "https://example.org/t/1"}])

    assert fake_wechat.sent_messages[0]["news"] == {
        "articles": [
            {"title": "最近的公厕", "description": "", "url": "https://example.org/t/1", "picurl": ""}
        ]
    }
    article = {"title": "t", "url": "https://example.org"}
    with pytest.raises(ValueError, match="exactly one"):
        api.send_news("openid-1", [article, article])
    with pytest.raises(ValueError, match="exactly one"):
        api.send_news("openid-1", [])
    assert len(fake_wechat.sent_messages) == 1


def test_send_template_carries_link_and_mini_program(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    data = {"first": {"value": "上报已处理"}, "keyword1": {"value": "占道经营"}}
    answer = api.send_template(
        "openid-1",
        "TEMPLATE-1",
        data,
        url="https://example.org/r/7",
        miniprogram={"appid": "wxmini", "pagepath": "pages/report?id=7"},
    )

    assert isinstance(answer["msgid"], int)
    assert fake_wechat.sent_templates == [
        {
            "touser": "openid-1",
            "template_id": "TEMPLATE-1",
            "url": "https://example.org/r/7",
            "miniprogram": {"appid": "wxmini", "pagepath": "pages/report?id=7"},
            "data": data,
        }
    ]
    api.send_template("openid-2", "TEMPLATE-1", data)
    assert "url" not in fake_wechat.sent_templates[1]
    assert "miniprogram" not in fake_wechat.sent_templates[1]


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (45015, OutsideServiceWindowError),
        (45047, CustomerServiceQuotaError),
        (45028, MassSendQuotaError),
        (45009, RateLimitError),
        (-1, SystemBusyError),
    ],
)
def test_platform_errors_map_to_their_exceptions(
    api: WeChatAPI, fake_wechat: FakeWeChat, errcode: int, error: type[WeChatAPIError]
) -> None:
    fake_wechat.fail_next("message/custom/send", errcode)

    with pytest.raises(error) as caught:
        api.send_text("openid-1", "你好")

    assert caught.value.errcode == errcode
    assert caught.value.errmsg == fake_wechat.calls("message/custom/send")[0].answer["errmsg"]
    assert len(fake_wechat.calls("message/custom/send")) == 1  # none of these is retried


def test_other_errcodes_raise_the_base_error(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("", "no one")
    assert type(caught.value) is WeChatAPIError
    assert caught.value.errcode == 40003


def test_errors_form_one_family() -> None:
    for error in (
        InvalidTokenError,
        OutsideServiceWindowError,
        CustomerServiceQuotaError,
        MassSendQuotaError,
        WeChatUnavailableError,
    ):
        assert issubclass(error, WeChatAPIError)


def test_download_media_returns_bytes_and_content_type(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    photo = bytes(range(256)) * 40
    fake_wechat.add_media("MEDIA-1", photo, "image/jpeg")

    assert api.download_media("MEDIA-1") == (photo, "image/jpeg")


def test_download_media_json_error_with_http_200_raises(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        api.download_media("MEDIA-UNKNOWN")

    assert caught.value.errcode == 40007
    call = fake_wechat.calls("media/get")[0]
    assert call.status == 200
    assert call.query["media_id"] == "MEDIA-UNKNOWN"


def test_download_media_json_answer_comes_back_as_json(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    fake_wechat.add_media("VIDEO-1", b'{"video_url": "https://example.org/v.mp4"}', "text/plain")

    data, content_type = api.download_media("VIDEO-1")

    assert content_type == "application/json"
    assert json.loads(data) == {"video_url": "https://example.org/v.mp4"}


def test_menus(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    assert api.get_menu() is None  # 46003: no menu yet
    with pytest.raises(WeChatAPIError) as caught:
        api.create_conditional_menu({"button": [{"type": "click", "name": "员工", "key": "STAFF"}]})
    assert caught.value.errcode == 65303

    menu = {
        "button": [
            {"type": "click", "name": "找设施", "key": "NEARBY"},
            {"name": "服务", "sub_button": [{"type": "click", "name": "随手拍", "key": "REPORT"}]},
        ]
    }
    api.create_menu(menu)
    staff = {
        "button": [{"type": "click", "name": "待办", "key": "STAFF_QUEUE"}],
        "matchrule": {"tag_id": "101"},
    }
    menuid = api.create_conditional_menu(staff)

    stored = api.get_menu()
    assert stored is not None
    assert stored["menu"]["button"] == menu["button"]
    assert stored["conditionalmenu"] == [{**staff, "menuid": menuid}]

    api.delete_menu()
    assert api.get_menu() is None


def test_menu_limits_are_enforced_by_the_fake(api: WeChatAPI) -> None:
    four = {"button": [{"type": "click", "name": f"b{i}", "key": f"K{i}"} for i in range(4)]}
    with pytest.raises(WeChatAPIError) as caught:
        api.create_menu(four)
    assert caught.value.errcode == 40016

    long_name = {"button": [{"type": "click", "name": "城管便民服务中心入口", "key": "K"}]}  # 30 bytes
    with pytest.raises(WeChatAPIError) as caught:
        api.create_menu(long_name)
    assert caught.value.errcode == 40018


def test_generic_get_and_post_share_the_token_handling(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    fake_wechat.expire_tokens()
    fake_wechat.fail_next("menu/create", 42001)

    api.post("menu/create", {"button": [{"type": "click", "name": "附近", "key": "NEARBY"}]})

    assert api.get("menu/get")["menu"]["button"][0]["key"] == "NEARBY"
    assert [c.errcode for c in fake_wechat.calls("menu/create")] == [42001, 0]


def test_timeout_raises_unavailable_without_leaking_the_token(
    make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    api = make_wechat_api(InProcessStore(), fake_wechat, timeout=0.2)
    token = api.tokens.get()
    fake_wechat.latency("message/custom/send", 2)

    with pytest.raises(WeChatUnavailableError) as caught:
        api.send_text("openid-1", "你好")

    assert caught.value.errcode is None
    assert "Timeout" in str(caught.value)
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_slow_token_endpoint_raises_unavailable(make_wechat_api: MakeAPI, fake_wechat: FakeWeChat) -> None:
    api = make_wechat_api(InProcessStore(), fake_wechat, timeout=0.2)
    fake_wechat.latency("stable_token", 2)

    with pytest.raises(WeChatUnavailableError):
        api.send_text("openid-1", "你好")
    assert fake_wechat.calls("message/custom/send") == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_raises_unavailable_without_leaking_secrets(make_wechat_api: MakeAPI) -> None:
    fake = FakeWeChat(port=_free_port(), app_secret="s3cret-value")
    with fake:
        api = make_wechat_api(InProcessStore(), fake, endpoint="classic")
        token = api.tokens.get()
    # The server is gone: the cached token is still used, the connection fails.
    with pytest.raises(WeChatUnavailableError) as caught:
        api.send_text("openid-1", "你好")
    assert "ConnectionError" in str(caught.value)
    assert token not in str(caught.value)

    api.tokens.invalidate(token)
    with pytest.raises(WeChatUnavailableError) as caught:
        api.send_text("openid-1", "你好")
    assert "s3cret-value" not in str(caught.value)


def test_http_error_status_raises_unavailable(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    fake_wechat.fail_next("message/custom/send", -1, status=502)

    with pytest.raises(WeChatUnavailableError) as caught:
        api.send_text("openid-1", "你好")

    assert "502" in str(caught.value)


def test_wrong_secret_raises_the_platform_error(make_wechat_api: MakeAPI, fake_wechat: FakeWeChat) -> None:
    api = make_wechat_api(InProcessStore(), fake_wechat, app_secret="another-secret")

    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("openid-1", "你好")

    assert caught.value.errcode == 40125
    assert "another-secret" not in str(caught.value)
    assert fake_wechat.calls("message/custom/send") == []


def _settings(fake: FakeWeChat, **wechat: Any) -> Any:
    overrides = fake.settings_overrides()
    overrides["wechat"].update(wechat)
    return load_settings(None, overrides, environ=SECRET_ENV)


def test_from_settings_uses_the_configured_endpoint_and_timeout(fake_wechat: FakeWeChat) -> None:
    settings = _settings(fake_wechat, token_endpoint="classic", api_timeout=1.5, token_refresh_margin=60)
    api = WeChatAPI.from_settings(settings, InProcessStore())
    try:
        assert api.tokens.endpoint == "classic"
        assert api.tokens.refresh_margin == 60
        assert api.timeout == 1.5
        assert api.client.timeout == 1.5
        api.send_text("openid-1", "你好")
    finally:
        api.close()
    assert [c.endpoint for c in fake_wechat.token_fetches] == ["token"]


def test_from_settings_needs_credentials(fake_wechat: FakeWeChat) -> None:
    with pytest.raises(ConfigError, match="app_id"):
        WeChatAPI.from_settings(_settings(fake_wechat, app_secret=""), InProcessStore())


def test_token_endpoint_setting_is_validated() -> None:
    assert load_settings(None, environ=SECRET_ENV).wechat.token_endpoint == "stable"
    env = {**SECRET_ENV, "CITYBOT_WECHAT_TOKEN_ENDPOINT": "classic"}
    assert load_settings(None, environ=env).wechat.token_endpoint == "classic"
    with pytest.raises(ConfigError, match="token_endpoint"):
        load_settings(None, {"wechat": {"token_endpoint": "mine"}}, environ=SECRET_ENV)

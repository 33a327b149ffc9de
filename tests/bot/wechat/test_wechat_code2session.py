"""``sns/jscode2session``: the client method and the fake WeChat's endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.store import InProcessStore
from bot.wechat.api import WeChatAPI
from bot.wechat.errors import LoginCodeError, WeChatAPIError, WeChatUnavailableError
from devtools.fake_wechat import FakeWeChat

pytestmark = pytest.mark.unit

MINI = ("wxmini000000000001", "mini-secret")


def test_a_code_gives_the_openid_once(
    fake_wechat: FakeWeChat, make_wechat_api: Callable[..., WeChatAPI]
) -> None:
    fake_wechat.add_miniprogram(*MINI)
    api = make_wechat_api(InProcessStore(), fake_wechat)
    code = fake_wechat.login_code(MINI[0], "o-mini", unionid="u-1")
    session = api.code_to_session(MINI[0], MINI[1], code)
    assert (session.openid, session.unionid) == ("o-mini", "u-1")
    assert session.session_key
    assert session.session_key not in repr(session)
    with pytest.raises(LoginCodeError) as reused:
        api.code_to_session(MINI[0], MINI[1], code)
    assert reused.value.errcode == 40163
    with pytest.raises(LoginCodeError) as invented:
        api.code_to_session(MINI[0], MINI[1], "invented")
    assert invented.value.errcode == 40029
    # no access token is involved: the service account's token endpoints were never called
    assert fake_wechat.token_fetches == []


def test_wrong_credentials_and_an_unreachable_wechat(
    fake_wechat: FakeWeChat, make_wechat_api: Callable[..., WeChatAPI]
) -> None:
    fake_wechat.add_miniprogram(*MINI)
    api = make_wechat_api(InProcessStore(), fake_wechat)
    code = fake_wechat.login_code(MINI[0], "o-mini")
    with pytest.raises(WeChatAPIError) as wrong_secret:
        api.code_to_session(MINI[0], "not-the-secret", code)
    assert wrong_secret.value.errcode == 40125
    assert "not-the-secret" not in str(wrong_secret.value)
    with pytest.raises(WeChatAPIError) as unknown_app:
        api.code_to_session("wxunknown", MINI[1], code)
    assert unknown_app.value.errcode == 40013
    fake_wechat.fail_next("sns/jscode2session", -1, status=502)
    with pytest.raises(WeChatUnavailableError):
        api.code_to_session(MINI[0], MINI[1], code)
    fake_wechat.stop()
    with pytest.raises(WeChatUnavailableError):
        api.code_to_session(MINI[0], MINI[1], code)

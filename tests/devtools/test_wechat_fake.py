"""The fake WeChat server behaves like WeChat where citybot depends on it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devtools.fake_wechat import Fail, FakeWeChat, Incoming, endpoint

pytestmark = pytest.mark.unit


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def classic(fake: FakeWeChat, http: requests.Session, **params: str) -> dict[str, Any]:
    query = {"grant_type": "client_credential", "appid": fake.app_id, "secret": fake.app_secret, **params}
    return http.get(f"{fake.url}/cgi-bin/token", params=query, timeout=5).json()


def stable(fake: FakeWeChat, http: requests.Session, force: bool = False, **body: Any) -> dict[str, Any]:
    payload = {
        "grant_type": "client_credential",
        "appid": fake.app_id,
        "secret": fake.app_secret,
        "force_refresh": force,
        **body,
    }
    return http.post(f"{fake.url}/cgi-bin/stable_token", json=payload, timeout=5).json()


def send(fake: FakeWeChat, http: requests.Session, token: str | None) -> dict[str, Any]:
    params = {} if token is None else {"access_token": token}
    body = {"touser": "openid-1", "msgtype": "text", "text": {"content": "你好"}}
    return http.post(f"{fake.url}/cgi-bin/message/custom/send", params=params, json=body, timeout=5).json()


def test_classic_token_invalidates_the_previous_one(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    first = classic(fake_wechat, http)
    assert first["expires_in"] == 7200
    second = classic(fake_wechat, http)

    assert second["access_token"] != first["access_token"]
    assert send(fake_wechat, http, first["access_token"])["errcode"] == 40001
    assert send(fake_wechat, http, second["access_token"])["errcode"] == 0


def test_stable_token_is_stable_unless_forced(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    first = stable(fake_wechat, http)["access_token"]
    assert stable(fake_wechat, http)["access_token"] == first
    classic(fake_wechat, http)  # the two kinds of token do not disturb each other
    assert send(fake_wechat, http, first)["errcode"] == 0

    forced = stable(fake_wechat, http, force=True)["access_token"]

    assert forced != first
    assert send(fake_wechat, http, first)["errcode"] == 40001
    assert send(fake_wechat, http, forced)["errcode"] == 0


def test_stable_token_renews_near_expiry_and_tokens_expire(http: requests.Session) -> None:
    with FakeWeChat(expires_in=1, stable_renew_window=0.5) as fake:
        first = stable(fake, http)
        assert first["expires_in"] == 1
        time.sleep(0.6)
        second = stable(fake, http)["access_token"]
        assert second != first["access_token"]
        assert send(fake, http, first["access_token"])["errcode"] == 0  # old one lives until its expiry
        time.sleep(0.5)
        assert send(fake, http, first["access_token"])["errcode"] == 42001


def test_credentials_are_checked(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    assert classic(fake_wechat, http, secret="wrong")["errcode"] == 40125
    assert classic(fake_wechat, http, appid="wx-other")["errcode"] == 40013
    assert stable(fake_wechat, http, grant_type="password")["errcode"] == 40002
    assert http.get(f"{fake_wechat.url}/cgi-bin/stable_token", timeout=5).json()["errcode"] == 43002
    assert fake_wechat.token_fetches == []


def test_access_token_is_required(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    assert send(fake_wechat, http, None)["errcode"] == 41001
    assert send(fake_wechat, http, "made-up")["errcode"] == 40001
    assert fake_wechat.sent_messages == []


def test_expire_tokens_invalidates_everything(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    tokens = [classic(fake_wechat, http)["access_token"], stable(fake_wechat, http)["access_token"]]
    assert fake_wechat.valid_tokens() == set(tokens)

    fake_wechat.expire_tokens()

    assert fake_wechat.valid_tokens() == set()
    assert [send(fake_wechat, http, t)["errcode"] for t in tokens] == [40001, 40001]
    assert stable(fake_wechat, http)["access_token"] not in tokens


def test_fail_next_answers_the_fault_then_recovers(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    token = stable(fake_wechat, http)["access_token"]
    fake_wechat.fail_next("message/custom/send", 45047, times=2)

    answers = [send(fake_wechat, http, token)["errcode"] for _ in range(3)]

    assert answers == [45047, 45047, 0]
    assert [c.errcode for c in fake_wechat.calls("message/custom/send")] == answers
    assert len(fake_wechat.sent_messages) == 1


def test_calls_are_recorded(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    token = stable(fake_wechat, http)["access_token"]
    send(fake_wechat, http, token)

    call = fake_wechat.calls("message/custom/send")[0]
    assert call.method == "POST"
    assert call.query == {"access_token": token}
    assert call.body["text"] == {"content": "你好"}
    assert call.answer == {"errcode": 0, "errmsg": "ok"}
    assert [c.endpoint for c in fake_wechat.calls()] == ["stable_token", "message/custom/send"]
    assert fake_wechat.token_fetches[0].body["force_refresh"] is False


def test_media_is_served_with_its_content_type(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    token = stable(fake_wechat, http)["access_token"]
    fake_wechat.add_media("M1", b"\x89PNG...", "image/png")
    url = f"{fake_wechat.url}/cgi-bin/media/get"

    found = http.get(url, params={"access_token": token, "media_id": "M1"}, timeout=5)
    missing = http.get(url, params={"access_token": token, "media_id": "M2"}, timeout=5)

    assert found.content == b"\x89PNG..."
    assert found.headers["Content-Type"] == "image/png"
    assert missing.status_code == 200
    assert missing.json()["errcode"] == 40007


def test_unknown_endpoint_is_a_404(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    response = http.get(f"{fake_wechat.url}/cgi-bin/no/such/thing", timeout=5)
    assert response.status_code == 404


def test_latency_delays_the_answer(fake_wechat: FakeWeChat, http: requests.Session) -> None:
    token = stable(fake_wechat, http)["access_token"]
    fake_wechat.latency("message/custom/send", 0.5)
    with pytest.raises(requests.Timeout):
        http.post(
            f"{fake_wechat.url}/cgi-bin/message/custom/send",
            params={"access_token": token},
            json={},
            timeout=0.1,
        )
    fake_wechat.latency("message/custom/send", 0)
    assert send(fake_wechat, http, token)["errcode"] == 0


class _WithLogin(FakeWeChat):
    @endpoint("sns/jscode2session", methods=("GET",), auth=False, envelope=False)
    def _jscode2session(self, incoming: Incoming) -> dict[str, Any]:
        if incoming.query.get("js_code") != "good-code":
            raise Fail(40029, "invalid code")
        return {"openid": "mini-openid", "session_key": "key"}


def test_endpoints_are_added_by_declaring_a_method(http: requests.Session) -> None:
    with _WithLogin() as fake:
        url = f"{fake.url}/sns/jscode2session"
        good = http.get(url, params={"js_code": "good-code"}, timeout=5).json()
        bad = http.get(url, params={"js_code": "bad"}, timeout=5).json()

    assert good == {"openid": "mini-openid", "session_key": "key"}
    assert bad["errcode"] == 40029
    assert [c.errcode for c in fake.calls("sns/jscode2session")] == [0, 40029]


def test_url_needs_a_running_server() -> None:
    fake = FakeWeChat()
    with pytest.raises(RuntimeError):
        _ = fake.url
    with fake:
        assert fake.url.startswith("http://127.0.0.1:")

"""The access token has one owner per app id, on the in-process store and on real Redis.

Every test talks to the fake WeChat server on loopback. "Processes" are separate WeChatAPI clients,
each with its own HTTP session and, on Redis, its own RedisStore instance sharing the key prefix.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from wechatpy.exceptions import WeChatClientException

from bot.core.store import InProcessStore, RedisStore, Store
from bot.wechat.api import WeChatAPI
from bot.wechat.errors import InvalidTokenError, WeChatUnavailableError
from devtools.fake_wechat import FakeWeChat

pytestmark = pytest.mark.contract

MakeStore = Callable[[], Store]
MakeAPI = Callable[..., WeChatAPI]


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
def make_store(request: pytest.FixtureRequest) -> Iterator[MakeStore]:
    """A new handle on the same store: the shared dict in-process, a new connection on Redis."""
    if request.param == "inprocess":
        shared = InProcessStore()
        yield lambda: shared
        return
    url, prefix = request.getfixturevalue("redis_prefix_url")
    opened: list[RedisStore] = []

    def factory() -> Store:
        store = RedisStore.from_url(url, prefix)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.client.close()


def run_together(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Start ``count`` threads at the same instant; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def forced(fake: FakeWeChat) -> list[bool]:
    """force_refresh of each successful stable_token fetch, in order."""
    return [bool(c.body.get("force_refresh")) for c in fake.token_fetches if c.endpoint == "stable_token"]


@pytest.mark.parametrize("endpoint", ["stable", "classic"])
def test_clients_starting_together_fetch_the_token_once(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat, endpoint: str
) -> None:
    apis = [make_wechat_api(make_store(), fake_wechat, endpoint=endpoint) for _ in range(8)]
    fake_wechat.latency(
        "stable_token" if endpoint == "stable" else "token", 0.2
    )  # a slow fetch invites races

    errors = run_together(8, lambda i: apis[i].send_text(f"openid-{i}", f"消息 {i}"))

    assert errors == []
    assert len(fake_wechat.token_fetches) == 1
    sends = fake_wechat.calls("message/custom/send")
    assert [c.errcode for c in sends] == [0] * 8
    assert {c.query["access_token"] for c in sends} == {fake_wechat.token_fetches[0].answer["access_token"]}
    assert sorted(m["touser"] for m in fake_wechat.sent_messages) == [f"openid-{i}" for i in range(8)]


def test_second_get_uses_the_cache(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    first = make_wechat_api(make_store(), fake_wechat)
    second = make_wechat_api(make_store(), fake_wechat)
    token = first.tokens.get()
    assert second.tokens.get() == token
    assert first.tokens.get() == token
    assert len(fake_wechat.token_fetches) == 1


@pytest.mark.parametrize("endpoint", ["stable", "classic"])
def test_rotated_token_is_refreshed_once_and_the_call_retried_once(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat, endpoint: str
) -> None:
    api = make_wechat_api(make_store(), fake_wechat, endpoint=endpoint)
    api.send_text("openid-1", "第一条")
    old = api.tokens.get()
    fake_wechat.expire_tokens()  # another system rotated the token

    api.send_text("openid-1", "第二条")

    sends = fake_wechat.calls("message/custom/send")
    assert [c.errcode for c in sends] == [0, 40001, 0]
    assert sends[1].query["access_token"] == old
    new = sends[2].query["access_token"]
    assert new != old
    assert new in fake_wechat.valid_tokens()
    assert len(fake_wechat.token_fetches) == 2
    assert api.tokens.get() == new


def test_rejected_token_handed_back_by_stable_token_is_force_refreshed(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    api = make_wechat_api(make_store(), fake_wechat)
    old = api.tokens.get()
    fake_wechat.fail_next("message/custom/send", 40001)  # WeChat rejects a token it still hands out

    api.send_text("openid-1", "你好")

    assert forced(fake_wechat) == [False, False, True]
    sends = fake_wechat.calls("message/custom/send")
    assert [c.errcode for c in sends] == [40001, 0]
    assert sends[1].query["access_token"] not in {old, ""}
    assert old not in fake_wechat.valid_tokens()


@pytest.mark.parametrize("errcode", [40001, 42001, 40014])
@pytest.mark.parametrize("endpoint", ["stable", "classic"])
def test_second_consecutive_token_error_raises_instead_of_looping(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat, endpoint: str, errcode: int
) -> None:
    api = make_wechat_api(make_store(), fake_wechat, endpoint=endpoint)
    fake_wechat.fail_next("message/custom/send", errcode, times=5)

    with pytest.raises(InvalidTokenError) as caught:
        api.send_text("openid-1", "你好")

    assert caught.value.errcode == errcode
    assert len(fake_wechat.calls("message/custom/send")) == 2
    expected_fetches = 3 if endpoint == "stable" else 2  # stable: normal, normal again, forced
    assert len(fake_wechat.token_fetches) == expected_fetches


def test_invalidate_keeps_a_token_another_process_already_replaced(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    a = make_wechat_api(make_store(), fake_wechat).tokens
    b = make_wechat_api(make_store(), fake_wechat).tokens
    stale = a.get()
    fake_wechat.expire_tokens()
    fresh = b.renew(stale)  # process B saw the 40001 first
    assert fresh != stale

    assert a.invalidate(stale) is False  # process A, late, must not throw the fresh token away
    assert a.get() == fresh
    assert a.renew(stale) == fresh  # and A's own retry reuses it without a fetch
    assert len(fake_wechat.token_fetches) == 2

    assert a.invalidate(fresh) is True
    assert a.cached() is None
    assert b.cached() is None


def test_many_processes_renewing_the_same_rejected_token_fetch_once(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    managers = [make_wechat_api(make_store(), fake_wechat).tokens for _ in range(8)]
    stale = managers[0].get()
    fake_wechat.expire_tokens()
    fake_wechat.latency("stable_token", 0.1)
    got: list[str] = []

    errors = run_together(8, lambda i: got.append(managers[i].renew(stale)))

    assert errors == []
    assert len(set(got)) == 1
    assert got[0] != stale
    assert len(fake_wechat.token_fetches) == 2


@pytest.mark.parametrize("endpoint", ["stable", "classic"])
def test_token_is_refreshed_ahead_of_expiry(
    make_store: MakeStore, make_wechat_api: MakeAPI, endpoint: str
) -> None:
    with FakeWeChat(expires_in=2, stable_renew_window=1) as fake:
        store = make_store()
        tokens = make_wechat_api(store, fake, endpoint=endpoint, margin=1).tokens
        first = tokens.get()
        cached = tokens.cached()
        assert cached is not None
        assert cached.refresh_at < cached.expires_at
        ttl = store.ttl(tokens.key)
        assert ttl is not None
        assert 0 < ttl <= 2
        assert tokens.get() == first
        assert len(fake.token_fetches) == 1

        time.sleep(max(0.0, cached.refresh_at - time.time()) + 0.1)
        assert first in fake.valid_tokens() or endpoint == "classic"
        second = tokens.get()

        assert second != first
        assert len(fake.token_fetches) == 2
        assert second in fake.valid_tokens()
        if endpoint == "stable":
            assert first in fake.valid_tokens()  # WeChat keeps the old stable token alive meanwhile


def test_failed_refresh_ahead_of_expiry_keeps_the_cached_token(
    make_store: MakeStore, make_wechat_api: MakeAPI
) -> None:
    with FakeWeChat(expires_in=2, stable_renew_window=1) as fake:
        tokens = make_wechat_api(make_store(), fake, margin=1).tokens
        first = tokens.get()
        cached = tokens.cached()
        assert cached is not None
        time.sleep(max(0.0, cached.refresh_at - time.time()) + 0.1)
        fake.fail_next("stable_token", -1)

        assert tokens.get() == first  # still alive: served while the refresh failed
        second = tokens.get()  # the next call refreshes

        assert second != first
        assert [c.errcode for c in fake.calls("stable_token")] == [0, -1, 0]


def test_due_token_is_served_while_another_process_refreshes(
    make_store: MakeStore, make_wechat_api: MakeAPI
) -> None:
    with FakeWeChat(expires_in=2, stable_renew_window=1) as fake:
        store = make_store()
        tokens = make_wechat_api(store, fake, margin=1).tokens
        first = tokens.get()
        cached = tokens.cached()
        assert cached is not None
        time.sleep(max(0.0, cached.refresh_at - time.time()) + 0.1)
        with make_store().lock(tokens.lock_name, ttl=5, wait=0):  # the other process's refresh
            assert tokens.get() == first
        assert len(fake.token_fetches) == 1


def test_lock_of_a_crashed_refresher_expires(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    tokens = make_wechat_api(make_store(), fake_wechat).tokens
    abandoned = make_store().lock(tokens.lock_name, ttl=0.3, wait=0)
    abandoned.__enter__()  # never released: its holder died

    token = tokens.get()

    assert token in fake_wechat.valid_tokens()
    assert len(fake_wechat.token_fetches) == 1


def test_refresh_held_up_elsewhere_without_a_token_raises_unavailable(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    api = make_wechat_api(make_store(), fake_wechat, timeout=0.2)
    with make_store().lock(api.tokens.lock_name, ttl=30, wait=0):  # another process, stuck
        with pytest.raises(WeChatUnavailableError, match="timed out waiting"):
            api.send_text("openid-1", "你好")
        with pytest.raises(WeChatUnavailableError, match="timed out waiting"):
            api.tokens.renew("rejected-token")
    assert fake_wechat.calls() == []


def test_malformed_cache_entry_is_replaced(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    store = make_store()
    tokens = make_wechat_api(store, fake_wechat).tokens
    store.set(tokens.key, "not json", ttl=60)

    token = tokens.get()

    assert token in fake_wechat.valid_tokens()
    assert store.get_json(tokens.key)["token"] == token


def test_wechatpy_never_fetches_or_retries_on_its_own(
    make_store: MakeStore, make_wechat_api: MakeAPI, fake_wechat: FakeWeChat
) -> None:
    api = make_wechat_api(make_store(), fake_wechat)
    assert api.client.auto_retry is False
    with pytest.raises(RuntimeError):
        api.client.fetch_access_token()
    fake_wechat.fail_next("message/custom/send", 40001, times=10)

    # Calling wechatpy's wrapper directly still goes through the one bounded retry.
    with pytest.raises(WeChatClientException) as caught:
        api.client.message.send_text("openid-1", "你好")

    assert caught.value.errcode == 40001
    assert len(fake_wechat.calls("message/custom/send")) == 2
    assert fake_wechat.calls("token") == []  # wechatpy's own /cgi-bin/token fetch never ran
    assert len(fake_wechat.token_fetches) == 3

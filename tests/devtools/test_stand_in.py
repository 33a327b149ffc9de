"""The WeChat stand-in does what the demo needs of WeChat: it keeps the photos a resident sends and
serves them, mints mini-program login codes, records the messages sent to each resident, and posts
job-finished events to citybot's webhook, signed (and encrypted) like WeChat."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.store import InProcessStore
from bot.wechat.api import WeChatAPI
from bot.wechat.service import api as wechat_api
from broadcasts import publishing
from broadcasts.models import Cover, Draft, Publication, PublicationKind, PublicationStatus
from devtools import photos
from devtools.fake_wechat import FakeWeChat, Webhook, miniprogram
from devtools.fake_wechat.client import StandIn, StandInError
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import add_staff, approved_draft, lexicon, png
from tests.support.live import serve
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def stand_in(fake_wechat: FakeWeChat) -> StandIn:
    return StandIn(fake_wechat.url)


def test_a_photo_sent_like_a_phone_is_served_and_downloadable(
    fake_wechat: FakeWeChat, stand_in: StandIn, make_wechat_api: Callable[..., WeChatAPI]
) -> None:
    photo = photos.demo_photo(3)
    assert photos.content_type_of(photo) == "image/jpeg"
    media_id, pic_url = stand_in.upload(photo, "image/jpeg")
    assert pic_url == fake_wechat.pic_url(media_id)
    served = requests.get(pic_url, timeout=5)
    assert (served.status_code, served.headers["Content-Type"], served.content) == (200, "image/jpeg", photo)
    # citybot fetches it as it fetches any resident's photo: media/get with its access token
    data, content_type = make_wechat_api(InProcessStore(), fake_wechat).download_media(media_id)
    assert (data, content_type) == (photo, "image/jpeg")
    assert fake_wechat.calls("devtools/upload") == []  # the stand-in's own routes are not WeChat calls
    missing = requests.get(fake_wechat.pic_url("MEDIA_NONE"), timeout=5).json()
    assert missing["errcode"] == 40007


def test_demo_photos_differ_and_carry_their_time() -> None:
    first, second = photos.demo_photo(1), photos.demo_photo(2)
    assert first != second
    assert b"Exif" in first[:200]
    assert photos.content_type_of(png()) == "image/png"
    assert photos.content_type_of(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert photos.content_type_of(b"%PDF-1.7") == "application/octet-stream"


def test_login_codes_work_once_and_expire(
    fake_wechat: FakeWeChat, stand_in: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_wechat.add_miniprogram("wxmini0001", "mini-secret")

    def exchange(code: str) -> dict[str, Any]:
        query = {"appid": "wxmini0001", "secret": "mini-secret", "js_code": code}
        return requests.get(
            f"{fake_wechat.url}/sns/jscode2session",
            params={**query, "grant_type": "authorization_code"},
            timeout=5,
        ).json()

    code = stand_in.login_code("wxmini0001", "mini-user-1")
    answer = exchange(code)
    assert answer["openid"] == "mini-user-1"
    assert answer["session_key"]
    assert exchange(code)["errcode"] == 40163  # used
    with pytest.raises(StandInError, match="40013"):
        stand_in.login_code("wxunknown", "mini-user-1")
    monkeypatch.setattr(miniprogram, "LOGIN_CODE_TTL", -1.0)
    assert exchange(stand_in.login_code("wxmini0001", "mini-user-1"))["errcode"] == 40029  # expired


def test_messages_to_a_resident_are_listed_in_order(
    fake_wechat: FakeWeChat, stand_in: StandIn, make_wechat_api: Callable[..., WeChatAPI]
) -> None:
    api = make_wechat_api(InProcessStore(), fake_wechat)
    assert stand_in.messages("resident-a") == ([], 0)
    api.send_text("resident-a", "您的举报已采纳")
    api.send_text("resident-b", "别人的消息")
    api.send_template("resident-a", "TEMPLATE_1", {"first": {"value": "举报进度"}})
    messages, last = stand_in.messages("resident-a")
    assert last == 3
    assert [(m["seq"], m["kind"]) for m in messages] == [(1, "custom"), (3, "template")]
    assert messages[0]["body"]["text"]["content"] == "您的举报已采纳"
    assert stand_in.messages("resident-a", after=1)[0][0]["body"]["template_id"] == "TEMPLATE_1"
    assert stand_in.messages("resident-a", after=3) == ([], 3)
    fake_wechat.fail_next("message/custom/send", 45015)
    with pytest.raises(Exception, match="45015"):
        api.send_text("resident-a", "窗口已关闭")
    assert stand_in.messages("resident-a", after=3) == ([], 3)  # a refused message is not delivered


@pytest.fixture
def newsroom(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """An app served over HTTP, with the stand-in posting its events to the app's webhook."""
    safe = getattr(request, "param", False)
    extra = {"encoding_aes_key": AES_KEY} if safe else {}
    app = make_app(wechat={**fake_wechat.settings_overrides()["wechat"], "token": "testtoken", **extra})
    with serve(app) as base_url:
        fake_wechat.webhook = Webhook(
            f"{base_url}/wechat", "testtoken", extra.get("encoding_aes_key", ""), fake_wechat.app_id
        )
        fake_wechat.event_delay = 0.2
        yield app


def _publish(app: Flask, title: str, kind: PublicationKind) -> int:
    with session_scope(app) as session:
        draft = approved_draft(session, utcnow(), title=title)
        draft.cover = Cover(content_type="image/png", data=png(), sha256="x")
        chief = staff_models.by_username(session, "publisher") or add_staff(
            session, "publisher", Role.CHIEF_EDITOR
        )
        publication = publishing.publish(
            session,
            wechat_api(app),
            draft,
            chief,
            settings=services.settings(app).broadcasts,
            lexicon=lexicon(),
            now=utcnow(),
            kind=kind,
        )
        assert publication.status is PublicationStatus.SENDING
        session.flush()
        return publication.id


@pytest.mark.parametrize("newsroom", [False, True], ids=["plain", "safe"], indirect=True)
def test_sends_are_finished_by_the_job_finished_event(newsroom: Flask, fake_wechat: FakeWeChat) -> None:
    mass = _publish(newsroom, "夏季西瓜摊点开放", PublicationKind.MASS)
    (delivery,) = fake_wechat.wait_for_deliveries(1)
    assert (delivery.event, delivery.delivered, delivery.attempts) == ("MASSSENDJOBFINISH", True, 1)
    page = _publish(newsroom, "垃圾分类新规", PublicationKind.PUBLISH)
    deliveries = fake_wechat.wait_for_deliveries(2)
    assert [d.event for d in deliveries] == ["MASSSENDJOBFINISH", "PUBLISHJOBFINISH"]
    assert all(d.delivered for d in deliveries)
    with session_scope(newsroom) as session:
        sent, published = session.get(Publication, mass), session.get(Publication, page)
        assert sent is not None
        assert published is not None
        assert (sent.status, sent.sent_count, sent.error_count) == (PublicationStatus.SENT, 1, 0)
        assert published.status is PublicationStatus.SENT
        assert published.article_id == f"ARTICLE_{published.publish_id}"
        titles = {p.draft.title for p in publishing.latest(session, 5)}
        assert titles == {"夏季西瓜摊点开放", "垃圾分类新规"}  # both are 最新发布 now
        article = requests.get(str(sent.article_url), timeout=5)
        draft_title = session.get(Draft, sent.draft_id).title  # type: ignore[union-attr]
    assert article.status_code == 200
    assert f"<h1>{draft_title}</h1>" in article.text
    assert "<strong>文明购买</strong>" in article.text


def test_an_unanswered_event_is_tried_three_times(fake_wechat: FakeWeChat) -> None:
    closed = free_port()  # a loopback port nothing listens on
    fake_wechat.webhook = Webhook(f"http://127.0.0.1:{closed}/wechat", "testtoken")
    fake_wechat.send_event("MASSSENDJOBFINISH", {"MsgID": 1, "Status": "send success"}, delay=0)
    (delivery,) = fake_wechat.wait_for_deliveries(1, timeout=15)
    assert (delivery.delivered, delivery.status, delivery.attempts) == (False, None, 3)


def test_without_a_webhook_nothing_is_posted(fake_wechat: FakeWeChat) -> None:
    fake_wechat.send_event("MASSSENDJOBFINISH", {"MsgID": 1}, delay=0)
    assert fake_wechat.wait_for_deliveries(1, timeout=0.3) == []

"""WeChatAPI's material, draft, mass-send, publish, tag and conditional-menu calls against the fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.store import InProcessStore
from bot.wechat.api import WeChatAPI
from bot.wechat.errors import MassSendQuotaError, WeChatAPIError
from devtools.fake_wechat import FakeWeChat
from tests.support.broadcasts import png

pytestmark = pytest.mark.unit

MakeAPI = Callable[..., WeChatAPI]


@pytest.fixture
def api(make_wechat_api: MakeAPI, fake_wechat: FakeWeChat) -> WeChatAPI:
    return make_wechat_api(InProcessStore(), fake_wechat)


def _article(thumb: str) -> dict[str, str]:
    return {"title": "标题", "author": "城管", "content": "<p>正文</p>", "thumb_media_id": thumb}


def test_cover_upload_draft_and_mass_send(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    media_id, url = api.upload_image_material(png(), "cover.png", "image/png")
    assert fake_wechat.materials[media_id] == (png(), "image/png")
    assert url == fake_wechat.pic_url(media_id)  # the stand-in serves its materials, as WeChat's CDN
    (upload,) = fake_wechat.calls("material/add_material")
    assert upload.query["type"] == "image"
    assert upload.body["files"]["media"] == ("cover.png", len(png()), "image/png")

    draft = api.add_draft([_article(media_id)])
    assert fake_wechat.drafts[draft][0]["title"] == "标题"
    sent = api.mass_send_all(draft, tag_id=None, clientmsgid="d1-v1", send_ignore_reprint=False)
    assert sent["msg_id"] in fake_wechat.mass_messages
    (body,) = fake_wechat.mass_sends
    assert body == {
        "filter": {"is_to_all": True},
        "mpnews": {"media_id": draft},
        "msgtype": "mpnews",
        "send_ignore_reprint": 0,
        "clientmsgid": "d1-v1",
    }

    with pytest.raises(WeChatAPIError) as repeated:
        api.mass_send_all(draft, tag_id=None, clientmsgid="d1-v1", send_ignore_reprint=False)
    assert repeated.value.errcode == 45065
    assert repeated.value.answer["msg_id"] == sent["msg_id"]  # the earlier send stands
    assert len(fake_wechat.mass_sends) == 1

    api.delete_mass(sent["msg_id"])
    assert fake_wechat.deleted_mass == [{"msg_id": sent["msg_id"], "article_idx": 0}]


def test_mass_send_quota_and_unknown_draft(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    media_id, _ = api.upload_image_material(png(), "c.png", "image/png")
    draft = api.add_draft([_article(media_id)])
    fake_wechat.mass_quota = 0
    with pytest.raises(MassSendQuotaError):
        api.mass_send_all(draft, tag_id=None, clientmsgid="x", send_ignore_reprint=True)
    with pytest.raises(WeChatAPIError) as missing:
        api.add_draft([_article("NO_SUCH_MATERIAL")])
    assert missing.value.errcode == 40007


def test_publish_without_notification_and_delete(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    media_id, _ = api.upload_image_material(png(), "c.png", "image/png")
    draft = api.add_draft([_article(media_id)])
    publish_id = api.submit_publish(draft)
    assert fake_wechat.publishes[publish_id] == draft
    api.delete_publish("ARTICLE_9")
    assert fake_wechat.deleted_articles == ["ARTICLE_9"]


def test_tags_and_conditional_menus(api: WeChatAPI, fake_wechat: FakeWeChat) -> None:
    tag_id = api.create_tag("城管工作人员")
    with pytest.raises(WeChatAPIError) as exists:
        api.create_tag("城管工作人员")
    assert exists.value.errcode == 45157
    api.tag_users(tag_id, ["o1", "o2"])
    assert api.list_tags() == [{"id": tag_id, "name": "城管工作人员", "count": 2}]
    with pytest.raises(WeChatAPIError) as unknown:
        api.tag_users(999, ["o1"])
    assert unknown.value.errcode == 45159

    button = {"button": [{"type": "click", "name": "发布", "key": "LATEST_BROADCASTS"}]}
    api.create_menu(button)
    menu_id = api.create_conditional_menu({**button, "matchrule": {"tag_id": str(tag_id)}})
    assert [m["menuid"] for m in fake_wechat.conditional_menus] == [menu_id]
    api.delete_conditional_menu(menu_id)
    assert fake_wechat.conditional_menus == []
    with pytest.raises(WeChatAPIError):
        api.delete_conditional_menu(menu_id)

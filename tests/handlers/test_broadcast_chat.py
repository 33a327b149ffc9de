"""城管发布 in the chat, through the webhook on both backends: drafting, cancel and resume, screening,
non-staff kept out, 我的草稿 / 待审稿件, 最新发布, reviewers told by customer-service message."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.clock import utcnow
from bot.core.database import session_scope
from broadcasts import review
from broadcasts.models import Draft, DraftStatus, Grade, Publication, PublicationKind, PublicationStatus
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import WeChatSimulator
from menu.keys import MenuKey
from staff import models as staff_models
from staff.roles import Role
from tests.support.broadcasts import add_staff, approved_draft, png
from tests.support.reports import drain
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

AUTHOR = "o_staff_author"
REVIEWER = "o_staff_reviewer"
RESIDENT = "o_resident"


@pytest.fixture
def wx_app(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Flask:
    app = make_app(**fake_wechat.settings_overrides())
    with session_scope(app) as session:
        add_staff(session, "li.author", Role.EDITOR, openid=AUTHOR)
        add_staff(session, "zhang.review", Role.EDITOR, openid=REVIEWER)
        add_staff(session, "wang.noread", Role.REVIEWER, openid="o_staff_reports_only")
    return app


@pytest.fixture
def sim(wx_app: Flask) -> WeChatSimulator:
    return simulator_for(wx_app)


def say(sim: WeChatSimulator, openid: str, text: str) -> str:
    reply = sim.send(sim.text(openid, text))
    assert reply.status == 200
    return reply.text or ""


_seconds = itertools.count(int(time.time()))


def click_xml(sim: WeChatSimulator, openid: str, key: str) -> str:
    """A CLICK event; each with its own CreateTime (two in one second would be one event retried)."""
    return sim.event(openid, "CLICK", key, create_time=next(_seconds))


def click(sim: WeChatSimulator, openid: str, key: str) -> str | None:
    reply = sim.send(click_xml(sim, openid, key))
    assert reply.status == 200
    return reply.text


def write_draft(sim: WeChatSimulator, title: str, paragraph: str) -> str:
    """The author writes a one-paragraph draft of grade 一般, without a cover; the preview."""
    click(sim, AUTHOR, MenuKey.DRAFT_NEW)
    say(sim, AUTHOR, title)
    say(sim, AUTHOR, paragraph)
    say(sim, AUTHOR, "完成")
    say(sim, AUTHOR, "跳过")
    return say(sim, AUTHOR, "1")


def drafts_of(app: Flask) -> list[Draft]:
    with session_scope(app) as session:
        return list(session.scalars(select(Draft).order_by(Draft.id)))


def test_drafting_from_the_chat(wx_app: Flask, sim: WeChatSimulator, fake_wechat: FakeWeChat) -> None:
    start = click(sim, AUTHOR, MenuKey.DRAFT_NEW) or ""
    assert "请发送标题" in start
    assert "请发送正文" in say(sim, AUTHOR, "  夏季西瓜摊点开放  ")
    assert "已记录第1段（正文共11字）" in say(sim, AUTHOR, "西瓜摊点6月1日开放。")
    assert "已记录第2段" in say(sim, AUTHOR, "请**文明购买**。")
    assert "如需封面" in say(sim, AUTHOR, "完成")
    fake_wechat.add_media("MEDIA_COVER_1", png(5, 5), "image/png")
    photo = sim.send(sim.image(AUTHOR, "http://mmbiz.qpic.cn/cover/0", "MEDIA_COVER_1")).text or ""
    assert "封面已保存" in photo
    assert "请选择稿件等级" in photo
    assert "请回复 1、2 或 3" in say(sim, AUTHOR, "4")
    preview = say(sim, AUTHOR, "2")
    assert "标题：夏季西瓜摊点开放（8/32字）" in preview
    assert "等级：重要" in preview
    assert "封面：有" in preview
    assert "正文：2段，17字" in preview
    assert "请文明购买" in preview
    assert "请回复“提交”" in say(sim, AUTHOR, "随便说点什么")

    submitted = say(sim, AUTHOR, "提交")
    assert "已提交初审" in submitted
    drain(wx_app)  # jobs: the cover download, the reviewers' notice
    (draft,) = drafts_of(wx_app)
    assert (draft.title, draft.status, draft.version, draft.grade) == (
        "夏季西瓜摊点开放",
        DraftStatus.FIRST_REVIEW,
        1,
        Grade.IMPORTANT,
    )
    assert draft.body == "西瓜摊点6月1日开放。\n\n请**文明购买**。"
    assert (draft.cover_media_id, draft.cover_pic_url) == ("MEDIA_COVER_1", "http://mmbiz.qpic.cn/cover/0")
    with session_scope(wx_app) as session:
        stored = session.get(Draft, draft.id)
        assert stored is not None
        assert stored.cover is not None
        assert (stored.cover.data, stored.cover.content_type) == (png(5, 5), "image/png")
    # the other editor is told in the chat; the author is not
    assert [m["touser"] for m in fake_wechat.sent_messages] == [REVIEWER]
    assert "夏季西瓜摊点开放" in fake_wechat.sent_messages[0]["text"]["content"]
    # the conversation is over: a text now is an ordinary message
    assert "城管服务号小助手" in say(sim, AUTHOR, "完成")


def test_cancel_keeps_the_draft_and_continue_resumes_it(wx_app: Flask, sim: WeChatSimulator) -> None:
    click(sim, AUTHOR, MenuKey.DRAFT_NEW)
    assert say(sim, AUTHOR, "取消") == "已取消。"
    assert drafts_of(wx_app) == []  # nothing was written yet
    assert "没有可继续的草稿" in say(sim, AUTHOR, "继续")

    click(sim, AUTHOR, MenuKey.DRAFT_NEW)
    say(sim, AUTHOR, "占道经营整治通知")
    say(sim, AUTHOR, "第一段。")
    assert say(sim, AUTHOR, "取消") == "已取消。"
    assert "城管服务号小助手" in say(sim, AUTHOR, "第二段。")  # not appended: the conversation ended
    (draft,) = drafts_of(wx_app)
    assert (draft.status, draft.body) == (DraftStatus.DRAFTING, "第一段。")

    resumed = say(sim, AUTHOR, "继续")
    assert "继续写《占道经营整治通知》：正文已有1段" in resumed
    assert "已记录第2段" in say(sim, AUTHOR, "第二段。")
    assert "如需封面" in say(sim, AUTHOR, "完成")
    assert "请选择稿件等级" in say(sim, AUTHOR, "跳过")
    assert "封面：无" in say(sim, AUTHOR, "1")
    assert say(sim, AUTHOR, "取消") == "已取消。"

    # a complete draft resumes at its preview; a new draft mentions the unfinished one
    assert "【预览】" in say(sim, AUTHOR, "继续")
    assert "未完成的草稿《占道经营整治通知》" in (click(sim, AUTHOR, MenuKey.DRAFT_NEW) or "")
    say(sim, AUTHOR, "取消")
    mine = click(sim, AUTHOR, MenuKey.DRAFT_MINE) or ""
    assert f"{draft.id}《占道经营整治通知》草稿" in mine
    assert "回复“继续”接着写《占道经营整治通知》" in mine
    say(sim, AUTHOR, "继续")
    assert "已提交初审" in say(sim, AUTHOR, "提交")
    assert drafts_of(wx_app)[0].body == "第一段。\n\n第二段。"


def test_forbidden_content_blocks_with_spans_then_fixed(wx_app: Flask, sim: WeChatSimulator) -> None:
    write_draft(sim, "便民通知", "市民可在此代 开-发 票。")
    blocked = say(sim, AUTHOR, "提交")
    assert "不能提交" in blocked
    assert "·「代 开-发 票」正文第6至12字（违法违规信息）" in blocked
    assert drafts_of(wx_app)[0].status is DraftStatus.DRAFTING

    assert "请发送正文" in say(sim, AUTHOR, "正文")
    say(sim, AUTHOR, "市民可到服务大厅咨询。")
    assert "【预览】" in say(sim, AUTHOR, "完成")  # grade already chosen: back to the preview
    assert "请发送新的标题" in say(sim, AUTHOR, "标题")
    assert "【预览】" in say(sim, AUTHOR, "便民服务通知")
    submitted = say(sim, AUTHOR, "提交")
    assert "已提交初审" in submitted
    (draft,) = drafts_of(wx_app)
    assert (draft.title, draft.body) == ("便民服务通知", "市民可到服务大厅咨询。")


def test_sensitive_content_is_submitted_with_a_warning(wx_app: Flask, sim: WeChatSimulator) -> None:
    write_draft(sim, "情况说明", "关于网传强拆一事。")
    assert "稿件含敏感表述（强拆）" in say(sim, AUTHOR, "提交")


@pytest.mark.parametrize("openid", [RESIDENT, "o_staff_reports_only"])
def test_non_staff_never_reach_the_drafting_routes(wx_app: Flask, sim: WeChatSimulator, openid: str) -> None:
    for key in (MenuKey.DRAFT_NEW, MenuKey.DRAFT_MINE, MenuKey.DRAFT_QUEUE):
        reply = sim.send(click_xml(sim, openid, key))
        assert reply.is_success  # the silence any unknown click gets
    help_text = say(sim, openid, "帮助")
    assert say(sim, openid, "继续") == help_text
    assert say(sim, openid, "提交") == help_text
    assert drafts_of(wx_app) == []


def test_a_disabled_account_loses_the_conversation(wx_app: Flask, sim: WeChatSimulator) -> None:
    click(sim, AUTHOR, MenuKey.DRAFT_NEW)
    say(sim, AUTHOR, "标题一")
    with session_scope(wx_app) as session:
        staff_models.set_active(session, "li.author", False)
    assert "城管服务号小助手" in say(sim, AUTHOR, "正文内容")
    assert drafts_of(wx_app)[0].body == ""
    assert sim.send(click_xml(sim, AUTHOR, MenuKey.DRAFT_NEW)).is_success


def test_returned_draft_resumes_with_the_comment(
    wx_app: Flask, sim: WeChatSimulator, fake_wechat: FakeWeChat
) -> None:
    write_draft(sim, "停车管理通知", "正文。")
    say(sim, AUTHOR, "提交")
    queue = click(sim, REVIEWER, MenuKey.DRAFT_QUEUE) or ""
    assert "停车管理通知》一般，待初审" in queue
    assert "没有等待您审核" in (click(sim, AUTHOR, MenuKey.DRAFT_QUEUE) or "")

    with session_scope(wx_app) as session:
        draft = session.scalars(select(Draft)).one()
        reviewer = staff_models.require(session, "zhang.review")
        review.return_to_author(session, draft, reviewer, comment="请写明时间", now=utcnow())
    drain(wx_app)
    told = [m["text"]["content"] for m in fake_wechat.sent_messages if m["touser"] == AUTHOR]
    assert len(told) == 1
    assert "被退回修改：请写明时间" in told[0]
    resumed = say(sim, AUTHOR, "继续")
    assert "被退回修改，意见：请写明时间" in resumed
    assert "【预览】" in resumed
    say(sim, AUTHOR, "正文")
    say(sim, AUTHOR, "即日起实施。")
    say(sim, AUTHOR, "完成")
    assert "已提交初审" in say(sim, AUTHOR, "提交")
    (draft,) = drafts_of(wx_app)
    assert (draft.status, draft.version) == (DraftStatus.FIRST_REVIEW, 2)


def test_latest_broadcasts(wx_app: Flask, sim: WeChatSimulator) -> None:
    assert click(sim, RESIDENT, MenuKey.LATEST_BROADCASTS) == "暂无最新发布，敬请关注。"
    with session_scope(wx_app) as session:
        first = approved_draft(session, utcnow(), title="第一篇")
        _published(session, first, "https://mp.weixin.qq.com/s/one")
    one = sim.send(click_xml(sim, RESIDENT, MenuKey.LATEST_BROADCASTS))
    assert one.fields is not None
    assert one.fields["MsgType"] == "news"
    assert one.fields["Articles"]["item"]["Title"] == "第一篇"
    assert one.fields["Articles"]["item"]["Url"] == "https://mp.weixin.qq.com/s/one"
    with session_scope(wx_app) as session:
        second = approved_draft(session, utcnow(), title="第二篇<通知>")
        _published(session, second, "https://mp.weixin.qq.com/s/two?a=1&b=2")
    several = click(sim, RESIDENT, MenuKey.LATEST_BROADCASTS) or ""
    assert several.splitlines() == [
        "城管发布 · 最新：",
        '· <a href="https://mp.weixin.qq.com/s/two?a=1&amp;b=2">第二篇&lt;通知&gt;</a>',
        '· <a href="https://mp.weixin.qq.com/s/one">第一篇</a>',
    ]


def _published(session, draft: Draft, url: str) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Publication(
            draft_id=draft.id,
            version=draft.version,
            kind=PublicationKind.MASS,
            status=PublicationStatus.SENT,
            clientmsgid=f"c{draft.id}",
            created_by_id=draft.created_by_id,
            accepted_at=utcnow(),
            article_url=url,
        )
    )
    draft.status = DraftStatus.PUBLISHED


def test_a_refusal_in_the_chat_is_worded_from_the_catalogue(sim: WeChatSimulator) -> None:
    click(sim, AUTHOR, MenuKey.DRAFT_NEW)
    refused = say(sim, AUTHOR, "标" * 200)
    assert refused.startswith("标题不能超过")
    assert refused.endswith("字，请重新发送。")

"""文明随手拍 through the real webhook, against the fake WeChat API (media downloads, messages)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from bot.chat.conversation import Conversation
from bot.core.clock import utcnow
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import WeChatSimulator, build_xml
from handlers.reports import MENU_KEY, close_idle_draft
from reports import workflow
from reports.jobs import storage_for
from reports.models import Photo, PhotoStatus, Report, ReportStatus, audit_of
from reports.roles import staff_actor
from staff.roles import Role
from tests.support import images
from tests.support.reports import drain, unit
from tests.support.wechat import close_apps, simulator_for

pytestmark = pytest.mark.integration

OPENID = "oResidentChat000000000001"
GPS = (30.2614, 120.1431)  # where the camera was, WGS-84
WEST_LAKE_GCJ = (30.2590, 120.1480)
REVIEWER = staff_actor("rev-a", Role.REVIEWER)


@dataclass
class Chat:
    app: Flask
    sim: WeChatSimulator
    fake: FakeWeChat

    def say(self, xml: str) -> str:
        reply = self.sim.send(xml)
        assert reply.status == 200
        drain(self.app)
        return reply.text or ""

    def photo(self, media_id: str, seed: int = 1) -> str:
        self.fake.add_media(media_id, images.jpeg(seed, gps=GPS))
        return self.say(self.sim.image(OPENID, f"http://mmbiz.qpic.cn/{media_id}", media_id))

    def location(self, label: str = "北山街") -> str:
        return self.say(self.sim.location(OPENID, *WEST_LAKE_GCJ, label))

    def text(self, content: str) -> str:
        return self.say(self.sim.text(OPENID, content))

    def state(self) -> str | None:
        with unit(self.app) as session:
            return Conversation(session, OPENID, timeout=1800).state

    def reports(self) -> list[Report]:
        with unit(self.app) as session:
            found = list(session.scalars(select(Report).order_by(Report.id)))
            for report in found:
                _ = report.photos, report.category
            session.expunge_all()
            return found


@pytest.fixture
def make_chat(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[Callable[..., Chat]]:
    built: list[Flask] = []

    def factory(**reports: object) -> Chat:
        app = make_app(**fake_wechat.settings_overrides(), reports={"template_id": "TPL-STATUS", **reports})
        built.append(app)
        return Chat(app, simulator_for(app), fake_wechat)

    yield factory
    close_apps(built)


@pytest.fixture
def chat(make_chat: Callable[..., Chat]) -> Chat:
    return make_chat()


def test_photo_location_category_done(chat: Chat) -> None:
    first = chat.photo("MEDIA-1")
    assert "已收到照片（1/3）" in first
    assert "选择“位置”" in first
    assert chat.state() == "report.awaiting_location"
    second = chat.location()
    assert "已记录位置：北山街" in second
    assert "1 占道经营" in second
    assert "6 其他" in second
    third = chat.text("2")
    assert "问题类型：乱堆乱放" in third
    assert "不需要描述请回复“跳过”" in third
    summary = chat.text("跳过")
    assert "请核对您的举报" in summary
    assert "照片：1 张" in summary
    assert "位置：北山街" in summary
    assert "问题类型：乱堆乱放" in summary
    assert "描述：（未填写）" in summary
    assert chat.reports() == []  # nothing is submitted before the confirmation
    assert chat.state() == "report.awaiting_confirmation"
    done = chat.text("1")
    [report] = chat.reports()
    assert f"编号 {report.number}" in done
    assert chat.state() is None
    assert report.category.code == "clutter"
    assert report.status == ReportStatus.SUBMITTED
    assert (report.given_datum, report.given_lat, report.given_lon) == ("gcj02", *WEST_LAKE_GCJ)
    assert report.address == "北山街"
    assert report.description == ""
    with unit(chat.app) as session:
        [submitted] = audit_of(session, report.id)
        assert (submitted.actor, submitted.channel, submitted.to_status) == ("resident", "chat", "submitted")
    [photo] = report.photos
    assert photo.status == PhotoStatus.STORED
    assert photo.media_id == "MEDIA-1"
    assert photo.exif_lat == pytest.approx(GPS[0], abs=1e-5)
    assert photo.exif_lon == pytest.approx(GPS[1], abs=1e-5)
    assert photo.derivative_key is not None
    derivative = storage_for(chat.app).get(photo.derivative_key, public=True)
    assert len(Image.open(io.BytesIO(derivative)).getexif()) == 0
    assert b"TestCam" not in derivative


def test_menu_first_then_location_photo_category_by_name_and_description(chat: Chat) -> None:
    opened = chat.say(chat.sim.click(OPENID, MENU_KEY))
    assert "请拍摄并发送现场照片" in opened
    located = chat.location()
    assert "已记录位置：北山街" in located
    assert "请拍摄并发送现场照片" in located  # still no photo
    assert "1 占道经营" in chat.photo("MEDIA-A")  # location known: the category is next
    assert "问题类型：占道经营" in chat.text("占道经营")
    summary = chat.text("早高峰在人行道上摆摊")
    assert "描述：早高峰在人行道上摆摊" in summary
    assert chat.reports() == []
    assert "举报已提交" in chat.text("确认")
    [report] = chat.reports()
    assert report.description == "早高峰在人行道上摆摊"
    assert report.category.code == "street_vending"


def test_a_second_photo_at_the_description_step_and_the_summary_counts_it(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    chat.location()
    assert "回复“跳过”" in chat.text("3")
    again = chat.photo("MEDIA-2", seed=2)
    assert "已收到照片（2/3）" in again
    assert "请用一句话描述问题" in again  # still the description step
    assert "照片：2 张" in chat.text("完成")
    assert "举报已提交" in chat.text("提交")
    [report] = chat.reports()
    assert report.category.code == "illegal_ads"
    assert [p.media_id for p in report.photos] == ["MEDIA-1", "MEDIA-2"]


def test_at_most_three_photos(chat: Chat) -> None:
    for i in range(3):
        chat.photo(f"MEDIA-{i}", seed=i)
    assert "最多 3 张照片，这张未计入" in chat.photo("MEDIA-9", seed=9)
    chat.location()
    chat.text("1")
    chat.text("跳过")
    chat.text("1")
    [report] = chat.reports()
    assert len(report.photos) == 3


def test_cancel_leaves_nothing(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    assert chat.text("取消") == "已取消。"
    assert chat.state() is None
    after = chat.location()
    assert "已记录位置" not in after
    assert chat.reports() == []


def test_a_retried_message_creates_nothing_twice(chat: Chat) -> None:
    chat.fake.add_media("MEDIA-1", images.jpeg(1))
    image = chat.sim.image(OPENID, "http://mmbiz.qpic.cn/1", "MEDIA-1")
    assert chat.say(image) == chat.say(image)  # WeChat's retry gets the same answer
    chat.location()
    chat.text("1")
    chat.text("跳过")
    done_xml = chat.sim.text(OPENID, "确认")
    first, retry = chat.say(done_xml), chat.say(done_xml)
    assert first == retry
    [report] = chat.reports()
    assert report.number in first
    assert len(report.photos) == 1
    assert len([c for c in chat.fake.calls("media/get") if c.errcode == 0]) == 1


def backdate_draft(chat: Chat, minutes: int) -> None:
    touched = utcnow() - timedelta(minutes=minutes)
    with unit(chat.app) as session:
        conversation = Conversation(session, OPENID, timeout=1800)
        draft = dict(conversation.data["report"], touched=touched.isoformat())
        conversation.update(report=draft)
        conversation.save()


def test_an_idle_draft_is_closed_with_a_message(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    with chat.app.app_context():
        close_idle_draft(OPENID)  # not idle yet
    assert chat.state() == "report.awaiting_location"
    backdate_draft(chat, 31)
    with chat.app.app_context():
        close_idle_draft(OPENID)
    assert chat.state() is None
    [sent] = chat.fake.sent_messages
    assert sent["touser"] == OPENID
    assert "长时间未完成已自动关闭" in sent["text"]["content"]
    assert chat.reports() == []


def test_an_idle_draft_is_noticed_at_the_next_message(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    backdate_draft(chat, 31)
    assert "长时间未完成已自动关闭" in chat.location()
    assert chat.state() is None
    reopened = chat.photo("MEDIA-2", seed=2)
    assert "长时间未完成已自动关闭" not in reopened
    assert "已收到照片（1/3）" in reopened


def complete_report(chat: Chat, media_id: str = "MEDIA-1") -> Report:
    chat.photo(media_id)
    chat.location()
    chat.text("1")
    chat.text("跳过")
    assert "举报已提交" in chat.text("1")
    return chat.reports()[-1]


def test_points_reports_and_phone_in_the_chat(chat: Chat) -> None:
    assert "您还没有提交过举报" in chat.text("我的举报")
    assert "暂无积分记录" in chat.text("积分")
    report = complete_report(chat)
    with unit(chat.app) as session:
        workflow.accept(
            session, report.id, REVIEWER, ReportStatus.SUBMITTED, settings=chat.app.config["CITYBOT"].reports
        )
    drain(chat.app)
    # the resident wrote minutes ago: the notice is a customer-service text
    assert any("已被采纳" in m["text"]["content"] for m in chat.fake.sent_messages)
    mine = chat.text("我的举报")
    assert f"{report.number} 占道经营 已采纳" in mine
    points = chat.text("积分")
    assert "您当前的积分：10" in points
    assert "举报采纳 +10" in points
    assert "绑定手机" in points
    assert "手机号格式不正确" in chat.text("绑定手机 12345")
    assert chat.text("绑定手机 138-0013-8000") == "已绑定手机 138****8000，积分将兑换为该号码的话费。"
    assert "138****8000" in chat.text("积分")


def test_template_when_the_window_has_closed(chat: Chat) -> None:
    report = complete_report(chat)
    chat.fake.fail_next("message/custom/send", 45015)
    with unit(chat.app) as session:
        workflow.reject(session, report.id, REVIEWER, ReportStatus.SUBMITTED, "unclear_photo")
    drain(chat.app)
    [template] = chat.fake.sent_templates
    assert template["template_id"] == "TPL-STATUS"
    assert template["data"]["keyword1"]["value"] == report.number
    assert "照片不够清晰" in template["data"]["remark"]["value"]


def test_report_limit_in_the_chat(make_chat: Callable[..., Chat]) -> None:
    chat = make_chat(reports_per_hour=1)
    complete_report(chat)
    refused = chat.photo("MEDIA-2", seed=2)
    assert "一小时内提交的举报已达上限（1 条）" in refused
    assert chat.state() is None
    with unit(chat.app) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1
        assert session.scalar(select(func.count()).select_from(Photo)) == 1


# -- each step takes only what it asks for -------------------------------------------------------------


def test_a_question_while_the_location_is_awaited_is_answered_not_stored(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    answer = chat.text("在哪里发位置？")
    assert "发送位置的方法" in answer
    assert "选择“位置”" in answer
    assert "回复“取消”可退出本次举报" in answer
    assert chat.state() == "report.awaiting_location"
    typed = chat.text("北山街12号门口")  # an address as text is no location either
    assert "现在需要的是问题发生的位置，文字不会被记录" in typed
    assert "回复“取消”" in typed
    assert chat.state() == "report.awaiting_location"
    assert "1 占道经营" in chat.location()
    chat.text("1")
    summary = chat.text("跳过")
    assert "描述：（未填写）" in summary
    assert "在哪里" not in summary
    chat.text("确认")
    [report] = chat.reports()
    assert report.description == ""


def test_a_digit_before_the_list_is_never_a_category(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    toilets = chat.text("3")  # 一键查找's keyword for public toilets
    assert "“3”是一键查找“公共厕所”的指令" in toilets
    assert "回复“取消”结束本次举报" in toilets
    assert "现在需要的是问题发生的位置" in toilets
    assert "问题类型" not in toilets
    other = chat.text("７")  # full-width, and no keyword of anything
    assert "数字“7”未被记录" in other
    assert "现在需要的是问题发生的位置" in other
    located = chat.location()
    assert "请选择问题类型" in located  # the list comes now, the earlier digits were not taken
    assert "问题类型：" not in located
    assert chat.state() == "report.awaiting_category"


def test_text_and_digits_while_a_photo_is_awaited(chat: Chat) -> None:
    chat.say(chat.sim.click(OPENID, MENU_KEY))
    answer = chat.text("2")
    assert "“2”是一键查找" in answer
    assert "现在需要的是现场照片" in answer
    assert "现在需要的是现场照片" in chat.text("人行道被占了")
    assert chat.state() == "report.awaiting_photo"
    chat.photo("MEDIA-1")
    chat.location()
    chat.text("1")
    chat.text("跳过")
    chat.text("1")
    [report] = chat.reports()
    assert report.description == ""


def test_a_choice_not_in_the_list_says_so_and_repeats_the_list(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    chat.location()
    wrong = chat.text("9")
    assert wrong.startswith("“9”不在问题类型列表中。")
    assert "1 占道经营" in wrong
    assert "6 其他" in wrong
    assert "回复“取消”可退出本次举报" in wrong
    assert "不在问题类型列表中" in chat.text("有人乱扔垃圾")
    assert chat.state() == "report.awaiting_category"
    assert "问题类型：乱堆乱放" in chat.text("２")  # full-width digits choose as well
    assert chat.state() == "report.awaiting_description"


def test_the_description_is_stored_as_written(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    chat.location()
    chat.text("1")
    written = "人行道上摆摊，占道严重！（早高峰，７点左右）"
    summary = chat.text(f"  {written}  ")
    assert f"描述：{written}" in summary
    assert "举报已提交" in chat.text("１")
    [report] = chat.reports()
    assert report.description == written


def test_a_description_over_the_limit_is_refused(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    chat.location()
    chat.text("1")
    refused = chat.text("占" * 501)
    assert "描述有 501 字，最多 500 字" in refused
    assert "回复“取消”" in refused
    assert chat.state() == "report.awaiting_description"
    assert "描述：" + "占" * 500 in chat.text("占" * 500)


def test_only_an_explicit_confirmation_submits(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    chat.location()
    chat.text("1")
    chat.text("摊位挡住了盲道")
    unclear = chat.text("好的谢谢")
    assert "举报尚未提交" in unclear
    assert "回复“1”或“确认”提交" in unclear
    assert "回复“取消”放弃本次举报" in unclear
    assert chat.reports() == []
    assert "请用一句话描述问题" in chat.text("2")
    assert "描述：摊位挡住了整条盲道" in chat.text("摊位挡住了整条盲道")
    assert "请选择问题类型" in chat.text("3")
    back = chat.text("2")
    assert "问题类型：乱堆乱放" in back
    assert "描述：摊位挡住了整条盲道" in back  # the description was kept: straight to the summary
    relocated = chat.say(chat.sim.location(OPENID, 30.2600, 120.1500, "断桥"))
    assert "位置：断桥" in relocated
    assert chat.reports() == []
    assert "举报已提交" in chat.text("确认")
    [report] = chat.reports()
    assert report.category.code == "clutter"
    assert (report.description, report.address) == ("摊位挡住了整条盲道", "断桥")


def test_a_voice_message_in_a_draft_is_not_used(chat: Chat) -> None:
    chat.photo("MEDIA-1")
    voice = build_xml(
        {
            "ToUserName": chat.sim.account,
            "FromUserName": OPENID,
            "CreateTime": int(utcnow().timestamp()),
            "MsgType": "voice",
            "MediaId": "VOICE-1",
            "Format": "amr",
            "MsgId": 987654321,
        }
    )
    answer = chat.say(voice)
    assert "这条消息不能用于随手拍举报" in answer
    assert "现在需要的是问题发生的位置" in answer
    assert chat.state() == "report.awaiting_location"


def _to_step(chat: Chat, step: str) -> None:
    """Open a draft and answer every step before ``step``."""
    if step == "photo":
        chat.say(chat.sim.click(OPENID, MENU_KEY))
        return
    chat.photo("MEDIA-1")
    answers = [chat.location, lambda: chat.text("1"), lambda: chat.text("跳过")]
    for answer in answers[: ["location", "category", "description", "confirmation"].index(step)]:
        answer()


@pytest.mark.parametrize("step", ["photo", "location", "category", "description", "confirmation"])
def test_cancel_works_at_every_step(chat: Chat, step: str) -> None:
    _to_step(chat, step)
    assert chat.state() == f"report.awaiting_{step}"
    assert chat.text("取消") == "已取消。"
    assert chat.state() is None
    assert chat.reports() == []


# -- the resident sees why -------------------------------------------------------------------------------


def test_my_reports_says_why_a_report_was_not_accepted(chat: Chat) -> None:
    first = complete_report(chat, "MEDIA-1")
    second = complete_report(chat, "MEDIA-2")
    third = complete_report(chat, "MEDIA-3")
    with unit(chat.app) as session:
        workflow.reject(session, first.id, REVIEWER, ReportStatus.SUBMITTED, "insufficient_info")
        workflow.accept(
            session,
            second.id,
            REVIEWER,
            ReportStatus.SUBMITTED,
            settings=chat.app.config["CITYBOT"].reports,
        )
        workflow.mark_duplicate(session, third.id, REVIEWER, ReportStatus.SUBMITTED, second.id)
    drain(chat.app)
    lines = chat.text("我的举报").splitlines()
    rejected = lines.index(f"· {first.number} 占道经营 未采纳")
    assert lines[rejected + 1] == "  未采纳原因：信息不完整，无法核实。"
    accepted = lines.index(f"· {second.number} 占道经营 已采纳")
    assert not lines[accepted + 1].startswith("  ")  # nothing to explain for an accepted one
    duplicate = lines.index(f"· {third.number} 占道经营 重复举报")
    assert lines[duplicate + 1] == f"  与举报 {second.number} 反映的是同一问题，已合并处理。"
    assert "insufficient_info" not in "\n".join(lines)

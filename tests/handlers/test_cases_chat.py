"""有问必答 through the real webhook against the fake WeChat API: acknowledgment, joining a thread,
replies inside and outside the 48-hour window, 45015 and 45047, escalation across the National Day
holiday and its make-up working day, satisfaction and reopening, conversion to a report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core import services
from cases import jobs as case_jobs
from cases import service
from cases.models import Case, CaseDelivery, CaseStatus, DeliveryStatus, EntryKind
from cases.settings import CasesSettings
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import WeChatSimulator, build_xml
from menu.keys import MenuKey
from reports.models import Report
from reports.roles import staff_actor
from reports.settings import ReportsSettings
from staff import models as staff_models
from staff.roles import Role
from tests.support import images
from tests.support.clock import at
from tests.support.reports import add_staff, drain, unit
from tests.support.wechat import close_apps, simulator_for

pytestmark = pytest.mark.integration

OPENID = "oResidentCases00000000001"
CHIEF_OPENID = "oStaffChief0000000000001"
DEPUTY_OPENID = "oStaffDeputy000000000001"
DUTY_OPENID = "oStaffDuty00000000000001"
OFFICER = staff_actor("officer", Role.CASE_OFFICER)
BASE_URL = "https://bot.example.gov.cn"
# Wednesday 30 September 2026, 10:00 in Shanghai, the day before the National Day holiday (1-7
# October); Saturday 10 October is its make-up working day.
RECEIVED = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
# Tuesday 1 December 2026, 10:00 in Shanghai: an ordinary working day.
TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


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

    def text(self, content: str, openid: str = OPENID) -> str:
        return self.say(self.sim.text(openid, content))

    def voice(self, recognition: str) -> str:
        fields: dict[str, Any] = {
            **self.sim._base(OPENID, "voice"),
            "MediaId": "VOICE-1",
            "Format": "amr",
            "Recognition": recognition,
            "MsgId": 7001,
        }
        return self.say(build_xml(fields))

    def link(self, title: str, url: str) -> str:
        fields: dict[str, Any] = {
            **self.sim._base(OPENID, "link"),
            "Title": title,
            "Description": "",
            "Url": url,
            "MsgId": 7002,
        }
        return self.say(build_xml(fields))

    def cases(self) -> list[Case]:
        with unit(self.app) as session:
            found = list(session.scalars(select(Case).order_by(Case.id)))
            session.expunge_all()
            return found

    def case(self) -> Case:
        [case] = self.cases()
        return case

    def thread(self, case_id: int) -> list[tuple[str, str, dict[str, Any]]]:
        with unit(self.app) as session:
            case = session.get(Case, case_id)
            assert case is not None
            return [
                (str(e.kind), e.content or e.msg_type, dict(e.details)) for e in service.thread(session, case)
            ]

    def settings(self) -> CasesSettings:
        return services.settings(self.app).section(CasesSettings)

    def reply(self, text: str, now: datetime) -> None:
        with unit(self.app) as session:
            case = session.scalars(select(Case).order_by(Case.id.desc())).first()
            assert case is not None
            service.reply(session, self.settings(), case, OFFICER, text, now=now)
        drain(self.app)

    def deliveries(self) -> list[CaseDelivery]:
        with unit(self.app) as session:
            found = list(session.scalars(select(CaseDelivery).order_by(CaseDelivery.id)))
            session.expunge_all()
            return found

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.fake.sent_messages if m["touser"] == openid]

    def templates_to(self, openid: str) -> list[dict[str, Any]]:
        return [t for t in self.fake.sent_templates if t["touser"] == openid]


@pytest.fixture
def make_chat(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[Callable[..., Chat]]:
    built: list[Flask] = []

    def factory(**cases: object) -> Chat:
        app = make_app(
            **fake_wechat.settings_overrides(),
            cases={"template_id": "TPL-CASE", "public_base_url": BASE_URL, **cases},
        )
        built.append(app)
        return Chat(app, simulator_for(app), fake_wechat)

    yield factory
    close_apps(built)


@pytest.fixture
def chat(make_chat: Callable[..., Chat]) -> Chat:
    return make_chat()


def test_a_message_no_feature_takes_opens_a_case_and_further_ones_join_it(chat: Chat) -> None:
    with at(RECEIVED):
        ack = chat.text("小区门口的路灯坏了好几天了")
    assert "您的留言已收到，编号 LY20260930-0001" in ack
    # five working days: 8, 9, 10 (the make-up Saturday), 12 and 13 October
    assert "2026年10月13日 17:30 前答复（5 个工作日内）" in ack
    with at(RECEIVED + timedelta(hours=1)):
        joined = chat.voice("就在三号楼旁边")
        linked = chat.link("现场照片", "https://example.com/lamp")
    assert "已补充到您的留言 LY20260930-0001" in joined
    assert "LY20260930-0001" in linked
    case = chat.case()
    entries = [(kind, content) for kind, content, _ in chat.thread(case.id) if kind == "resident"]
    assert entries == [
        ("resident", "小区门口的路灯坏了好几天了"),
        ("resident", "就在三号楼旁边"),
        ("resident", "现场照片"),
    ]
    with at(RECEIVED + timedelta(hours=2)):
        mine = chat.text("我的留言")
    assert "LY20260930-0001" in mine
    assert "待办理" in mine
    # a prefix opens a new case with its topic
    with at(RECEIVED + timedelta(hours=3)):
        complaint = chat.text("投诉：夜间施工噪音，（２２点后）还在响？")
    assert "LY20260930-0002" in complaint
    assert [c.topic for c in chat.cases()] == ["message", "complaint"]
    # the case keeps the resident's words as written: full-width punctuation and digits stay
    latest = chat.cases()[-1]
    assert latest.subject == "夜间施工噪音，（２２点后）还在响？"
    assert [content for kind, content, _ in chat.thread(latest.id) if kind == "resident"] == [
        "夜间施工噪音，（２２点后）还在响？"
    ]


def test_help_words_and_other_features_keep_their_messages(chat: Chat) -> None:
    with at(TUESDAY):
        assert "城管服务号小助手" in chat.text("帮助")
        assert "城管服务号小助手" in chat.text("怎么用")
        assert "城管服务号小助手" in chat.text("好")
        sorting = chat.text("电池是什么垃圾")
        nearby = chat.text("1")
    assert "留言" not in sorting
    assert "LY" not in nearby
    assert chat.cases() == []


def test_a_reply_inside_the_window_is_a_customer_service_message(chat: Chat) -> None:
    with at(TUESDAY):
        chat.text("请问占道经营怎么投诉")
    with at(TUESDAY + timedelta(hours=2)):
        chat.reply("您好，可拨打12319热线或直接在本号留言。", TUESDAY + timedelta(hours=2))
    [sent] = chat.texts_to(OPENID)
    assert "LY20261201-0001" in sent
    assert "12319" in sent
    [delivery] = chat.deliveries()
    assert (delivery.status, delivery.channel) == (DeliveryStatus.SENT, "text")
    case = chat.case()
    assert case.status is CaseStatus.ANSWERED
    outcomes = [d["outcome"] for kind, _, d in chat.thread(case.id) if kind == "delivery"]
    assert outcomes == ["sent"]


def test_outside_the_window_a_template_links_to_a_signed_page_with_the_answer(chat: Chat) -> None:
    with at(TUESDAY):
        chat.text("我家楼下的垃圾桶满了，电话13800138000")
        with at(TUESDAY + timedelta(hours=49)):
            chat.reply("已通知环卫清运。", TUESDAY + timedelta(hours=49))
    assert chat.texts_to(OPENID) == []
    [template] = chat.templates_to(OPENID)
    assert template["template_id"] == "TPL-CASE"
    assert template["data"]["keyword1"]["value"] == "LY20261201-0001"
    url = template["url"]
    assert url.startswith(BASE_URL + "/answers/")
    with at(TUESDAY + timedelta(hours=50)):
        page = chat.app.test_client().get(url.removeprefix(BASE_URL))
        forged = chat.app.test_client().get("/answers/" + url.rsplit("/", 1)[1][:-2] + "xx")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "已通知环卫清运。" in html
    assert "LY20261201-0001" in html
    assert OPENID not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert forged.status_code == 410
    with at(TUESDAY + timedelta(days=40)):
        expired = chat.app.test_client().get(url.removeprefix(BASE_URL))
    assert expired.status_code == 410


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_45015_and_45047_fall_back_to_the_template_and_every_attempt_is_on_the_thread(
    chat: Chat, errcode: int
) -> None:
    with at(TUESDAY):
        chat.text("人行道上有个坑")
        chat.fake.fail_next("message/custom/send", errcode)
        chat.reply("已安排修补。", TUESDAY + timedelta(minutes=5))
    assert chat.texts_to(OPENID) == []
    [template] = chat.templates_to(OPENID)
    assert template["url"].startswith(BASE_URL + "/answers/")
    [delivery] = chat.deliveries()
    assert (delivery.status, delivery.channel) == (DeliveryStatus.SENT, "template")
    attempts = [d["outcome"] for kind, _, d in chat.thread(chat.case().id) if kind == "delivery"]
    assert attempts == [{45015: "window", 45047: "quota"}[errcode], "sent"]


def test_the_window_allows_only_so_many_messages_before_the_resident_writes_again(
    make_chat: Callable[..., Chat],
) -> None:
    chat = make_chat(window_messages=2)
    with at(TUESDAY):
        chat.text("井盖松动")
        for n in range(3):
            chat.reply(f"第{n + 1}次答复", TUESDAY + timedelta(minutes=n + 1))
    assert len(chat.texts_to(OPENID)) == 2
    assert len(chat.templates_to(OPENID)) == 1
    with unit(chat.app) as session:
        state = service.window_state(session, chat.settings(), OPENID, TUESDAY + timedelta(minutes=10))
    assert (state.open, state.messages_left) == (True, 0)
    with at(TUESDAY + timedelta(hours=1)):
        chat.text("谢谢")  # the resident writes again: the quota starts over
    with unit(chat.app) as session:
        state = service.window_state(
            session, chat.settings(), OPENID, TUESDAY + timedelta(hours=1, minutes=1)
        )
    assert state.messages_left == 2


def test_overdue_cases_escalate_to_the_section_chief_then_the_deputy_leader_across_the_holiday(
    chat: Chat,
) -> None:
    add_staff(chat.app, {"chief": "section_chief", "deputy": "deputy_leader", "officer": "case_officer"})
    with unit(chat.app) as session:
        staff_models.link_wechat(session, "chief", CHIEF_OPENID)
        staff_models.link_wechat(session, "deputy", DEPUTY_OPENID)
    with at(RECEIVED):
        chat.text("绿化带里堆了很多建筑垃圾")
    local = RECEIVED.astimezone(ZoneInfo("Asia/Shanghai"))
    assert local.hour == 10
    # Saturday 10 October is a working day (调休): still within the deadline of Tuesday 13 October
    for moment in (datetime(2026, 10, 10, 9, 0, tzinfo=UTC), datetime(2026, 10, 13, 9, 0, tzinfo=UTC)):
        with at(moment):
            assert case_jobs.run_due(chat.app) == 0
    assert chat.case().escalation_level == 0
    with at(datetime(2026, 10, 13, 10, 0, tzinfo=UTC)):  # 18:00 in Shanghai, past 17:30
        case_jobs.run_due(chat.app)
        drain(chat.app)
    case = chat.case()
    assert case.escalation_level == 1
    # two working days after the first escalation: Thursday 15 October, 17:30
    assert case.second_due_at == datetime(2026, 10, 15, 9, 30, tzinfo=UTC)
    [to_chief] = chat.templates_to(CHIEF_OPENID)  # the chief has not written to the account: template
    assert to_chief["data"]["keyword1"]["value"] == case.number
    assert "已超过答复期限" in to_chief["data"]["first"]["value"]
    assert chat.templates_to(DEPUTY_OPENID) == []
    with at(datetime(2026, 10, 14, 2, 0, tzinfo=UTC)):
        case_jobs.run_due(chat.app)
    assert chat.case().escalation_level == 1  # once per level
    with at(datetime(2026, 10, 15, 10, 0, tzinfo=UTC)):
        case_jobs.run_due(chat.app)
        drain(chat.app)
    assert chat.case().escalation_level == 2
    [to_deputy] = chat.templates_to(DEPUTY_OPENID)
    assert "分管领导" in to_deputy["data"]["first"]["value"]
    events = [d for kind, what, d in chat.thread(case.id) if kind == "event" and what == "escalate"]
    assert [e["level"] for e in events] == [1, 2]


def test_closing_asks_for_satisfaction_and_dissatisfied_reopens(chat: Chat) -> None:
    with at(TUESDAY):
        chat.text("路边摊占道")
        chat.reply("已劝离。", TUESDAY + timedelta(hours=1))
        with unit(chat.app) as session:
            case = session.scalars(select(Case)).one()
            service.close(session, chat.settings(), case, OFFICER, now=TUESDAY + timedelta(hours=2))
        drain(chat.app)
    question = chat.texts_to(OPENID)[-1]
    assert "1 满意、2 基本满意、3 不满意" in question
    with at(TUESDAY + timedelta(days=1)):
        answer = chat.text("3")
    assert "已重新办理" in answer
    case = chat.case()
    assert case.status is CaseStatus.OPEN
    assert case.reopened_count == 1
    assert case.rating == "dissatisfied"
    # with no question waiting, 1 is 一键查找's again
    with at(TUESDAY + timedelta(days=1, minutes=5)):
        assert "感谢您的评价" not in chat.text("1")
    with at(TUESDAY + timedelta(days=2)):
        chat.reply("已彻底清理。", TUESDAY + timedelta(days=2))
        with unit(chat.app) as session:
            case = session.scalars(select(Case)).one()
            service.close(session, chat.settings(), case, OFFICER, now=TUESDAY + timedelta(days=2))
        drain(chat.app)
    with at(TUESDAY + timedelta(days=3)):
        assert "感谢您的评价" in chat.text("满意")
    assert chat.case().status is CaseStatus.CLOSED


def test_a_message_with_photo_and_location_becomes_a_report_keeping_the_thread(chat: Chat) -> None:
    chat.fake.add_media("MEDIA-CASE-1", images.jpeg(3, gps=(30.2614, 120.1431)))
    with at(TUESDAY):
        prompt = chat.say(chat.sim.click(OPENID, MenuKey.CASE_MESSAGE))
        assert "请直接发送您要反映的问题" in prompt
        chat.text("这里有人乱倒垃圾")
        photo = chat.say(chat.sim.image(OPENID, "http://mmbiz.qpic.cn/MEDIA-CASE-1", "MEDIA-CASE-1"))
        place = chat.say(chat.sim.location(OPENID, 30.2590, 120.1480, "北山街"))
    assert "LY20261201-0001" in photo
    assert "LY20261201-0001" in place
    with at(TUESDAY + timedelta(hours=1)):
        with unit(chat.app) as session:
            case = session.scalars(select(Case)).one()
            store = services.of(chat.app).store
            report = service.convert_to_report(
                session,
                store,
                services.settings(chat.app).section(ReportsSettings),
                case,
                OFFICER,
                category_code="clutter",
                now=TUESDAY + timedelta(hours=1),
            )
            number = report.number
        drain(chat.app)
    case = chat.case()
    assert case.status is CaseStatus.CONVERTED
    with unit(chat.app) as session:
        report = session.scalars(select(Report)).one()
        assert report.number == number
        assert case.report_id == report.id
        assert report.address == "北山街"
        assert report.description == "这里有人乱倒垃圾"
        assert [p.media_id for p in report.photos] == ["MEDIA-CASE-1"]
        from_case = [
            e for e in service.audit.of_target(session, "report", report.id) if e.action == "report.from_case"
        ]
        assert from_case[0].details["case"] == case.number
    kinds = [kind for kind, _, _ in chat.thread(case.id)]
    assert kinds.count("resident") == 3
    assert kinds[-1] == "event"


def test_flagged_and_after_hours_messages_alert_the_staff_on_duty(chat: Chat) -> None:
    add_staff(chat.app, {"duty": "case_officer", "boss": "admin"})
    with unit(chat.app) as session:
        staff_models.link_wechat(session, "duty", DUTY_OPENID)
        service.add_shift(
            session,
            staff_actor("boss", Role.ADMIN),
            username="duty",
            starts_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            ends_at=datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
            now=TUESDAY,
        )
    night = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    with at(night):
        chat.text("有人在小区门口代开发票")
    case = chat.case()
    assert case.flagged
    assert case.outside_hours
    [to_duty_flag, to_duty_night] = chat.templates_to(DUTY_OPENID)
    assert "值班监看" in to_duty_flag["data"]["first"]["value"]
    assert "非工作时间" in to_duty_night["data"]["first"]["value"]
    entries = chat.thread(case.id)
    assert entries[0][1] == "有人在小区门口代开发票"  # kept, never deleted
    assert [what for kind, what, _ in entries if kind == "event"][:2] == ["flag", "duty_alert"]
    assert entries[0][0] == EntryKind.RESIDENT

"""有问必答 in the console: the inbox queue's counts and filters, the case page's thread, assignment,
replies through the fake WeChat with the window shown open or closed, notes never delivered, canned
replies, the duty roster, permissions, masking, the public pages and the monthly figures."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core import services
from bot.core.audit import AuditEntry
from bot.wechat.service import WeChatServices
from cases import links, service
from cases.models import CannedReply, Case, CaseDelivery, CaseStatus, EntryKind
from cases.settings import CasesSettings
from devtools.fake_wechat import FakeWeChat
from devtools.simulator import WeChatSimulator
from staff.roles import Role
from tests.console.test_console_raw_values import RAW, visible
from tests.support.clock import at
from tests.support.console import ConsoleClient, add_staff, text
from tests.support.reports import close_queue, drain, unit
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

OPENID = "oResidentConsole000000001"
OTHER = "oResidentConsole000000002"
BASE_URL = "https://bot.example.gov.cn"
# Tuesday 1 December 2026, 10:00 in Shanghai: an ordinary working day.
TUESDAY = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
NUMBER = re.compile(r'/console/cases/(\d+)">(LY\d{8}-\d{4})<')


@dataclass
class Desk:
    app: Flask
    sim: WeChatSimulator
    fake: FakeWeChat

    def say(self, content: str, openid: str = OPENID) -> str:
        reply = self.sim.send(self.sim.text(openid, content))
        assert reply.status == 200
        drain(self.app)
        return reply.text or ""

    def open(self, content: str) -> Case:
        """The resident's message on Tuesday morning opens the one case."""
        with at(TUESDAY):
            self.say(content)
        [case] = self.cases()
        return case

    def page(self, client: ConsoleClient, case: Case, query: str = "") -> str:
        return text(client.get(f"/console/cases/{case.id}{query}"))

    def client(self, username: str) -> ConsoleClient:
        return ConsoleClient(self.app).logged_in(username)

    def cases(self) -> list[Case]:
        with unit(self.app) as session:
            found = list(session.scalars(select(Case).order_by(Case.id)))
            session.expunge_all()
            return found

    def texts_to(self, openid: str = OPENID) -> list[str]:
        return [m["text"]["content"] for m in self.fake.sent_messages if m["touser"] == openid]


@pytest.fixture
def desk(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[Desk]:
    app = make_app(
        **fake_wechat.settings_overrides(),
        cases={"template_id": "TPL-CASE", "public_base_url": BASE_URL},
    )
    add_staff(app, "officer", {Role.CASE_OFFICER}, display_name="办理员甲")
    add_staff(app, "chief", {Role.SECTION_CHIEF}, display_name="科长乙")
    add_staff(app, "deputy", {Role.DEPUTY_LEADER}, display_name="分管丙")
    add_staff(app, "boss", {Role.ADMIN}, display_name="管理员")
    add_staff(app, "rev", {Role.REVIEWER})
    yield Desk(app, simulator_for(app), fake_wechat)
    close_queue(app)
    api = services.of(app).get(WeChatServices).api
    if api is not None:
        api.close()


def flashes(page: str) -> list[str]:
    return re.findall(r'class="flash flash-\w+"[^>]*>([^<]*)<', page)


def test_the_queue_counts_filters_and_lists_oldest_first(desk: Desk) -> None:
    with at(TUESDAY):
        desk.say("小区门口的路灯坏了")
    with at(TUESDAY + timedelta(minutes=5)):
        desk.say("投诉：夜间施工噪音扰民", openid=OTHER)
    first, second = desk.cases()
    # the first one is late: eight days on, past its five working days
    with at(TUESDAY + timedelta(days=8)):
        chief = desk.client("chief")
        chief.post(f"/console/cases/{second.id}/assign", {"department": "law", "assignee": "officer"})
        page = text(chief.get("/console/cases/"))
        assert [n for _, n in NUMBER.findall(page)] == [first.number, second.number]  # oldest first
        assert 'data-figure="open">1<' in page
        assert 'data-figure="assigned">1<' in page
        assert 'data-figure="overdue">2<' in page
        assert re.search(r'data-department="law">执法科 1<', page)
        assert re.search(r'data-department="">未分派 1<', page) or re.search(
            r'data-department="general">综合科 1<', page
        )

        def numbers(query: str) -> list[str]:
            response = chief.get(f"/console/cases/?{query}")
            assert response.status_code == 200
            return [n for _, n in NUMBER.findall(text(response))]

        assert numbers("department=law") == [second.number]
        assert numbers("status=open") == [first.number]
        assert numbers("status=assigned") == [second.number]
        with unit(desk.app) as session:
            officer_id = session.scalars(select(Case.assignee_id).where(Case.id == second.id)).one()
        assert numbers(f"assignee={officer_id}") == [second.number]
        assert numbers("words=路灯") == [first.number]
        assert numbers(f"words={second.number}") == [second.number]
        assert numbers("overdue=1") == [first.number, second.number]
        assert numbers("status=closed") == []
        assert "没有符合条件的留言" in text(chief.get("/console/cases/?status=closed"))
        assert chief.get("/console/cases/?status=nonsense").status_code == 400
        assert chief.get("/console/cases/?department=nowhere").status_code == 400
    with at(TUESDAY + timedelta(hours=1)):
        desk.say("有人在小区门口代开发票", openid="oResidentConsole000000003")  # the lexicon flags it
        flagged = text(desk.client("chief").get("/console/cases/?flagged=1"))
        assert [n for _, n in NUMBER.findall(flagged)] == [desk.cases()[-1].number]
        assert 'data-figure="flagged">1<' in flagged
        assert "值班监看</span>" in flagged
        fresh = text(desk.client("chief").get("/console/cases/?overdue=1"))
        assert NUMBER.findall(fresh) == []
        assert 'data-figure="overdue">0<' in fresh


def test_the_queue_pages_fifty_at_a_time(desk: Desk) -> None:
    settings = desk.app.config["CITYBOT"].section(CasesSettings)
    with unit(desk.app) as session:
        for i in range(53):
            service.open_or_join(
                session,
                settings,
                openid=f"oPaging{i:020d}",
                incoming=service.Incoming("text", f"第{i}条留言"),
                now=TUESDAY + timedelta(minutes=i),
            )
    with at(TUESDAY + timedelta(hours=2)):
        client = desk.client("officer")
        first = text(client.get("/console/cases/"))
        second = text(client.get("/console/cases/?status=waiting&page=2"))
    assert "共 53 件" in first
    assert len(NUMBER.findall(first)) == 50
    assert [n for _, n in NUMBER.findall(second)] == [f"LY20261201-{i:04d}" for i in (51, 52, 53)]
    assert "第 1 / 2 页" in first


def test_the_case_page_shows_the_thread_in_order_with_notes_apart_and_assigns(desk: Desk) -> None:
    with at(TUESDAY):
        desk.say("咨询 占道经营怎么投诉？我的电话13812345678")
        desk.say("就在人民路口")
    [case] = desk.cases()
    with at(TUESDAY + timedelta(hours=1)):
        chief = desk.client("chief")
        assigned = chief.post(
            f"/console/cases/{case.id}/assign", {"department": "city", "assignee": "officer"}
        )
        assert assigned.status_code == 302
        chief.post(f"/console/cases/{case.id}/note", {"text": "已电话联系市容科"})
        page = desk.page(chief, case)
    kinds = re.findall(r'data-kind="(\w+)"', page)
    assert kinds[:2] == ["resident", "resident"]
    assert "note" in kinds
    assert kinds.index("event") < kinds.index("note")  # the assignment, then the note
    assert page.index("占道经营怎么投诉") < page.index("就在人民路口") < page.index("已电话联系市容科")
    assert "内部备注 · 不发送给市民" in page
    assert "data-department>市容科<" in page
    assert "data-assignee>办理员甲<" in page
    assert "分派：市容科、办理员甲" in page
    # the section chief lacks cases.contact: the openid and the phone number are masked
    assert OPENID not in page
    assert "13812345678" not in page
    assert "138****5678" in page
    with unit(desk.app) as session:
        stored = session.get(Case, case.id)
        assert stored is not None
        assert stored.status is CaseStatus.ASSIGNED
        assert stored.department == "city"
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.target == case.number)))
    assert {"case.assign", "case.note"} <= actions
    # the admin holds cases.contact
    with at(TUESDAY + timedelta(hours=1)):
        full = text(desk.client("boss").get(f"/console/cases/{case.id}"))
    assert OPENID in full
    assert "13812345678" in full
    # the note never went to the resident: only the acknowledgments did
    assert all("市容科" not in sent for sent in desk.texts_to())
    with unit(desk.app) as session:
        assert session.scalars(select(CaseDelivery).where(CaseDelivery.kind == "reply")).all() == []


def test_a_reply_inside_the_window_is_a_customer_service_message_then_the_case_closes(desk: Desk) -> None:
    with unit(desk.app) as session:
        session.add(CannedReply(title="热线", body="您好，可拨打12319城管热线反映。", position=1))
    case = desk.open("请问占道经营怎么投诉")
    with at(TUESDAY + timedelta(hours=2)):
        officer = desk.client("officer")
        page = desk.page(officer, case)
        assert 'data-window="open"' in page
        assert "48小时客服消息窗口开放至 2026-12-03 10:00，还可发送 5 条。" in page
        canned_id = re.search(r'<option value="(\d+)" data-body="[^"]*12319', page)
        assert canned_id is not None
        picked = text(officer.get(f"/console/cases/{case.id}?canned={canned_id.group(1)}"))
        box = re.search(r'<textarea id="reply-text"[^>]*>([^<]*)</textarea>', picked)
        assert box is not None
        assert box.group(1) == "您好，可拨打12319城管热线反映。"
        sent = officer.post(f"/console/cases/{case.id}/reply", {"text": box.group(1)})
        assert sent.status_code == 302
        drain(desk.app)
        after = desk.page(officer, case)
    assert any("12319" in message and case.number in message for message in desk.texts_to())
    assert "已答复" in after
    assert "已通过客服消息发送" in after
    assert "还可发送 4 条" in after
    with at(TUESDAY + timedelta(hours=3)):
        officer = desk.client("officer")
        officer.post(f"/console/cases/{case.id}/act", {"action": "close"})
        drain(desk.app)
    [closed] = desk.cases()
    assert closed.status is CaseStatus.CLOSED
    assert any("请您对办理结果进行评价" in message for message in desk.texts_to())


def test_outside_the_window_the_page_says_so_and_the_reply_goes_as_a_template(desk: Desk) -> None:
    case = desk.open("人行道上的井盖松了")
    with at(TUESDAY + timedelta(days=3)):
        officer = desk.client("officer")
        page = desk.page(officer, case)
        assert 'data-window="closed"' in page
        assert "48小时客服消息窗口已关闭" in page
        officer.post(f"/console/cases/{case.id}/reply", {"text": "已安排维修。"})
        drain(desk.app)
        after = desk.page(officer, case)
    assert [t["url"].startswith(BASE_URL + "/answers/") for t in desk.fake.sent_templates] == [True]
    assert "已通过模板消息发送" in after


def test_status_actions_public_marking_and_refusals(desk: Desk) -> None:
    case = desk.open("建议 在公园增设垃圾桶")
    with at(TUESDAY + timedelta(hours=1)):
        officer = desk.client("officer")
        refused = officer.post(f"/console/cases/{case.id}/act", {"action": "close"})
        assert refused.status_code == 302
        assert f"留言 {case.number} 尚未答复，请先答复。" in flashes(desk.page(officer, case))
        empty = officer.post(f"/console/cases/{case.id}/reply", {"text": "  "})
        assert empty.status_code == 302
        assert "内容不能为空。" in flashes(desk.page(officer, case))
        officer.post(f"/console/cases/{case.id}/act", {"action": "answer", "how": "已电话答复"})
        officer.post(f"/console/cases/{case.id}/act", {"action": "public", "title": "公园垃圾桶"})
        page = desk.page(officer, case)
        assert "已公开" in page
        officer.post(f"/console/cases/{case.id}/act", {"action": "reopen"})
    [reopened] = desk.cases()
    assert reopened.status is CaseStatus.OPEN
    assert reopened.public
    assert reopened.reopened_count == 1


def test_viewers_see_no_buttons_and_their_posts_are_refused(desk: Desk) -> None:
    case = desk.open("路边停车收费问题")
    with at(TUESDAY + timedelta(hours=1)):
        deputy = desk.client("deputy")  # may view and assign, not reply
        page = desk.page(deputy, case)
        assert 'id="reply-text"' not in page
        assert "/act" not in page
        assert deputy.post(f"/console/cases/{case.id}/reply", {"text": "好的"}).status_code == 403
        assert deputy.post(f"/console/cases/{case.id}/act", {"action": "answer"}).status_code == 403
        assert deputy.post("/console/cases/canned", {"title": "x", "body": "y"}).status_code == 403
        officer = desk.client("officer")  # may reply, not assign
        officer_page = desk.page(officer, case)
        assert f'action="/console/cases/{case.id}/assign"' not in officer_page
        assert officer.post(f"/console/cases/{case.id}/assign", {"department": "law"}).status_code == 403
        reviewer = desk.client("rev")  # no cases.view at all
        assert reviewer.get("/console/cases/").status_code == 403
        assert reviewer.get(f"/console/cases/{case.id}").status_code == 403
        assert 'href="/console/cases/"' not in text(reviewer.get("/console/"))
        assert 'href="/console/cases/"' in text(officer.get("/console/"))
        # no CSRF token: refused before anything happens
        assert (
            officer.post(f"/console/cases/{case.id}/reply", {"text": "无令牌"}, csrf=False).status_code == 400
        )
        assert ConsoleClient(desk.app).get(f"/console/cases/{case.id}").status_code == 302
    [untouched] = desk.cases()
    assert untouched.status is CaseStatus.OPEN
    assert untouched.department in ("", "general")


def test_admins_manage_canned_replies_and_deactivated_ones_leave_the_reply_box(desk: Desk) -> None:
    case = desk.open("垃圾清运不及时")
    with at(TUESDAY + timedelta(hours=1)):
        boss = desk.client("boss")
        added = boss.post(
            "/console/cases/canned",
            {"title": "已转办", "body": "您反映的问题已转相关科室办理。", "active": "1"},
        )
        assert added.status_code == 302
        admin_page = text(boss.get("/console/cases/canned"))
        assert "已保存常用回复“已转办”。" in flashes(admin_page)
        assert "您反映的问题已转相关科室办理。" in admin_page
        [reply_id] = re.findall(r'data-canned="(\d+)"', admin_page)
        officer = desk.client("officer")
        assert "已转办" in desk.page(officer, case)
        assert officer.get("/console/cases/canned").status_code == 403
        boss.post(
            "/console/cases/canned",
            {"id": reply_id, "title": "已转办科室", "body": "已转相关科室。", "position": "2"},
        )  # no "active": deactivated
        assert "已转办" not in desk.page(officer, case)
        assert "已停用" in text(boss.get("/console/cases/canned"))
        assert boss.post("/console/cases/canned", {"title": "", "body": ""}).status_code == 302
    with unit(desk.app) as session:
        [row] = session.scalars(select(CannedReply)).all()
        assert (row.title, row.active, row.position) == ("已转办科室", False, 2)
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.canned")).all()
    assert len(audited) == 2


def test_the_duty_roster_lists_and_adds_shifts(desk: Desk) -> None:
    with at(TUESDAY):
        boss = desk.client("boss")
        added = boss.post(
            "/console/cases/duty",
            {"username": "officer", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T20:00"},
        )
        assert added.status_code == 302
        page = text(boss.get("/console/cases/duty"))
        assert "已添加值班安排。" in flashes(page)
        assert re.search(r"<td>办理员甲</td><td>2026-12-01 08:00</td><td>2026-12-01 20:00</td>", page)
        assert "当前值班：办理员甲" in page
        boss.post(
            "/console/cases/duty",
            {"username": "officer", "starts_at": "2026-12-02T20:00", "ends_at": "2026-12-02T08:00"},
        )
        assert "值班结束时间须晚于开始时间。" in flashes(text(boss.get("/console/cases/duty")))
        officer = desk.client("officer")
        assert "当前值班：办理员甲" in text(officer.get("/console/cases/duty"))
        assert (
            officer.post(
                "/console/cases/duty",
                {"username": "officer", "starts_at": "2026-12-03T08:00", "ends_at": "2026-12-03T20:00"},
            ).status_code
            == 403
        )
    with unit(desk.app) as session:
        assert (
            len(service.shifts(session, since=TUESDAY - timedelta(days=1), until=TUESDAY + timedelta(days=5)))
            == 1
        )


def test_the_answer_link_opens_only_with_a_valid_signature(desk: Desk) -> None:
    case = desk.open("小区垃圾房异味很大")
    with at(TUESDAY + timedelta(days=3)):
        officer = desk.client("officer")
        officer.post(f"/console/cases/{case.id}/note", {"text": "内部：先查物业责任"})
        officer.post(f"/console/cases/{case.id}/reply", {"text": "已通知物业每日清洗。"})
        drain(desk.app)
    [template] = desk.fake.sent_templates
    path = template["url"].removeprefix(BASE_URL)
    client = desk.app.test_client()
    with at(TUESDAY + timedelta(days=4)):
        page = client.get(path)
        assert page.status_code == 200
        body = text(page)
        assert case.number in body
        assert "小区垃圾房异味很大" in body
        assert "已通知物业每日清洗。" in body
        assert "先查物业责任" not in body  # notes never leave the console
        assert OPENID not in body
        assert 'name="viewport"' in body
        forged = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
        assert forged.status_code in (403, 410)
        assert "链接已失效" in text(forged)
        other_secret = links.make_token("another-secret", case.id)
        assert client.get(links.PATH + other_secret).status_code in (403, 410)
    with at(TUESDAY + timedelta(days=40)):  # past link_max_age_days
        expired = client.get(path)
        assert expired.status_code in (403, 410)
        assert "链接已失效" in text(expired)


def test_the_public_list_shows_public_cases_anonymised(desk: Desk) -> None:
    with at(TUESDAY):
        desk.say("投诉 人民路夜市占道，我是张三，电话13912345678")
        desk.say("路灯不亮", openid=OTHER)
    public_case, private_case = desk.cases()
    with at(TUESDAY + timedelta(hours=1)):
        officer = desk.client("officer")
        officer.post(f"/console/cases/{public_case.id}/reply", {"text": "已安排执法队员巡查。"})
        officer.post(f"/console/cases/{private_case.id}/reply", {"text": "已修复。"})
        officer.post(f"/console/cases/{public_case.id}/act", {"action": "public", "title": "人民路夜市占道"})
        drain(desk.app)
    page = desk.app.test_client().get("/answers/public/")
    assert page.status_code == 200
    body = text(page)
    assert public_case.number in body
    assert "人民路夜市占道" in body
    assert "已安排执法队员巡查。" in body
    assert private_case.number not in body
    assert "13912345678" not in body
    assert "139****5678" in body
    assert OPENID not in body
    assert "办理员甲" not in body
    assert "officer" not in body


def test_statistics_show_the_monthly_figures_and_export_them_as_csv(desk: Desk) -> None:
    with at(TUESDAY):
        desk.say("噪音扰民")
        desk.say("占道经营", openid=OTHER)
    first, _ = desk.cases()
    with at(TUESDAY + timedelta(hours=3)):
        officer = desk.client("officer")
        officer.post(f"/console/cases/{first.id}/reply", {"text": "已处理。"})
        drain(desk.app)
        boss = desk.client("boss")
        page = text(boss.get("/console/stats/?start=2026-11-01&end=2026-12-01"))
        assert "有问必答 · 月度统计" in page
        row = re.search(r'<tr data-month="2026-12">(.*?)</tr>', page, flags=re.S)
        assert row is not None
        assert re.findall(r"<td>([^<]*)</td>", row.group(1))[:5] == ["2026-12", "2", "1", "1", "3.0"]
        november = re.search(r'<tr data-month="2026-11">(.*?)</tr>', page, flags=re.S)
        assert november is not None
        assert re.findall(r"<td>([^<]*)</td>", november.group(1))[1] == "0"
        export = boss.get("/console/cases/figures.csv?start=2026-11-01&end=2026-12-01")
        assert export.status_code == 200
        assert export.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        assert rows[0][:5] == ["月份", "收到", "已答复", "按期答复", "答复用时中位数（小时）"]
        assert rows[1][0] == "2026-11"
        assert rows[2][:5] == ["2026-12", "2", "1", "1", "3.0"]
        assert ConsoleClient(desk.app).get("/console/cases/figures.csv").status_code == 302  # login first
    with unit(desk.app) as session:
        reply = session.scalars(select(CaseDelivery).where(CaseDelivery.kind == "reply")).one()
        assert reply.case_id == first.id


def test_a_case_with_a_photo_and_a_location_becomes_a_report(desk: Desk) -> None:
    settings = desk.app.config["CITYBOT"].section(CasesSettings)
    with unit(desk.app) as session:
        intake = service.open_or_join(
            session,
            settings,
            openid=OPENID,
            incoming=service.Incoming("text", "留言 路边乱扔垃圾"),
            now=TUESDAY,
        )
        case_id = intake.case.id
        for incoming in (
            service.Incoming("image", media_id="MEDIA-1", pic_url="https://mmbiz.example/1.jpg"),
            service.Incoming("location", "人民路口", lat=31.30, lon=120.60),
        ):
            service.open_or_join(session, settings, openid=OPENID, incoming=incoming, now=TUESDAY)
    with at(TUESDAY + timedelta(hours=1)):
        officer = desk.client("officer")
        page = text(officer.get(f"/console/cases/{case_id}"))
        assert "位置：31.30000, 120.60000" in page
        assert 'href="https://uri.amap.com/navigation?to=120.600000,31.300000,' in page
        assert 'href="https://mmbiz.example/1.jpg"' in page
        category = re.search(r'<select id="c-category" name="category"><option value="([\w-]+)"', page)
        assert category is not None
        converted = officer.post(f"/console/cases/{case_id}/convert", {"category": category.group(1)})
        assert converted.status_code == 302
        after = text(officer.get(f"/console/cases/{case_id}"))
    assert "已转为随手拍 SP" in " ".join(flashes(after))
    assert "此留言已转为随手拍，不能再办理。" in after
    assert 'id="reply-text"' not in after
    with unit(desk.app) as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert case.status is CaseStatus.CONVERTED
        assert case.report_id is not None
        kinds = [e.kind for e in service.thread(session, case)]
    assert kinds.count(EntryKind.RESIDENT) == 3  # the thread stays


def test_no_case_page_shows_a_raw_code(desk: Desk) -> None:
    case = desk.open("路灯不亮，电话13700001111")
    with at(TUESDAY + timedelta(hours=1)):
        boss = desk.client("boss")
        boss.post(f"/console/cases/{case.id}/assign", {"department": "city", "assignee": "officer"})
        boss.post(f"/console/cases/{case.id}/note", {"text": "先核实"})
        boss.post(f"/console/cases/{case.id}/reply", {"text": "已修复。"})
        drain(desk.app)
        boss.post(f"/console/cases/{case.id}/act", {"action": "public"})
        boss.post(f"/console/cases/{case.id}/act", {"action": "close"})
        boss.post("/console/cases/canned", {"title": "热线", "body": "请拨打12319。", "active": "1"})
        boss.post(
            "/console/cases/duty",
            {"username": "officer", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T20:00"},
        )
        drain(desk.app)
        for path in (
            "/console/cases/",
            "/console/cases/?status=all",
            f"/console/cases/{case.id}",
            "/console/cases/canned",
            "/console/cases/duty",
            "/console/audit/",
        ):
            response = boss.get(path)
            assert response.status_code == 200, path
            shown = visible(text(response))
            assert RAW.findall(shown) == [], path
            assert re.findall(r"\bcase\.\w+|\b(?:open|assigned|answered|closed|converted)\b", shown) == [], (
                path
            )
    public = visible(text(desk.app.test_client().get("/answers/public/")))
    assert RAW.findall(public) == []
    assert re.findall(r"\b(?:message|question|complaint|suggestion)\b", public) == []

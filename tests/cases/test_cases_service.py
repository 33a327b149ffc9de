"""有问必答's service API on both backends: numbers, deadlines in working days, joining, the
window, replies, closing, satisfaction and reopening, queue, counts, figures, the public list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from bot.core import services
from bot.core.residents import touch
from broadcasts.screening import load_lexicon
from cases import service, workdays
from cases.errors import CasesError
from cases.models import CaseDelivery, CaseStatus, DeliveryStatus, EntryKind, Rating, Topic
from cases.service import Incoming, QueueFilter
from cases.services import CasesServices
from cases.settings import CasesSettings
from reports.roles import PermissionDeniedError, staff_actor
from staff.roles import Role
from tests.support.reports import FakeSender, add_staff, unit

pytestmark = pytest.mark.contract

OPENID = "oResidentCase0000000000001"
OFFICER = staff_actor("officer", Role.CASE_OFFICER)
CHIEF = staff_actor("chief", Role.SECTION_CHIEF)
ADMIN = staff_actor("boss", Role.ADMIN)
REVIEWER = staff_actor("rev-a", Role.REVIEWER)
# Wednesday 30 September 2026, 10:00 in Shanghai: the day before the National Day holiday.
BEFORE_NATIONAL_DAY = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _recording_sender(app: Flask) -> FakeSender:
    """The delivery jobs that run after each commit send to this, never to WeChat."""
    sender = FakeSender()
    services.of(app).get(CasesServices).sender = sender
    return sender


def _settings(app: Flask) -> CasesSettings:
    return services.settings(app).section(CasesSettings)


def _text(content: str) -> Incoming:
    return Incoming("text", content)


def test_numbers_are_per_local_day_and_the_deadline_skips_the_holiday_and_counts_the_makeup_day(
    app: Flask,
) -> None:
    settings = _settings(app)
    with unit(app) as session:
        first = service.open_or_join(
            session, settings, openid=OPENID, incoming=_text("路灯不亮"), now=BEFORE_NATIONAL_DAY
        )
        other = service.open_or_join(
            session, settings, openid="o-other", incoming=_text("井盖丢了"), now=BEFORE_NATIONAL_DAY
        )
        # 23:30 UTC on the 30th is already 1 October in Shanghai: a new day, a new sequence
        late = service.open_or_join(
            session,
            settings,
            openid="o-late",
            incoming=_text("噪音"),
            now=datetime(2026, 9, 30, 16, 30, tzinfo=UTC),
        )
        assert (first.case.number, other.case.number, late.case.number) == (
            "LY20260930-0001",
            "LY20260930-0002",
            "LY20261001-0001",
        )
        assert not first.joined
        assert first.case.status is CaseStatus.OPEN
        # 1-7 October are holidays; Thu 8 (1), Fri 9 (2), Sat 10 the make-up working day (3),
        # Mon 12 (4), Tue 13 (5): the end of office hours, 17:30 in Shanghai
        assert first.case.due_at == datetime(2026, 10, 13, 9, 30, tzinfo=UTC)
        assert not first.outside_hours
        assert late.outside_hours  # a holiday night


def test_the_calendar_table_overrides_the_package_and_beyond_its_years_weekends_count(app: Flask) -> None:
    with unit(app) as session:
        assert workdays.add_working_days(session, date(2026, 9, 30), 5) == date(2026, 10, 13)
        workdays.mark_day(session, date(2026, 10, 12), working=False, note="临时调整")
        workdays.mark_day(session, date(2026, 10, 11), working=True)
        assert not workdays.is_working_day(session, date(2026, 10, 12))
        assert workdays.add_working_days(session, date(2026, 9, 30), 5) == date(2026, 10, 13)
        workdays.mark_day(session, date(2026, 10, 11), working=False)
        assert workdays.add_working_days(session, date(2026, 9, 30), 5) == date(2026, 10, 14)
        # the package knows nothing of 2031: Monday to Friday, plus the table
        assert workdays.add_working_days(session, date(2031, 1, 3), 1) == date(2031, 1, 6)
        workdays.mark_day(session, date(2031, 1, 4), working=True)
        assert workdays.add_working_days(session, date(2031, 1, 3), 1) == date(2031, 1, 4)


def test_messages_within_the_join_time_join_the_open_case_and_a_prefix_opens_a_new_one(app: Flask) -> None:
    settings = _settings(app)
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with unit(app) as session:
        first = service.open_or_join(
            session, settings, openid=OPENID, incoming=_text("垃圾没人收"), now=start
        )
        again = service.open_or_join(
            session,
            settings,
            openid=OPENID,
            incoming=Incoming("voice", "在三号楼下面"),
            now=start + timedelta(hours=70),
        )
        assert again.joined
        assert again.case.id == first.case.id
        later = service.open_or_join(
            session,
            settings,
            openid=OPENID,
            incoming=_text("还是没人收"),
            now=start + timedelta(hours=70 + 73),
        )
        assert not later.joined
        assert later.case.id != first.case.id
        topic, rest = service.split_prefix("投诉：占道经营")
        assert (topic, rest) == (Topic.COMPLAINT, "占道经营")
        fresh = service.open_or_join(
            session,
            settings,
            openid=OPENID,
            incoming=_text(rest),
            now=start + timedelta(hours=144),
            topic=topic,
            new_case=True,
        )
        assert fresh.case.topic is Topic.COMPLAINT
        assert fresh.case.id != later.case.id
        kinds = [(e.kind, e.msg_type, e.content) for e in service.thread(session, first.case)]
        assert kinds == [
            (EntryKind.RESIDENT, "text", "垃圾没人收"),
            (EntryKind.RESIDENT, "voice", "在三号楼下面"),
        ]
        assert [c.id for c in service.cases_of(session, OPENID)] == [
            fresh.case.id,
            later.case.id,
            first.case.id,
        ]


def test_the_window_counts_customer_service_messages_since_the_residents_last_message(app: Flask) -> None:
    settings = _settings(app)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with unit(app) as session:
        assert service.window_state(session, settings, OPENID, now) == service.Window(False, None, 0)
        intake = service.open_or_join(session, settings, openid=OPENID, incoming=_text("问一下"), now=now)
        touch(session, OPENID, by_message=True)
        resident_last = now
        from_resident = session.get(service.Resident, OPENID)
        assert from_resident is not None
        from_resident.last_message_at = resident_last
        for minute in range(2):
            delivery = service.queue_delivery(session, intake.case, openid=OPENID, kind="reply", now=now)
            delivery.status, delivery.channel = DeliveryStatus.SENT, "text"
            delivery.sent_at = now + timedelta(minutes=minute + 1)
        session.flush()
        state = service.window_state(session, settings, OPENID, now + timedelta(hours=1))
        assert state.open
        assert state.until == now + timedelta(hours=48)
        assert state.messages_left == settings.window_messages - 2
        closed = service.window_state(session, settings, OPENID, now + timedelta(hours=48, seconds=1))
        assert (closed.open, closed.messages_left) == (False, 0)


def test_reply_close_rate_and_dissatisfaction_reopen_with_a_new_deadline(app: Flask) -> None:
    settings = _settings(app)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday
    with unit(app) as session:
        case = service.open_or_join(session, settings, openid=OPENID, incoming=_text("路灯"), now=now).case
        with pytest.raises(CasesError) as refused:
            service.close(session, settings, case, OFFICER, now=now)
        assert refused.value.code == "not_answered"
        with pytest.raises(PermissionDeniedError):
            service.reply(session, settings, case, REVIEWER, "好的", now=now)
        service.note(session, settings, case, OFFICER, "已电话联系路灯所", now=now)
        service.reply(session, settings, case, OFFICER, "已安排维修。", now=now + timedelta(hours=3))
        assert case.status is CaseStatus.ANSWERED
        assert case.answered_at == now + timedelta(hours=3)
        service.close(session, settings, case, OFFICER, now=now + timedelta(days=1))
        assert case.status is CaseStatus.CLOSED
        kinds = [d.kind for d in session.scalars(service.select(CaseDelivery).order_by(CaseDelivery.id))]
        assert kinds == ["reply", "rating"]
        assert service.pending_rating(session, OPENID, settings, now + timedelta(days=2)) is case
        assert service.parse_rating("3") is Rating.DISSATISFIED
        outcome = service.rate(
            session, settings, openid=OPENID, rating=Rating.DISSATISFIED, now=now + timedelta(days=2)
        )
        assert outcome.reopened
        assert case.status is CaseStatus.OPEN
        assert case.reopened_count == 1
        assert case.answered_at is None
        # reopened Thursday 3 December: five working days later is Thursday 10 December
        assert case.due_at == datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
        assert case.rating is Rating.DISSATISFIED
        with pytest.raises(CasesError):
            service.rate(
                session, settings, openid=OPENID, rating=Rating.SATISFIED, now=now + timedelta(days=3)
            )
        events = [e.msg_type for e in service.thread(session, case) if e.kind is EntryKind.EVENT]
        assert events == ["close", "rate", "reopen"]
        assert [e.kind for e in service.thread(session, case, include_notes=False)].count(EntryKind.NOTE) == 0


def test_a_rating_after_the_reopen_time_does_not_reopen(app: Flask) -> None:
    settings = _settings(app)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with unit(app) as session:
        case = service.open_or_join(session, settings, openid=OPENID, incoming=_text("路灯"), now=now).case
        service.reply(session, settings, case, OFFICER, "已修好。", now=now)
        service.close(session, settings, case, OFFICER, now=now)
        assert service.pending_rating(session, OPENID, settings, now + timedelta(days=8)) is None
        with pytest.raises(CasesError):
            service.rate(
                session, settings, openid=OPENID, rating=Rating.DISSATISFIED, now=now + timedelta(days=8)
            )
        assert case.status is CaseStatus.CLOSED


def test_assignment_queue_filters_and_counts(app: Flask) -> None:
    add_staff(app, {"officer": "case_officer", "rev-a": "reviewer"})
    settings = _settings(app)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with unit(app) as session:
        old = service.open_or_join(session, settings, openid="o-1", incoming=_text("井盖缺失"), now=now).case
        new = service.open_or_join(
            session, settings, openid="o-2", incoming=_text("广告牌松动"), now=now + timedelta(days=9)
        ).case
        with pytest.raises(CasesError) as refused:
            service.assign(session, settings, old, CHIEF, now=now, department="nowhere")
        assert refused.value.code == "unknown_department"
        with pytest.raises(CasesError):
            service.assign(session, settings, old, CHIEF, now=now, assignee="rev-a")  # no cases.view
        service.assign(session, settings, old, CHIEF, now=now, department="city", assignee="officer")
        assert old.status is CaseStatus.ASSIGNED
        later = now + timedelta(days=10)
        assert [c.id for c in service.queue(session, QueueFilter(), now=later)] == [old.id, new.id]
        assert [c.id for c in service.queue(session, QueueFilter(overdue=True), now=later)] == [old.id]
        assert [c.id for c in service.queue(session, QueueFilter(department="city"), now=later)] == [old.id]
        assert [c.id for c in service.queue(session, QueueFilter(words="广告"), now=later)] == [new.id]
        assert [c.id for c in service.queue(session, QueueFilter(words=new.number.lower()), now=later)] == [
            new.id
        ]
        assert old.assignee_id is not None
        assert [c.id for c in service.queue(session, QueueFilter(assignee=old.assignee_id), now=later)] == [
            old.id
        ]
        counts = service.counts(session, now=later)
        assert counts.by_status == {"assigned": 1, "open": 1}
        assert counts.by_department == {"city": 1, "general": 1}
        assert (counts.overdue, counts.total) == (1, 2)


def test_screening_flags_never_deletes_and_openids_and_phones_are_masked(app: Flask) -> None:
    settings = _settings(app)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with unit(app) as session:
        intake = service.open_or_join(
            session,
            settings,
            openid=OPENID,
            incoming=_text("有人代开发票，电话13800138000"),
            now=now,
            lexicon=load_lexicon(""),
        )
        assert intake.flagged
        assert intake.case.flagged
        assert intake.entry.content == "有人代开发票，电话13800138000"
        assert intake.entry.details["hits"][0]["term"] == "代开发票"
        assert service.shown_text(intake.entry.content, OFFICER) == "有人代开发票，电话138****8000"
        assert service.shown_text(intake.entry.content, ADMIN) == intake.entry.content
        assert service.shown_openid(OPENID, OFFICER) == "oRes…0001"
        assert service.shown_openid(OPENID, ADMIN) == OPENID
        assert [c.id for c in service.queue(session, QueueFilter(flagged=True), now=now)] == [intake.case.id]


def test_public_list_is_anonymised_and_figures_count_the_month(app: Flask) -> None:
    settings = _settings(app)
    now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday
    with unit(app) as session:
        a = service.open_or_join(
            session, settings, openid="o-a", incoming=_text("我是张三13900001111，路灯坏"), now=now
        ).case
        b = service.open_or_join(session, settings, openid="o-b", incoming=_text("树倒了"), now=now).case
        c = service.open_or_join(session, settings, openid="o-c", incoming=_text("噪音"), now=now).case
        with pytest.raises(CasesError):
            service.mark_public(session, a, OFFICER, now=now)
        service.reply(
            session, settings, a, OFFICER, "已修复，联系13900001111回访。", now=now + timedelta(hours=2)
        )
        service.reply(session, settings, b, OFFICER, "已清理。", now=now + timedelta(days=30))  # late
        service.close(session, settings, a, OFFICER, now=now + timedelta(hours=3))
        service.rate(session, settings, openid="o-a", rating=Rating.SATISFIED, now=now + timedelta(hours=4))
        service.mark_public(session, a, OFFICER, now=now, title="路灯维修")
        [shown] = service.public_list(session)
        assert shown.number == a.number
        assert shown.title == "路灯维修"
        assert "13900001111" not in shown.question + shown.answer
        assert "139****1111" in shown.question
        assert not hasattr(shown, "openid")
        figures = service.monthly_figures(session, settings, 2026, 11)
        assert (figures.received, figures.answered, figures.answered_on_time) == (3, 2, 1)
        assert figures.median_hours == pytest.approx((2 + 720) / 2)
        assert figures.rated == 1
        assert figures.satisfaction == {"satisfied": 1.0, "fair": 0.0, "dissatisfied": 0.0}
        assert service.monthly_figures(session, settings, 2026, 10).received == 0
        rows = service.figures_rows([figures], ["m", "r", "a", "t", "h", "n", "s", "f", "d"])
        assert rows[1] == ["2026-11", "3", "2", "1", "361.0", "1", "100.0", "0.0", "0.0"]
        assert c.status is CaseStatus.OPEN

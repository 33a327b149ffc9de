"""有问必答's service API: every act on a case, for the chat, the console and the command line.

Functions take the unit of work (``session``) and never commit. Staff acts take a
:class:`reports.roles.Actor` (the one permission model: ``staff/roles.py``) and are written to the
one audit trail (target kind ``case``) and to the case's thread. Messages to residents and staff are
queued in the outbox (``case_deliveries``) in the same unit of work and delivered by a job after the
commit (``cases.jobs.deliver``).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.core import audit, numbering
from bot.core.geo import Datum, GeoPoint
from bot.core.jobs import defer
from bot.core.residents import Resident, get_or_create
from bot.core.store import Store
from broadcasts.screening import Lexicon
from cases import workdays
from cases.errors import CasesError
from cases.models import (
    JOINABLE,
    WAITING,
    CannedReply,
    Case,
    CaseCounter,
    CaseDelivery,
    CaseMessage,
    CaseStatus,
    DeliveryStatus,
    DutyShift,
    EntryKind,
    Rating,
    Topic,
)
from cases.settings import CasesSettings
from reports.intake import PhotoRef, submit_report
from reports.models import Report, category_by_code
from reports.phones import mask
from reports.roles import Actor
from reports.settings import ReportsSettings
from reports.storage import Storage
from staff.models import Staff, by_username, with_permission
from staff.roles import Permission

TARGET = "case"  # the audit trail's target kind of a case
DELIVER_JOB = "cases.jobs.deliver"
SUBJECT_LENGTH = 40

# The words a resident may start a message with, and the topic each gives the case.
PREFIXES: dict[str, Topic] = {
    "留言": Topic.MESSAGE,
    "咨询": Topic.QUESTION,
    "投诉": Topic.COMPLAINT,
    "建议": Topic.SUGGESTION,
}
_PREFIX = re.compile(r"^\s*(留言|咨询|投诉|建议)\s*[:：,，\s]*")
# Satisfaction answers (words or the digits the question offers).
RATINGS: dict[str, Rating] = {
    "满意": Rating.SATISFIED,
    "1": Rating.SATISFIED,
    "基本满意": Rating.FAIR,
    "2": Rating.FAIR,
    "不满意": Rating.DISSATISFIED,
    "3": Rating.DISSATISFIED,
}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


# -- values handed in and out ---------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One resident message as the case records it (WeChat's MsgType and what it carries)."""

    msg_type: str  # text, voice (content: WeChat's recognition), image, link, location, click
    content: str = ""
    media_id: str = ""
    pic_url: str = ""
    url: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Intake:
    """What :func:`open_or_join` did: the case, the new thread entry, whether it joined an open case,
    whether the message was flagged by the lexicon, and whether it arrived outside office hours."""

    case: Case
    entry: CaseMessage
    joined: bool
    flagged: bool
    outside_hours: bool


@dataclass(frozen=True)
class RateOutcome:
    case: Case
    rating: Rating
    reopened: bool


@dataclass(frozen=True)
class Window:
    """The resident's customer-service window: open until ``until``, ``messages_left`` allowed."""

    open: bool
    until: datetime | None
    messages_left: int
    used: int = 0


@dataclass(frozen=True)
class QueueFilter:
    """Filters of the inbox queue; empty values filter nothing. ``assignee`` is a staff id."""

    statuses: tuple[CaseStatus, ...] = ()
    department: str = ""
    assignee: int | None = None
    overdue: bool = False
    words: str = ""
    flagged: bool = False


@dataclass(frozen=True)
class QueueCounts:
    by_status: dict[str, int]
    by_department: dict[str, int]
    overdue: int
    flagged: int
    total: int


@dataclass(frozen=True)
class MonthlyFigures:
    year: int
    month: int
    received: int
    answered: int
    answered_on_time: int
    median_hours: float | None  # from receipt to the first answer
    rated: int
    satisfaction: dict[str, float] = field(default_factory=dict)  # rating -> share of rated (0..1)


@dataclass(frozen=True)
class PublicCase:
    """An answered case as the public list shows it: no openid, no phone number, no name."""

    number: str
    topic: Topic
    title: str
    question: str
    answer: str
    received_at: datetime
    answered_at: datetime | None


# -- reading ---------------------------------------------------------------------------------------


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """SQL for "overdue at ``now``": still waiting for an answer past its deadline."""
    return and_(Case.status.in_(WAITING), Case.due_at < now)


def is_overdue(case: Case, now: datetime) -> bool:
    """The same rule as :func:`overdue_condition`, for one case."""
    return case.status in WAITING and case.due_at < now


def find_case(session: Session, ref: int | str) -> Case | None:
    """By id, or by number (``LY20261201-0001``, any case)."""
    if isinstance(ref, int) or ref.strip().isdigit():
        return session.get(Case, int(ref))
    return session.scalars(select(Case).where(Case.number == ref.strip().upper())).one_or_none()


def require_case(session: Session, ref: int | str) -> Case:
    case = find_case(session, ref)
    if case is None:
        raise CasesError("no_such_case", f"no case {ref}", number=str(ref))
    return case


def cases_of(session: Session, openid: str, *, limit: int = 5) -> list[Case]:
    """The resident's latest cases, newest first (我的留言)."""
    query = select(Case).where(Case.openid == openid).order_by(Case.id.desc()).limit(limit)
    return list(session.scalars(query))


def thread(session: Session, case: Case, *, include_notes: bool = True) -> list[CaseMessage]:
    """The case's entries in order; ``include_notes=False`` leaves internal notes out."""
    query = select(CaseMessage).where(CaseMessage.case_id == case.id).order_by(CaseMessage.id)
    if not include_notes:
        query = query.where(CaseMessage.kind != EntryKind.NOTE)
    return list(session.scalars(query))


def open_case_of(session: Session, openid: str, now: datetime, settings: CasesSettings) -> Case | None:
    """The resident's case a new message joins: joinable, its last resident message within
    ``[cases] join_within``."""
    query = (
        select(Case)
        .where(
            Case.openid == openid,
            Case.status.in_(JOINABLE),
            Case.last_resident_at >= now - settings.join_window,
        )
        .order_by(Case.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def queue(
    session: Session,
    filters: QueueFilter = QueueFilter(),
    *,
    now: datetime,
    limit: int = 50,
    offset: int = 0,
) -> list[Case]:
    """The inbox, oldest first. ``words`` matches the number, the subject or any thread text."""
    query = select(Case).order_by(Case.received_at, Case.id).limit(limit).offset(offset)
    if filters.statuses:
        query = query.where(Case.status.in_(filters.statuses))
    if filters.department:
        query = query.where(Case.department == filters.department)
    if filters.assignee is not None:
        query = query.where(Case.assignee_id == filters.assignee)
    if filters.overdue:
        query = query.where(overdue_condition(now))
    if filters.flagged:
        query = query.where(Case.flagged.is_(True))
    words = filters.words.strip()
    if words:
        in_thread = exists().where(
            CaseMessage.case_id == Case.id,
            CaseMessage.kind != EntryKind.DELIVERY,
            CaseMessage.content.contains(words, autoescape=True),
        )
        query = query.where(
            or_(Case.number == words.upper(), Case.subject.contains(words, autoescape=True), in_thread)
        )
    return list(session.scalars(query))


def counts(session: Session, *, now: datetime) -> QueueCounts:
    """Counts per status and per department (of cases waiting), overdue and flagged ones."""
    by_status = {
        str(status): n
        for status, n in session.execute(select(Case.status, func.count()).group_by(Case.status))
    }
    by_department = {
        department: n
        for department, n in session.execute(
            select(Case.department, func.count()).where(Case.status.in_(WAITING)).group_by(Case.department)
        )
    }
    overdue = session.scalar(select(func.count()).select_from(Case).where(overdue_condition(now))) or 0
    flagged = (
        session.scalar(
            select(func.count()).select_from(Case).where(Case.flagged.is_(True), Case.status.in_(WAITING))
        )
        or 0
    )
    return QueueCounts(by_status, by_department, overdue, flagged, sum(by_status.values()))


def window_state(session: Session, settings: CasesSettings, openid: str, now: datetime) -> Window:
    """Whether a customer-service message can reach ``openid`` now: within ``service_window_hours``
    of their last message, and how many of ``window_messages`` are left since then."""
    resident = session.get(Resident, openid)
    last = None if resident is None else resident.last_message_at
    if last is None:
        return Window(False, None, 0)
    until = last + timedelta(hours=settings.service_window_hours)
    used = (
        session.scalar(
            select(func.count())
            .select_from(CaseDelivery)
            .where(
                CaseDelivery.openid == openid, CaseDelivery.channel == "text", CaseDelivery.sent_at >= last
            )
        )
        or 0
    )
    is_open = now < until
    return Window(is_open, until, max(0, settings.window_messages - used) if is_open else 0, used)


def shown_openid(openid: str, viewer: Actor | None) -> str:
    """An openid in full for staff holding ``cases.contact``, else masked (``oRes…0001``)."""
    if viewer is not None and viewer.can(Permission.CASES_CONTACT):
        return openid
    return f"{openid[:4]}…{openid[-4:]}" if len(openid) > 8 else "…"


def shown_text(text: str, viewer: Actor | None) -> str:
    """A resident's text with mobile numbers masked unless the viewer holds ``cases.contact``."""
    if viewer is not None and viewer.can(Permission.CASES_CONTACT):
        return text
    return mask_phones(text)


def mask_phones(text: str) -> str:
    """Mainland mobile numbers in ``text`` masked as ``138****8000``."""
    return _PHONE.sub(lambda m: mask(m.group(0)), text)


def department_name(settings: CasesSettings, code: str) -> str:
    return settings.departments.get(code, code)


# -- the resident's side ---------------------------------------------------------------------------


def split_prefix(text: str) -> tuple[Topic | None, str]:
    """``投诉：路灯坏了`` -> (COMPLAINT, ``路灯坏了``); no prefix -> (None, text)."""
    found = _PREFIX.match(text)
    if not found:
        return None, text
    return PREFIXES[found.group(1)], text[found.end() :]


def _subject(incoming: Incoming) -> str:
    text = " ".join(incoming.content.split())
    return text[:SUBJECT_LENGTH]


def open_or_join(
    session: Session,
    settings: CasesSettings,
    *,
    openid: str,
    incoming: Incoming,
    now: datetime,
    topic: Topic | None = None,
    lexicon: Lexicon | None = None,
    new_case: bool = False,
) -> Intake:
    """Record a resident's message: it joins their open case (within ``join_within``), or opens a
    new one with a number and a working-day deadline. ``new_case`` always opens one (a prefix such
    as 投诉 asks for a new case). Screening hits flag the message and the case and alert the staff on
    duty; a case that arrives outside office hours alerts them too."""
    get_or_create(session, openid)
    case = None if new_case else open_case_of(session, openid, now, settings)
    joined = case is not None
    outside = False
    if case is None:
        department = settings.default_department
        outside = not workdays.in_office_hours(session, settings, now)
        case = Case(
            number=numbering.next_number(
                session, CaseCounter, settings.number_prefix, settings.timezone, now
            ),
            openid=openid,
            topic=topic or Topic.MESSAGE,
            status=CaseStatus.OPEN,
            department=department,
            subject=_subject(incoming),
            received_at=now,
            last_resident_at=now,
            updated_at=now,
            due_at=workdays.deadline(session, settings, now, settings.deadline_days_for(department)),
            outside_hours=outside,
        )
        session.add(case)
        session.flush()
        _audit(session, case, "case.open", "resident", now, topic=case.topic)
    else:
        case.last_resident_at = now
        case.updated_at = now
        if not case.subject:
            case.subject = _subject(incoming)
    hits = lexicon.screen_text(incoming.content) if lexicon is not None and incoming.content else []
    entry = CaseMessage(
        case_id=case.id,
        kind=EntryKind.RESIDENT,
        msg_type=incoming.msg_type,
        content=incoming.content[: settings.max_text * 2],
        media_id=incoming.media_id,
        pic_url=incoming.pic_url,
        url=incoming.url,
        lat=incoming.lat,
        lon=incoming.lon,
        flagged=bool(hits),
        details={"hits": [{"term": h.term, "category": h.category, "kind": str(h.kind)} for h in hits]}
        if hits
        else {},
        created_at=now,
    )
    session.add(entry)
    session.flush()
    if hits:
        case.flagged = True
        _event(session, case, "flag", now, details={"terms": sorted({h.term for h in hits})})
        _alert_duty(session, case, "flag", now)
    if outside:
        _alert_duty(session, case, "outside_hours", now)
    return Intake(case, entry, joined, bool(hits), outside)


def pending_rating(session: Session, openid: str, settings: CasesSettings, now: datetime) -> Case | None:
    """The resident's closed case whose satisfaction question waits for an answer (within
    ``reopen_within_days`` of closing)."""
    query = (
        select(Case)
        .where(
            Case.openid == openid,
            Case.status == CaseStatus.CLOSED,
            Case.rating_requested_at.is_not(None),
            Case.rating.is_(None),
            Case.closed_at >= now - timedelta(days=settings.reopen_within_days),
        )
        .order_by(Case.closed_at.desc(), Case.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def parse_rating(text: str) -> Rating | None:
    return RATINGS.get(text.strip())


def rate(
    session: Session, settings: CasesSettings, *, openid: str, rating: Rating, now: datetime
) -> RateOutcome:
    """The resident's satisfaction with their case waiting for it; 不满意 within
    ``reopen_within_days`` of closing reopens the case with a new deadline."""
    case = pending_rating(session, openid, settings, now)
    if case is None:
        raise CasesError("bad_rating", f"{openid} has no case waiting for a rating")
    case.rating = rating
    case.rated_at = now
    case.updated_at = now
    _event(session, case, "rate", now, details={"rating": rating})
    _audit(session, case, "case.rate", "resident", now, rating=rating)
    reopened = False
    if rating is Rating.DISSATISFIED:
        _reopen(session, settings, case, now)
        reopened = True
    return RateOutcome(case, rating, reopened)


# -- staff acts ------------------------------------------------------------------------------------


def _require(actor: Actor, permission: Permission, act: str) -> None:
    actor.require(permission, act)


def _writable(case: Case) -> None:
    if case.status is CaseStatus.CONVERTED:
        raise CasesError("converted", f"case {case.number} became a report", number=case.number)


def _text(settings: CasesSettings, text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        raise CasesError("empty_text", "the text is empty")
    if len(cleaned) > settings.max_text:
        raise CasesError("too_long", f"at most {settings.max_text} characters", max=settings.max_text)
    return cleaned


def _event(
    session: Session,
    case: Case,
    code: str,
    now: datetime,
    *,
    actor: Actor | None = None,
    content: str = "",
    details: dict[str, object] | None = None,
) -> CaseMessage:
    entry = CaseMessage(
        case_id=case.id,
        kind=EntryKind.EVENT,
        msg_type=code,
        content=content,
        staff_id=None if actor is None else actor.staff_id,
        actor="system" if actor is None else actor.name,
        details={
            k: str(v) if not isinstance(v, list | int | bool) else v for k, v in (details or {}).items()
        },
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def _audit(
    session: Session, case: Case, action: str, actor: Actor | str, now: datetime, **details: object
) -> None:
    """One entry of the audit trail about ``case``: by a staff member, or by "resident" / "system"."""
    staff = actor if isinstance(actor, Actor) else None
    audit.record(
        session,
        action,
        actor=staff.name if staff is not None else str(actor),
        staff_id=None if staff is None else staff.staff_id,
        target_kind=TARGET,
        target_id=case.id,
        target=case.number,
        details=details if staff is None else {"role": staff.role, **details},
        at=now,
    )


def queue_delivery(
    session: Session,
    case: Case,
    *,
    openid: str,
    kind: str,
    now: datetime,
    message: CaseMessage | None = None,
    payload: dict[str, object] | None = None,
) -> CaseDelivery:
    """An outbox row, delivered by a job after the commit."""
    delivery = CaseDelivery(
        case_id=case.id,
        message_id=None if message is None else message.id,
        openid=openid,
        kind=kind,
        status=DeliveryStatus.PENDING,
        payload=dict(payload or {}),
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    defer(session, DELIVER_JOB, delivery.id)
    return delivery


def reply(
    session: Session, settings: CasesSettings, case: Case, actor: Actor, text: str, *, now: datetime
) -> CaseMessage:
    """A staff reply: recorded on the thread, the case answered, the text queued for the resident
    (customer-service message inside the window, else a template message with a link)."""
    _require(actor, Permission.CASES_REPLY, "replying to a case")
    _writable(case)
    body = _text(settings, text)
    entry = CaseMessage(
        case_id=case.id,
        kind=EntryKind.REPLY,
        msg_type="text",
        content=body,
        staff_id=actor.staff_id,
        actor=actor.name,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    if case.status in WAITING or case.status is CaseStatus.CLOSED:
        case.status = CaseStatus.ANSWERED
    if case.answered_at is None:
        case.answered_at = now
    case.updated_at = now
    queue_delivery(session, case, openid=case.openid, kind="reply", now=now, message=entry)
    _audit(session, case, "case.reply", actor, now)
    return entry


def note(
    session: Session, settings: CasesSettings, case: Case, actor: Actor, text: str, *, now: datetime
) -> CaseMessage:
    """An internal note on the thread, never sent to the resident."""
    _require(actor, Permission.CASES_VIEW, "writing a note")
    entry = CaseMessage(
        case_id=case.id,
        kind=EntryKind.NOTE,
        msg_type="text",
        content=_text(settings, text),
        staff_id=actor.staff_id,
        actor=actor.name,
        created_at=now,
    )
    session.add(entry)
    case.updated_at = now
    session.flush()
    _audit(session, case, "case.note", actor, now)
    return entry


def assign(
    session: Session,
    settings: CasesSettings,
    case: Case,
    actor: Actor,
    *,
    now: datetime,
    department: str | None = None,
    assignee: str | None = None,
) -> Case:
    """Give the case to a department (a code of ``[cases] departments``) and/or a staff member
    (a username; ``""`` takes the person off)."""
    _require(actor, Permission.CASES_ASSIGN, "assigning a case")
    _writable(case)
    changes: dict[str, object] = {}
    if department is not None:
        if department not in settings.departments:
            raise CasesError("unknown_department", f"no department {department!r}", department=department)
        case.department = department
        changes["department"] = department
    if assignee is not None:
        if assignee == "":
            case.assignee_id = None
            changes["assignee"] = ""
        else:
            member = by_username(session, assignee)
            if member is None or not member.active or not member.can(Permission.CASES_VIEW):
                raise CasesError(
                    "no_such_staff", f"no staff member {assignee!r} for cases", username=assignee
                )
            case.assignee_id = member.id
            changes["assignee"] = member.username
    if case.status is CaseStatus.OPEN and (case.assignee_id is not None or department is not None):
        case.status = CaseStatus.ASSIGNED
    case.updated_at = now
    _event(session, case, "assign", now, actor=actor, details=changes)
    _audit(session, case, "case.assign", actor, now, **changes)
    return case


def answer(session: Session, case: Case, actor: Actor, *, now: datetime, how: str = "") -> Case:
    """Mark the case answered without a WeChat reply (answered by phone, in person...); ``how``
    goes on the thread as a note."""
    _require(actor, Permission.CASES_REPLY, "answering a case")
    _writable(case)
    if case.status is CaseStatus.CLOSED:
        raise CasesError("closed", f"case {case.number} is closed", number=case.number)
    case.status = CaseStatus.ANSWERED
    if case.answered_at is None:
        case.answered_at = now
    case.updated_at = now
    _event(session, case, "answer", now, actor=actor, content=how.strip())
    _audit(session, case, "case.answer", actor, now)
    return case


def close(session: Session, settings: CasesSettings, case: Case, actor: Actor, *, now: datetime) -> Case:
    """Close an answered case and ask the resident for their satisfaction."""
    _require(actor, Permission.CASES_REPLY, "closing a case")
    _writable(case)
    if case.status is CaseStatus.CLOSED:
        raise CasesError("closed", f"case {case.number} is closed", number=case.number)
    if case.status is not CaseStatus.ANSWERED:
        raise CasesError("not_answered", f"case {case.number} has no answer yet", number=case.number)
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.rating_requested_at = now
    case.rating = None  # an earlier rating (before a reopening) stays on the thread
    case.rated_at = None
    case.updated_at = now
    _event(session, case, "close", now, actor=actor)
    queue_delivery(session, case, openid=case.openid, kind="rating", now=now)
    _audit(session, case, "case.close", actor, now)
    return case


def _reopen(
    session: Session, settings: CasesSettings, case: Case, now: datetime, actor: Actor | None = None
) -> None:
    case.status = CaseStatus.ASSIGNED if case.assignee_id is not None else CaseStatus.OPEN
    case.reopened_count += 1
    case.closed_at = None
    case.answered_at = None
    case.rating_requested_at = None
    case.escalation_level = 0
    case.escalated_at = None
    case.second_due_at = None
    case.due_at = workdays.deadline(session, settings, now, settings.deadline_days_for(case.department))
    case.updated_at = now
    _event(session, case, "reopen", now, actor=actor, details={"due_at": case.due_at.isoformat()})


def reopen(session: Session, settings: CasesSettings, case: Case, actor: Actor, *, now: datetime) -> Case:
    """Staff reopen an answered or closed case (a new deadline from now)."""
    _require(actor, Permission.CASES_REPLY, "reopening a case")
    _writable(case)
    if case.status not in (CaseStatus.ANSWERED, CaseStatus.CLOSED):
        raise CasesError("not_closed", f"case {case.number} is still open", number=case.number)
    _reopen(session, settings, case, now, actor)
    _audit(session, case, "case.reopen", actor, now)
    return case


def mark_public(
    session: Session, case: Case, actor: Actor, *, now: datetime, public: bool = True, title: str = ""
) -> Case:
    """Show an answered case on the public list (anonymised), or take it off."""
    _require(actor, Permission.CASES_REPLY, "publishing a case")
    if public and case.status not in (CaseStatus.ANSWERED, CaseStatus.CLOSED):
        raise CasesError("not_answered", f"case {case.number} has no answer yet", number=case.number)
    case.public = public
    if title.strip():
        case.public_title = mask_phones(title.strip())[:120]
    case.updated_at = now
    _event(session, case, "public", now, actor=actor, details={"public": public})
    _audit(session, case, "case.public", actor, now, public=public)
    return case


def public_list(session: Session, *, limit: int = 50, offset: int = 0) -> list[PublicCase]:
    """Cases marked public, newest first: number, topic, title, the resident's words and the staff's
    answer with phone numbers masked; never an openid or a name."""
    cases = session.scalars(
        select(Case)
        .where(Case.public.is_(True))
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(limit)
        .offset(offset)
    )
    shown: list[PublicCase] = []
    for case in cases:
        entries = thread(session, case, include_notes=False)
        question = "\n".join(
            e.content for e in entries if e.kind is EntryKind.RESIDENT and e.content and not e.flagged
        )
        answer_text = "\n".join(e.content for e in entries if e.kind is EntryKind.REPLY)
        shown.append(
            PublicCase(
                number=case.number,
                topic=case.topic,
                title=case.public_title or mask_phones(case.subject),
                question=mask_phones(question),
                answer=mask_phones(answer_text),
                received_at=case.received_at,
                answered_at=case.answered_at,
            )
        )
    return shown


def public_case(session: Session, number: str) -> PublicCase | None:
    """One public case by number (the public list's detail)."""
    found = [p for p in public_list(session, limit=1000) if p.number == number.strip().upper()]
    return found[0] if found else None


# -- conversion to a report ------------------------------------------------------------------------


def report_inputs(session: Session, case: Case) -> tuple[list[CaseMessage], CaseMessage | None, str]:
    """What a report made of ``case`` would carry: the thread's photos, its latest location and the
    resident's words."""
    entries = thread(session, case, include_notes=False)
    photos = [e for e in entries if e.kind is EntryKind.RESIDENT and e.msg_type == "image" and e.media_id]
    places = [e for e in entries if e.kind is EntryKind.RESIDENT and e.lat is not None and e.lon is not None]
    words = " ".join(
        e.content for e in entries if e.kind is EntryKind.RESIDENT and e.msg_type in ("text", "voice")
    )
    return photos, (places[-1] if places else None), words


def convert_to_report(
    session: Session,
    store: Store,
    settings: ReportsSettings,
    case: Case,
    actor: Actor,
    *,
    category_code: str,
    now: datetime,
    point: GeoPoint | None = None,
    storage: Storage | None = None,
) -> Report:
    """Turn ``case`` into a 文明随手拍 report (``reports.intake.submit_report``) with the thread's
    photos, its latest location (or ``point``) and the resident's words; the thread stays on the
    case, which names the report, and the report's trail names the case."""
    _require(actor, Permission.CASES_REPLY, "turning a case into a report")
    _writable(case)
    category = category_by_code(session, category_code)
    if category is None:
        raise CasesError("unknown_category", f"no report category {category_code!r}", category=category_code)
    photos, place, words = report_inputs(session, case)
    if not photos:
        raise CasesError("no_photo", f"case {case.number} has no photo")
    if point is None:
        if place is None or place.lat is None or place.lon is None:
            raise CasesError("no_location", f"case {case.number} has no location")
        point = GeoPoint(place.lat, place.lon, Datum.GCJ02)  # WeChat's location messages are GCJ-02
    report = submit_report(
        session,
        store,
        settings,
        openid=case.openid,
        category=category,
        point=point,
        photos=[PhotoRef(p.media_id, p.pic_url, p.created_at) for p in photos[: settings.max_photos]],
        address="" if place is None else place.content,
        description=words,
        now=now,
        storage=storage,
    )
    mark_converted(session, case, actor, report_id=report.id, report_number=report.number, now=now)
    return report


def mark_converted(
    session: Session, case: Case, actor: Actor, *, report_id: int, report_number: str, now: datetime
) -> Case:
    """Record that ``case`` became the report ``report_id`` (both ways: the case's thread and
    status, and the report's audit trail names the case)."""
    case.status = CaseStatus.CONVERTED
    case.report_id = report_id
    case.updated_at = now
    _event(session, case, "convert", now, actor=actor, details={"report": report_number})
    _audit(session, case, "case.convert", actor, now, report=report_number)
    audit.record(
        session,
        "report.from_case",
        actor=actor.name,
        staff_id=actor.staff_id,
        target_kind="report",
        target_id=report_id,
        target=report_number,
        details={"case": case.number},
        at=now,
    )
    return case


# -- duty roster, escalation notices ---------------------------------------------------------------


def add_shift(
    session: Session, actor: Actor, *, username: str, starts_at: datetime, ends_at: datetime, now: datetime
) -> DutyShift:
    """值班: ``username`` is on duty from ``starts_at`` to ``ends_at``."""
    _require(actor, Permission.CASES_MANAGE, "planning the duty roster")
    member = by_username(session, username)
    if member is None or not member.active:
        raise CasesError("no_such_staff", f"no staff member {username!r}", username=username)
    if ends_at <= starts_at:
        raise CasesError("bad_shift", "a shift ends after it starts")
    shift = DutyShift(
        staff_id=member.id, starts_at=starts_at, ends_at=ends_at, created_by=actor.name, created_at=now
    )
    session.add(shift)
    session.flush()
    audit.record(
        session,
        "case.duty",
        actor=actor.name,
        staff_id=actor.staff_id,
        target_kind="staff",
        target_id=member.id,
        target=member.username,
        details={"from": starts_at, "until": ends_at},
        at=now,
    )
    return shift


def shifts(session: Session, *, since: datetime, until: datetime) -> list[DutyShift]:
    query = (
        select(DutyShift)
        .where(DutyShift.ends_at > since, DutyShift.starts_at < until)
        .order_by(DutyShift.starts_at, DutyShift.id)
    )
    return list(session.scalars(query))


def on_duty(session: Session, at: datetime) -> list[Staff]:
    """Active staff whose shift covers ``at``."""
    query = (
        select(Staff)
        .join(DutyShift, DutyShift.staff_id == Staff.id)
        .where(DutyShift.starts_at <= at, DutyShift.ends_at > at, Staff.active.is_(True))
        .order_by(Staff.username)
        .distinct()
    )
    return list(session.scalars(query))


def notify_staff(
    session: Session, case: Case, members: Iterable[Staff], event: str, now: datetime
) -> list[CaseDelivery]:
    """Tell each linked staff member (``citybot staff link-wechat``) about ``case``; unlinked ones are
    named on the thread as not told."""
    queued: list[CaseDelivery] = []
    unlinked: list[str] = []
    for member in members:
        if member.wechat_openid:
            queued.append(
                queue_delivery(
                    session,
                    case,
                    openid=member.wechat_openid,
                    kind="staff",
                    now=now,
                    payload={"event": event, "staff": member.username},
                )
            )
        else:
            unlinked.append(member.username)
    if unlinked:
        _event(session, case, "not_told", now, details={"event": event, "staff": sorted(unlinked)})
    return queued


def _alert_duty(session: Session, case: Case, event: str, now: datetime) -> None:
    members = on_duty(session, now)
    _event(session, case, "duty_alert", now, details={"event": event, "staff": [m.username for m in members]})
    notify_staff(session, case, members, event, now)


def escalate_due(session: Session, settings: CasesSettings, *, now: datetime) -> list[Case]:
    """Overdue cases go to the section chiefs (staff with ``cases.escalation.section``); still
    waiting past the second deadline (``second_deadline_days`` working days later), to the 分管领导
    (``cases.escalation.deputy``). Each step once per case (until it is reopened)."""
    first = session.scalars(
        select(Case)
        .where(overdue_condition(now), Case.escalation_level == 0)
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    )
    done = [_escalate(session, settings, case, 1, now) for case in list(first)]
    second = session.scalars(
        select(Case)
        .where(Case.status.in_(WAITING), Case.escalation_level == 1, Case.second_due_at < now)
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    )
    done += [_escalate(session, settings, case, 2, now) for case in list(second)]
    return done


# level -> (who is told, the notice's event)
_ESCALATION: dict[int, tuple[Permission, str]] = {
    1: (Permission.CASES_ESCALATION_SECTION, "escalate_section"),
    2: (Permission.CASES_ESCALATION_DEPUTY, "escalate_deputy"),
}


def _escalate(session: Session, settings: CasesSettings, case: Case, level: int, now: datetime) -> Case:
    case.escalation_level = level
    if level == 1:
        case.escalated_at = now
        case.second_due_at = workdays.deadline(session, settings, now, settings.second_deadline_days)
    duty, event = _ESCALATION[level]
    _event(session, case, "escalate", now, details={"level": level})
    notify_staff(session, case, with_permission(session, duty), event, now)
    _audit(session, case, "case.escalate", "system", now, level=level)
    return case


# -- canned replies --------------------------------------------------------------------------------


def canned_replies(session: Session, *, active_only: bool = True) -> list[CannedReply]:
    query = select(CannedReply).order_by(CannedReply.position, CannedReply.id)
    if active_only:
        query = query.where(CannedReply.active.is_(True))
    return list(session.scalars(query))


def save_canned_reply(
    session: Session,
    actor: Actor,
    *,
    title: str,
    body: str,
    now: datetime,
    reply_id: int | None = None,
    active: bool = True,
    position: int = 0,
) -> CannedReply:
    """Add (``reply_id`` None) or change a 常用回复."""
    _require(actor, Permission.CASES_MANAGE, "managing canned replies")
    if not title.strip() or not body.strip():
        raise CasesError("empty_text", "a canned reply needs a title and a text")
    row = None if reply_id is None else session.get(CannedReply, reply_id)
    if row is None:
        row = CannedReply()
        session.add(row)
    row.title, row.body, row.active, row.position = title.strip()[:64], body.strip(), active, position
    row.updated_by, row.updated_at = actor.name, now
    session.flush()
    audit.record(
        session,
        "case.canned",
        actor=actor.name,
        staff_id=actor.staff_id,
        target_kind="canned_reply",
        target_id=row.id,
        details={"title": row.title, "active": active},
        at=now,
    )
    return row


# -- figures ---------------------------------------------------------------------------------------


def _month_span(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def monthly_figures(session: Session, settings: CasesSettings, year: int, month: int) -> MonthlyFigures:
    """Cases received in the month (local time): how many, answered, answered by their deadline,
    the median hours from receipt to the first answer, and the shares of each rating."""
    start, end = _month_span(year, month, ZoneInfo(settings.timezone))
    rows = list(session.scalars(select(Case).where(Case.received_at >= start, Case.received_at < end)))
    answered = [c for c in rows if c.answered_at is not None]
    on_time = [c for c in answered if c.answered_at is not None and c.answered_at <= c.due_at]
    hours = [
        (c.answered_at - c.received_at).total_seconds() / 3600 for c in answered if c.answered_at is not None
    ]
    rated = [c for c in rows if c.rating is not None]
    shares = {
        str(rating): (sum(1 for c in rated if c.rating is rating) / len(rated)) if rated else 0.0
        for rating in Rating
    }
    return MonthlyFigures(
        year=year,
        month=month,
        received=len(rows),
        answered=len(answered),
        answered_on_time=len(on_time),
        median_hours=round(statistics.median(hours), 1) if hours else None,
        rated=len(rated),
        satisfaction=shares,
    )


def figures_rows(figures: Sequence[MonthlyFigures], headers: Sequence[str]) -> list[list[str]]:
    """CSV rows: ``headers`` (worded by the adapter), then one row per month: month, received,
    answered, on time, median hours, rated, then the share of each rating in percent."""
    rows = [list(headers)]
    for f in figures:
        rows.append(
            [
                f"{f.year:04d}-{f.month:02d}",
                str(f.received),
                str(f.answered),
                str(f.answered_on_time),
                "" if f.median_hours is None else f"{f.median_hours:.1f}",
                str(f.rated),
                *(f"{f.satisfaction.get(str(r), 0.0) * 100:.1f}" for r in Rating),
            ]
        )
    return rows

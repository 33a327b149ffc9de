"""文明随手拍 in the chat: a photo (or the menu button) opens a report; the bot asks for what is
missing, one step at a time, and submits only when the resident confirms a summary.

The steps: photos (up to ``reports.max_photos``), the location (a location message), the category
(a numbered list), an optional description, then the summary (``1``/``确认`` submits, ``2`` edits the
description, ``3`` picks the category again). Photos and a location are taken at any step, since
they cannot be mistaken for anything else; text is taken only by the step that asks for text. Text
at a step that does not ask for it (a question typed while the bot waits for the location, a digit
before the category list was shown) is never stored: the answer says what the step waits for and
how to cancel (``取消``, at every step). The description is stored as the resident wrote it; only
commands and choices are compared in the normalised form.

Also the resident's own account: ``积分`` (balance and recent entries), ``我的举报`` (recent reports,
with the reason of those not accepted), ``绑定手机 13800138000`` (the number that receives phone
credit).

The draft lives in the conversation (``report.*`` states) and is closed with a message after
``reports.draft_timeout`` seconds of silence (a job scheduled at every change, and a check at the
next message).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from bot.chat.conversation import Conversation
from bot.chat.replies import Reply, Text
from bot.chat.routing import Context, Router
from bot.chat.settings import ConversationSettings
from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import session_scope
from bot.core.errors import render
from bot.core.geo import CoordinateError, Datum, GeoPoint
from bot.core.jobs import defer
from bot.core.residents import take_turn
from bot.wechat.inbound import Inbound, normalise_text, sent_location
from geodata.settings import GeoSettings
from menu.keys import MenuKey
from reports import limits, phones, rewards
from reports.intake import MAX_DESCRIPTION, IntakeError, PhotoRef, submit_report
from reports.jobs import sender_for
from reports.limits import RateLimitedError
from reports.models import Category, Report, ReportStatus, active_categories, category_by_code, reports_of
from reports.settings import ReportsSettings

log = logging.getLogger("citybot.handlers.reports")
router = Router(__name__)

MENU_KEY = MenuKey.REPORT_PHOTO
PHOTO, LOCATION, CATEGORY, DESCRIPTION, CONFIRM = (
    "report.awaiting_photo",
    "report.awaiting_location",
    "report.awaiting_category",
    "report.awaiting_description",
    "report.awaiting_confirmation",
)
STATES = (PHOTO, LOCATION, CATEGORY, DESCRIPTION, CONFIRM)
# Messages no step asks for: answered with what the step waits for.
OTHER_MESSAGES = ("voice", "video", "shortvideo", "link", "file")
# Every word list below is compared with the normalised text (NFKC: full-width digits match too).
SKIP_WORDS = frozenset({"跳过", "完成", "提交", "不用了", "没有", "无", "不填"})
CONFIRM_WORDS = frozenset({"1", "确认", "提交", "确定", "确认提交"})
EDIT_DESCRIPTION_WORDS = frozenset({"2", "修改描述", "改描述"})
EDIT_CATEGORY_WORDS = frozenset({"3", "重选类型", "修改类型", "改类型"})
HELP_WORDS = frozenset({"帮助", "?", "？"})
BALANCE_WORDS = ("积分", "我的积分", "积分查询")
MY_REPORTS_WORDS = ("我的举报", "举报进度")
BIND_PATTERN = r"^(?:绑定手机|绑定手机号|手机号)\s*[:：]?\s*(?P<phone>[\d\s+\-－（）()]+)$"
BIND_RE = re.compile(BIND_PATTERN)
# Text that asks how to send a location (or where), answered with the steps rather than a reminder.
LOCATION_QUESTION_RE = re.compile(r"[?？]|怎么|怎样|如何|哪里|哪儿|在哪|位置|定位|地址|地点")
ECHO_MAX = 20  # how much of an unfitting answer the reply quotes back


# -- the draft ---------------------------------------------------------------------------------------


def current_draft(conversation: Conversation) -> dict[str, Any] | None:
    if conversation.state not in STATES:
        return None
    draft = conversation.data.get("report")
    return draft if isinstance(draft, dict) else None


def _idle_limit(settings: Any) -> timedelta:
    # never later than the conversation itself is forgotten
    return timedelta(
        seconds=min(
            settings.section(ReportsSettings).draft_timeout,
            settings.section(ConversationSettings).timeout - 5,
        )
    )


def is_idle(draft: dict[str, Any], now: datetime, settings: Any) -> bool:
    touched = datetime.fromisoformat(draft["touched"])
    return now - touched >= _idle_limit(settings)


def _new_draft() -> dict[str, Any]:
    return {"photos": [], "location": None, "category": None, "choices": None, "description": None}


def _step(draft: dict[str, Any]) -> str:
    """The step the draft is at: the first thing missing, or the confirmation."""
    if not draft["photos"]:
        return PHOTO
    if draft["location"] is None:
        return LOCATION
    if draft["category"] is None:
        return CATEGORY
    if draft["description"] is None:
        return DESCRIPTION
    return CONFIRM


def _category_list(ctx: Context, draft: dict[str, Any]) -> str:
    """The numbered list of active categories; the numbers the resident sees are kept in the draft."""
    categories = active_categories(ctx.session)
    draft["choices"] = [c.code for c in categories]
    return "\n".join(f"{i} {c.name}" for i, c in enumerate(categories, start=1))


def _summary(ctx: Context, draft: dict[str, Any]) -> str:
    category = category_by_code(ctx.session, draft["category"])
    label = (draft["location"] or {}).get("label") or ctx.texts("reports.chat.summary_unnamed_location")
    return ctx.texts(
        "reports.chat.summary",
        photos=len(draft["photos"]),
        location=label,
        category=category.name if category is not None else "",
        description=draft["description"] or ctx.texts("reports.chat.summary_no_description"),
    )


def _prompt(ctx: Context, draft: dict[str, Any], state: str) -> str:
    maximum = ctx.settings.section(ReportsSettings).max_photos
    if state == PHOTO:
        return ctx.texts("reports.chat.ask_photo", max=maximum)
    if state == LOCATION:
        return ctx.texts("reports.chat.ask_location")
    if state == CATEGORY:
        return ctx.texts("reports.chat.ask_category", choices=_category_list(ctx, draft))
    if state == DESCRIPTION:
        return ctx.texts("reports.chat.ask_description", max=maximum, length=MAX_DESCRIPTION)
    return _summary(ctx, draft)


def _waiting(ctx: Context, draft: dict[str, Any], state: str) -> str:
    """What the step waits for and how to cancel: the answer to input that does not fit it."""
    if state == PHOTO:
        return ctx.texts("reports.chat.waiting_photo")
    if state == LOCATION:
        return ctx.texts("reports.chat.waiting_location")
    if state == CATEGORY:
        return ctx.texts("reports.chat.waiting_category", choices=_category_list(ctx, draft))
    if state == DESCRIPTION:
        return ctx.texts("reports.chat.waiting_description")
    return ctx.texts("reports.chat.waiting_confirmation")


def _keep(msg: Inbound, ctx: Context, draft: dict[str, Any], state: str) -> None:
    """Stay in (or move to) ``state`` with the draft, and restart the idle clock."""
    draft["touched"] = ctx.now.isoformat()
    ctx.conversation.enter(state, report=draft)
    defer(ctx.session, close_idle_draft, msg.openid, at=ctx.now + _idle_limit(ctx.settings))


def _proceed(msg: Inbound, ctx: Context, draft: dict[str, Any], lead: list[str]) -> Reply:
    """Ask for what the draft's step needs (the summary, once nothing is missing)."""
    state = _step(draft)
    prompt = _prompt(ctx, draft, state)
    _keep(msg, ctx, draft, state)
    return Text("\n".join([*lead, prompt]))


def _refuse(msg: Inbound, ctx: Context, draft: dict[str, Any], lead: list[str]) -> Reply:
    """Input the step does not take: nothing stored, the step's reminder (lead lines first)."""
    state = _step(draft)
    reminder = _waiting(ctx, draft, state)
    _keep(msg, ctx, draft, state)
    return Text("\n".join([*lead, reminder]))


def _submit(msg: Inbound, ctx: Context, draft: dict[str, Any]) -> Reply:
    category = category_by_code(ctx.session, draft["category"])
    if category is None or not category.active:
        draft["category"] = None
        return _proceed(msg, ctx, draft, [ctx.texts("reports.chat.category_gone")])
    location = draft["location"]
    photos = [
        PhotoRef(p["media_id"], p["pic_url"], datetime.fromisoformat(p["received_at"]))
        for p in draft["photos"]
    ]
    ctx.conversation.end()
    try:
        report = submit_report(
            ctx.session,
            ctx.store,
            ctx.settings.section(ReportsSettings),
            openid=msg.openid,
            category=category,
            point=GeoPoint(location["lat"], location["lon"], Datum(location["datum"])),
            photos=photos,
            address=location.get("label") or "",
            description=draft["description"] or "",
            now=ctx.now,
        )
    except RateLimitedError as exc:
        return Text(_rate_limited(ctx, exc))
    except IntakeError as exc:
        log.warning("draft refused at submission: %s", exc)
        return Text(render(ctx.texts, exc))
    except CoordinateError as exc:
        log.warning("draft refused at submission: %s", exc)
        return Text(ctx.texts("reports.chat.not_accepted"))
    return Text(ctx.texts("reports.chat.submitted", number=report.number))


def _rate_limited(ctx: Context, exc: RateLimitedError) -> str:
    return render(ctx.texts, exc)


def _open(msg: Inbound, ctx: Context) -> tuple[dict[str, Any] | None, list[str]]:
    """The resident's draft (a new one if none is open or it went idle), with lead lines; None
    with the reason when the resident may not report now."""
    draft = current_draft(ctx.conversation)
    if draft is not None and not is_idle(draft, ctx.now, ctx.settings):
        return draft, [ctx.texts("reports.chat.resumed")]
    lead = [ctx.texts("reports.chat.draft_expired")] if draft is not None else []
    ctx.conversation.end()
    try:
        limits.check(ctx.store, msg.openid, ctx.settings.section(ReportsSettings), ctx.now)
    except RateLimitedError as exc:
        return None, [*lead, _rate_limited(ctx, exc)]
    return _new_draft(), [*lead, ctx.texts("reports.chat.opened")]


def _live_draft(msg: Inbound, ctx: Context) -> dict[str, Any] | None:
    """The open draft, or None after closing an idle one."""
    draft = current_draft(ctx.conversation)
    if draft is None or is_idle(draft, ctx.now, ctx.settings):
        ctx.conversation.end()
        return None
    return draft


def _add_photo(msg: Inbound, ctx: Context, draft: dict[str, Any], lead: list[str]) -> list[str]:
    maximum = ctx.settings.section(ReportsSettings).max_photos
    media_id = str(msg.raw.get("MediaId") or "")
    known = {p["media_id"] for p in draft["photos"]}
    if len(draft["photos"]) >= maximum:
        return [*lead, ctx.texts("reports.chat.too_many_photos", max=maximum)]
    if media_id and media_id not in known:
        received = msg.created_at if abs(msg.created_at - ctx.now) < timedelta(hours=1) else ctx.now
        draft["photos"].append(
            {
                "media_id": media_id,
                "pic_url": str(msg.raw.get("PicUrl") or ""),
                "received_at": received.isoformat(),
            }
        )
    return [*lead, ctx.texts("reports.chat.photo_received", count=len(draft["photos"]), max=maximum)]


def _echo(text: str) -> str:
    """An unfitting answer, quoted back short."""
    return text if len(text) <= ECHO_MAX else text[:ECHO_MAX] + "…"


# -- routes ------------------------------------------------------------------------------------------


@router.message("image")
def photo_opens_report(msg: Inbound, ctx: Context) -> Reply:
    draft, lead = _open(msg, ctx)
    if draft is None:
        return Text("\n".join(lead))
    return _proceed(msg, ctx, draft, _add_photo(msg, ctx, draft, lead))


@router.click(MENU_KEY)
def menu_opens_report(msg: Inbound, ctx: Context) -> Reply:
    draft, lead = _open(msg, ctx)
    if draft is None:
        return Text("\n".join(lead))
    return _proceed(msg, ctx, draft, lead)


@router.message("image", state=STATES)
def more_photos(msg: Inbound, ctx: Context) -> Reply:
    draft = _live_draft(msg, ctx)
    if draft is None:
        return photo_opens_report(msg, ctx)
    return _proceed(msg, ctx, draft, _add_photo(msg, ctx, draft, []))


def _location_of(msg: Inbound) -> tuple[GeoPoint, str] | None:
    found = sent_location(msg)
    return None if found is None else (found.point, found.label)


@router.message("location", state=STATES)
@router.event("location_select", state=STATES)
def location(msg: Inbound, ctx: Context) -> Reply:
    draft = _live_draft(msg, ctx)
    if draft is None:
        return Text(ctx.texts("reports.chat.draft_expired"))
    found = _location_of(msg)
    if found is None:
        return _proceed(msg, ctx, draft, [])
    point, label = found
    draft["location"] = {"lat": point.lat, "lon": point.lon, "datum": str(point.datum), "label": label[:255]}
    lead = [
        ctx.texts("reports.chat.location_received", label=label)
        if label
        else ctx.texts("reports.chat.location_received_unnamed")
    ]
    return _proceed(msg, ctx, draft, lead)


@router.message(*OTHER_MESSAGES, state=STATES)
def other_message(msg: Inbound, ctx: Context) -> Reply:
    """A voice message, a video, a link ... in the middle of a report: no step takes them."""
    draft = _live_draft(msg, ctx)
    if draft is None:
        return Text(ctx.texts("reports.chat.draft_expired"))
    return _refuse(msg, ctx, draft, [ctx.texts("reports.chat.message_not_used")])


def _category_from(ctx: Context, draft: dict[str, Any], text: str) -> Category | None:
    """The category the resident chose from the list shown: by its number or its name."""
    choices = draft.get("choices") or []
    categories = {c.code: c for c in active_categories(ctx.session)}
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return categories.get(choices[int(text) - 1])
    folded = text.casefold()
    return next((c for c in categories.values() if normalise_text(c.name).casefold() == folded), None)


def _choose_category(msg: Inbound, ctx: Context, draft: dict[str, Any], text: str) -> Reply:
    category = _category_from(ctx, draft, text)
    if category is None:
        return _refuse(msg, ctx, draft, [ctx.texts("reports.chat.choice_not_in_list", choice=_echo(text))])
    draft["category"] = category.code
    return _proceed(msg, ctx, draft, [ctx.texts("reports.chat.category_received", name=category.name)])


def _describe(msg: Inbound, ctx: Context, draft: dict[str, Any], text: str) -> Reply:
    if text in SKIP_WORDS:
        draft["description"] = ""
        return _proceed(msg, ctx, draft, [])
    written = (msg.raw_content or "").strip()  # as the resident wrote it: full-width stays full-width
    if len(written) > MAX_DESCRIPTION:
        return _refuse(
            msg,
            ctx,
            draft,
            [ctx.texts("reports.chat.description_too_long", length=len(written), max=MAX_DESCRIPTION)],
        )
    draft["description"] = written
    return _proceed(msg, ctx, draft, [])


def _confirm(msg: Inbound, ctx: Context, draft: dict[str, Any], text: str) -> Reply:
    if text in CONFIRM_WORDS:
        return _submit(msg, ctx, draft)
    if text in EDIT_DESCRIPTION_WORDS:
        draft["description"] = None
        return _proceed(msg, ctx, draft, [])
    if text in EDIT_CATEGORY_WORDS:
        draft["category"] = None
        return _proceed(msg, ctx, draft, [])
    return _refuse(msg, ctx, draft, [])


def _not_text(msg: Inbound, ctx: Context, draft: dict[str, Any], text: str) -> Reply:
    """Text while the step wants a photo or a location: never stored, never a category."""
    state = _step(draft)
    lead: list[str] = []
    catalogue = ctx.settings.section(GeoSettings).kinds()
    kind = catalogue.kind_for(text)
    if kind is not None:  # 一键查找's keyword (``3`` for toilets): it waits until the report is done
        lead.append(ctx.texts("reports.chat.nearby_keyword", word=_echo(text), label=catalogue.label(kind)))
    elif text.isdigit():
        lead.append(ctx.texts("reports.chat.digit_not_category", digit=_echo(text)))
    if state == LOCATION and kind is None and LOCATION_QUESTION_RE.search(text):
        return _refuse(msg, ctx, draft, [ctx.texts("reports.chat.location_help")])
    return _refuse(msg, ctx, draft, lead)


@router.text(pattern=r"[\s\S]+", state=STATES)
def draft_text(msg: Inbound, ctx: Context) -> Reply:
    text = msg.content or ""
    if text in BALANCE_WORDS:
        return balance(msg, ctx)
    if text in MY_REPORTS_WORDS:
        return my_reports(msg, ctx)
    phone = BIND_RE.search(text)
    if phone is not None:
        ctx.match = phone
        return bind_phone(msg, ctx)
    draft = _live_draft(msg, ctx)
    if draft is None:
        return Text(ctx.texts("reports.chat.draft_expired"))
    if text in HELP_WORDS:
        return _proceed(msg, ctx, draft, [])
    step = _step(draft)
    if step == CATEGORY:
        return _choose_category(msg, ctx, draft, text)
    if step == DESCRIPTION:
        return _describe(msg, ctx, draft, text)
    if step == CONFIRM:
        return _confirm(msg, ctx, draft, text)
    return _not_text(msg, ctx, draft, text)


# -- the resident's account --------------------------------------------------------------------------


@router.text(*BALANCE_WORDS)
def balance(msg: Inbound, ctx: Context) -> Reply:
    zone = ZoneInfo(ctx.settings.section(ReportsSettings).timezone)
    lines = [ctx.texts("reports.account.balance", balance=rewards.balance(ctx.session, msg.openid))]
    entries = rewards.recent_entries(ctx.session, msg.openid, limit=5)
    if entries:
        lines.append(ctx.texts("reports.account.recent_header"))
        for entry in entries:
            date = entry.created_at.astimezone(zone).strftime("%m-%d")
            lines.append(
                ctx.texts(
                    "reports.account.entry",
                    date=date,
                    label=ctx.texts(rewards.label_key(entry)),
                    points=f"{entry.points:+d}",
                )
            )
    else:
        lines.append(ctx.texts("reports.account.no_entries"))
    phone = phones.phone_of(ctx.session, msg.openid)
    if phone:
        lines.append(ctx.texts("reports.account.phone_bound_hint", phone=phones.mask(phone)))
    else:
        lines.append(ctx.texts("reports.account.phone_missing_hint"))
    return Text("\n".join(lines))


@router.text(*MY_REPORTS_WORDS)
def my_reports(msg: Inbound, ctx: Context) -> Reply:
    found = reports_of(ctx.session, msg.openid, limit=5)
    if not found:
        return Text(ctx.texts("reports.account.no_reports"))
    lines = [ctx.texts("reports.account.reports_header")]
    for report in found:
        status = ctx.texts(f"reports.status.{report.status}")
        lines.append(
            ctx.texts(
                "reports.account.report_line",
                number=report.number,
                category=report.category.name,
                status=status,
            )
        )
        why = _why(ctx, report)
        if why:
            lines.append(why)
    return Text("\n".join(lines))


def _why(ctx: Context, report: Report) -> str | None:
    """Why a report was not accepted, in the catalogue's words (None for any other report)."""
    if report.status == ReportStatus.REJECTED and report.reason_code:
        key = f"reports.reasons.{report.reason_code}"
        reason = ctx.texts(key) if key in ctx.texts else ctx.texts("reports.account.reason_unknown")
        return ctx.texts("reports.account.report_reason", reason=reason)
    if report.status == ReportStatus.DUPLICATE and report.duplicate_of_id is not None:
        original = ctx.session.get(Report, report.duplicate_of_id)
        if original is not None:
            return ctx.texts("reports.account.report_duplicate_of", original=original.number)
    return None


@router.text(pattern=BIND_PATTERN)
def bind_phone(msg: Inbound, ctx: Context) -> Reply:
    assert ctx.match is not None
    try:
        binding = phones.bind_phone(ctx.session, msg.openid, ctx.match.group("phone"), now=ctx.now)
    except phones.InvalidPhoneError:
        return Text(ctx.texts("reports.account.phone_invalid"))
    return Text(ctx.texts("reports.account.phone_bound", phone=phones.mask(binding.phone)))


# -- the idle check ----------------------------------------------------------------------------------


def close_idle_draft(openid: str) -> None:
    """Job: close the resident's draft if it has been idle for the timeout, and tell them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = services.settings(app)
    now = utcnow()
    with session_scope(app) as session:
        take_turn(session, openid)  # the resident may be sending a photo right now
        conversation = Conversation(session, openid, settings.section(ConversationSettings).timeout, now=now)
        draft = current_draft(conversation)
        if draft is None or not is_idle(draft, now, settings):
            return
        conversation.end()
        conversation.save()
    try:
        sender_for(app).send_text(openid, services.texts(app)("reports.chat.draft_expired"))
    except Exception as exc:
        log.warning("could not tell a resident that their draft closed: %s", type(exc).__name__)

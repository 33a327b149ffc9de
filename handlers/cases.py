"""有问必答 in the chat: what no other feature takes becomes a numbered case staff answer.

- A message no feature takes (text; voice, with WeChat's recognition text; a link) opens a case, or
  joins the resident's open case within ``[cases] join_within``; the chat's fallback is here
  (:func:`fallback`). Greetings, requests for help and one-character texts still get the help text,
  and so do the stray messages of linked staff accounts (``citybot staff link-wechat``).
- ``留言`` / ``咨询`` / ``投诉`` / ``建议`` before the words opens a new case of that topic; the menu's
  我要留言 (``CASE_MESSAGE``) asks for the message. After either, for the conversation's time, the
  resident's photos and locations join the case too (``cases.writing``), not a 随手拍 report.
- ``我的留言`` (or the ``MY_CASES`` button) lists the resident's cases and their status.
- After a case is closed the resident is asked for satisfaction: 满意 / 基本满意 / 不满意, or 1 / 2 / 3
  (the digits are 一键查找's otherwise, and go there when no question waits).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from wechatpy.messages import UnknownMessage

from bot.chat.replies import Reply, Silence, Text
from bot.chat.routing import Context, Router
from bot.wechat.inbound import Inbound
from broadcasts.screening import load_lexicon
from cases import service
from cases.models import Case, Topic
from cases.service import Incoming
from cases.settings import CasesSettings
from handlers import basics
from menu.keys import MenuKey
from staff import models as staff_models

router = Router(__name__)

WRITING = "cases.writing"
MY_CASES_WORDS = ("我的留言", "我的咨询", "我的投诉", "留言查询", "查询留言")
RATING_WORDS = ("满意", "基本满意", "不满意", "非常满意", "很满意")
RATING_DIGITS = ("1", "2", "3")
PREFIX_PATTERN = r"^\s*(留言|咨询|投诉|建议)(?:\s|[:：,，]|$)"
# Texts that ask how the account works get the help text, not a case.
_HELP_LIKE = re.compile(r"(怎么用|如何使用|使用说明|有什么功能|能做什么|帮助|help)", re.IGNORECASE)
_MEANINGFUL = re.compile(r"[\w\u4e00-\u9fff]")
# Fewer meaningful characters than this (好, 完成, 继续, 谢谢) with no open case: the help text.
MIN_CASE_CHARS = 3


def _settings(ctx: Context) -> CasesSettings:
    return ctx.settings.section(CasesSettings)


def _local(ctx: Context, value: datetime) -> str:
    return value.astimezone(ZoneInfo(_settings(ctx).timezone)).strftime("%Y年%m月%d日 %H:%M")


def _incoming(msg: Inbound) -> Incoming | None:
    """The message as a case records it; None for what a case cannot carry."""
    raw = msg.raw
    if msg.msg_type == "text":  # as the resident wrote it: full-width punctuation stays full-width
        return Incoming("text", (msg.raw_content or msg.content or "").strip())
    if msg.msg_type == "voice":
        return Incoming("voice", str(raw.get("Recognition") or ""), media_id=str(raw.get("MediaId") or ""))
    if msg.msg_type == "image":
        return Incoming("image", media_id=str(raw.get("MediaId") or ""), pic_url=str(raw.get("PicUrl") or ""))
    if msg.msg_type == "link":
        words = " ".join(str(raw.get(name) or "") for name in ("Title", "Description")).strip()
        return Incoming("link", words, url=str(raw.get("Url") or ""))
    if msg.msg_type == "location":
        try:
            lat, lon = float(raw.get("Location_X") or ""), float(raw.get("Location_Y") or "")
        except ValueError:
            return None
        return Incoming("location", str(raw.get("Label") or ""), lat=lat, lon=lon)
    if msg.msg_type in ("video", "shortvideo", "file"):
        return Incoming(msg.msg_type, media_id=str(raw.get("MediaId") or ""))
    return None


def _acknowledge(ctx: Context, case: Case, joined: bool) -> Text:
    settings = _settings(ctx)
    if joined:
        return Text(ctx.texts("cases.chat.joined", number=case.number))
    return Text(
        ctx.texts(
            "cases.chat.opened",
            number=case.number,
            due=_local(ctx, case.due_at),
            days=settings.deadline_days_for(case.department),
            join=settings.join_within.replace("h", "小时").replace("d", "天").replace("m", "分钟"),
        )
    )


def record(msg: Inbound, ctx: Context, incoming: Incoming, *, topic: Topic | None = None) -> Reply:
    """Open or join the resident's case with ``incoming`` and acknowledge it."""
    settings = _settings(ctx)
    intake = service.open_or_join(
        ctx.session,
        settings,
        openid=msg.openid,
        incoming=incoming,
        now=ctx.now,
        topic=topic,
        lexicon=load_lexicon(settings.lexicon_file),
        new_case=topic is not None,
    )
    return _acknowledge(ctx, intake.case, intake.joined)


def _looks_like_help(text: str) -> bool:
    return bool(_HELP_LIKE.search(text)) or len(_MEANINGFUL.findall(text)) < MIN_CASE_CHARS


def fallback(msg: Inbound, ctx: Context) -> Reply:
    """The chat's last resort: what no feature took becomes a case (help where it asks for help)."""
    if msg.is_event or isinstance(msg.message, UnknownMessage):
        return Silence()
    incoming = _incoming(msg)
    if incoming is None or staff_models.linked(ctx.session, msg.openid):
        # a linked staff account's stray message (after drafting in the chat) is not a resident's case
        return basics.fallback(msg, ctx)
    open_case = service.open_case_of(ctx.session, msg.openid, ctx.now, _settings(ctx))
    if open_case is None and incoming.msg_type in ("text", "voice") and _looks_like_help(incoming.content):
        return basics.help_text(msg, ctx)
    return record(msg, ctx, incoming)


@router.text(pattern=PREFIX_PATTERN)
def prefixed(msg: Inbound, ctx: Context) -> Reply:
    topic, rest = service.split_prefix((msg.raw_content or msg.content or "").strip())
    if not rest.strip():
        prefix = (msg.content or "").strip()
        ctx.conversation.enter(WRITING, topic=str(topic or Topic.MESSAGE))
        return Text(ctx.texts("cases.chat.empty_prefix", prefix=prefix))
    ctx.conversation.enter(WRITING)
    return record(msg, ctx, Incoming("text", rest.strip()), topic=topic)


@router.click(MenuKey.CASE_MESSAGE)
def menu_message(msg: Inbound, ctx: Context) -> Reply:
    ctx.conversation.end()
    ctx.conversation.enter(WRITING)
    return Text(ctx.texts("cases.chat.prompt"))


def _my_cases(msg: Inbound, ctx: Context) -> Reply:
    found = service.cases_of(ctx.session, msg.openid)
    if not found:
        return Text(ctx.texts("cases.chat.mine_empty"))
    lines = [ctx.texts("cases.chat.mine_title")]
    for case in found:
        line = ctx.texts(
            "cases.chat.mine_line",
            number=case.number,
            received=_local(ctx, case.received_at),
            status=ctx.texts(f"cases.status.{case.status}"),
            subject=service.mask_phones(case.subject) or ctx.texts("cases.chat.nothing"),
        )
        if service.is_overdue(case, ctx.now) or case.status in service.WAITING:
            line += ctx.texts("cases.chat.mine_due", due=_local(ctx, case.due_at))
        lines.append(line)
    return Text("\n".join(lines))


@router.text(*MY_CASES_WORDS)
def my_cases(msg: Inbound, ctx: Context) -> Reply:
    return _my_cases(msg, ctx)


@router.click(MenuKey.MY_CASES)
def menu_my_cases(msg: Inbound, ctx: Context) -> Reply:
    return _my_cases(msg, ctx)


def _rate(msg: Inbound, ctx: Context, word: str) -> Reply:
    settings = _settings(ctx)
    rating = service.parse_rating({"非常满意": "满意", "很满意": "满意"}.get(word, word))
    assert rating is not None
    outcome = service.rate(ctx.session, settings, openid=msg.openid, rating=rating, now=ctx.now)
    if outcome.reopened:
        return Text(
            ctx.texts("cases.chat.reopened", number=outcome.case.number, due=_local(ctx, outcome.case.due_at))
        )
    return Text(ctx.texts("cases.chat.rated"))


def rating_waits(msg: Inbound, ctx: Context) -> bool:
    """A satisfaction question waits for this resident's answer."""
    return service.pending_rating(ctx.session, msg.openid, _settings(ctx), ctx.now) is not None


@router.text(*RATING_WORDS, *RATING_DIGITS, when=rating_waits)
def rating(msg: Inbound, ctx: Context) -> Reply:
    """满意 / 基本满意 / 不满意 or 1 / 2 / 3 answer the waiting question (the digits are 一键查找's
    otherwise, and the words any other message's)."""
    return _rate(msg, ctx, msg.content or "")


@router.message("text", "voice", "image", "link", "location", "video", "shortvideo", state=WRITING)
def writing(msg: Inbound, ctx: Context) -> Reply:
    """While the resident is leaving a message, everything they send joins it."""
    if msg.msg_type == "text" and (msg.content or "") in MY_CASES_WORDS:
        return _my_cases(msg, ctx)
    incoming = _incoming(msg)
    if incoming is None:
        return basics.fallback(msg, ctx)
    raw_topic = ctx.conversation.data.get("topic")
    topic = Topic(raw_topic) if raw_topic else None
    if raw_topic:
        ctx.conversation.update(topic="")
    ctx.conversation.enter(WRITING)
    return record(msg, ctx, incoming, topic=topic)

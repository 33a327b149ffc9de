"""城管发布 in the chat: 最新发布 for everyone; drafting, 我的草稿 and 待审稿件 for linked staff;
WeChat's MASSSENDJOBFINISH and PUBLISHJOBFINISH events.

Drafting is a conversation: title, body (several messages, 完成 to finish), optional cover photo,
grade, then a preview to submit from. The draft is saved at every step, so 取消 (or a timeout) only
ends the conversation: 继续 resumes the latest unfinished draft where it stopped. Anyone who is not
an active staff member with a linked openid and the drafts.write permission gets the ordinary
answer (help, or silence for menu events).
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable

from bot.chat.replies import News, Reply, Silence, Text, fit_utf8
from bot.chat.routing import Context, Handler, Router
from bot.core.errors import render
from bot.wechat.inbound import Inbound
from broadcasts import drafts, markup, publishing, review
from broadcasts.errors import BlockedError, BroadcastError
from broadcasts.models import TITLE_MAX, WORKING, Draft, DraftStatus, Grade
from broadcasts.screening import Hit, load_lexicon
from broadcasts.settings import BroadcastSettings
from handlers import basics
from menu.keys import MenuKey
from staff import models as staff_models
from staff.models import Staff
from staff.roles import Permission

log = logging.getLogger("citybot.handlers.broadcasts")
router = Router(__name__)

TITLE = "broadcasts.title"
BODY = "broadcasts.body"
COVER = "broadcasts.cover"
GRADE = "broadcasts.grade"
CONFIRM = "broadcasts.confirm"
STATES = (TITLE, BODY, COVER, GRADE, CONFIRM)
CHAT_MESSAGES = ("text", "image", "voice", "video", "shortvideo", "location", "link")
REVIEW_PERMISSIONS = (
    Permission.DRAFTS_FIRST_REVIEW,
    Permission.DRAFTS_SECOND_REVIEW,
    Permission.DRAFTS_FINAL_REVIEW,
)


# -- access ---------------------------------------------------------------------------------------


def _staff(msg: Inbound, ctx: Context, permission: Permission = Permission.DRAFTS_WRITE) -> Staff | None:
    member = staff_models.by_openid(ctx.session, msg.openid)
    return member if member is not None and member.can(permission) else None


def _outsider(msg: Inbound, ctx: Context) -> Reply:
    """What anyone else gets: exactly what they would get if these routes did not exist."""
    if ctx.conversation.state in STATES:
        ctx.conversation.end()
    return basics.fallback(msg, ctx)


def _draft(ctx: Context, member: Staff) -> Draft | None:
    draft_id = ctx.conversation.data.get("draft_id")
    if draft_id is None:
        return None
    draft = ctx.session.get(Draft, int(draft_id))
    if draft is None or draft.created_by_id != member.id or draft.status not in WORKING:
        return None
    return draft


def _error(ctx: Context, exc: BroadcastError) -> str:
    return render(ctx.texts, exc)


# -- public ---------------------------------------------------------------------------------------


@router.click(MenuKey.LATEST_BROADCASTS)
def latest(msg: Inbound, ctx: Context) -> Reply:
    items = publishing.latest(ctx.session, ctx.settings.section(BroadcastSettings).latest_count)
    if not items:
        return Text(ctx.texts("broadcasts.latest_empty"))
    if len(items) == 1:
        item = items[0]
        cover = item.draft.cover
        return News(
            title=item.draft.title,
            description=item.draft.digest or markup.excerpt(item.draft.body, 54),
            url=item.article_url or "",
            picurl=(cover.material_url if cover is not None and cover.material_url else "")
            or (item.draft.cover_pic_url or ""),
        )
    lines = [ctx.texts("broadcasts.latest_header")]
    lines += [
        ctx.texts(
            "broadcasts.latest_line",
            url=html.escape(i.article_url or "", quote=True),
            title=html.escape(i.draft.title, quote=False),
        )
        for i in items
    ]
    return Text(fit_utf8("\n".join(lines)))


@router.event("masssendjobfinish")
def mass_send_finished(msg: Inbound, ctx: Context) -> Reply:
    publishing.mass_job_finished(ctx.session, msg.raw, ctx.now)
    return Silence()


@router.event("publishjobfinish")
def publish_finished(msg: Inbound, ctx: Context) -> Reply:
    publishing.publish_job_finished(ctx.session, msg.raw, ctx.now)
    return Silence()


# -- staff: entry points --------------------------------------------------------------------------


@router.click(MenuKey.DRAFT_NEW)
def new_draft(msg: Inbound, ctx: Context) -> Reply:
    member = _staff(msg, ctx)
    if member is None:
        return _outsider(msg, ctx)
    ctx.conversation.end()
    ctx.conversation.enter(TITLE, draft_id=None)
    lines = [ctx.texts("broadcasts.start", limit=TITLE_MAX)]
    unfinished = drafts.unfinished(ctx.session, member)
    if unfinished:
        lines.append(ctx.texts("broadcasts.unfinished_hint", title=unfinished[0].title, id=unfinished[0].id))
    return Text("\n".join(lines))


@router.click(MenuKey.DRAFT_MINE)
def my_drafts(msg: Inbound, ctx: Context) -> Reply:
    member = _staff(msg, ctx)
    if member is None:
        return _outsider(msg, ctx)
    mine = [
        d for d in drafts.of_author(ctx.session, member, limit=10) if d.status is not DraftStatus.WITHDRAWN
    ]
    if not mine:
        return Text(ctx.texts("broadcasts.mine_empty"))
    lines = [ctx.texts("broadcasts.mine_header")]
    lines += [
        ctx.texts(
            "broadcasts.mine_line", id=d.id, title=d.title, status=ctx.texts(f"broadcasts.status.{d.status}")
        )
        for d in mine
    ]
    unfinished = drafts.unfinished(ctx.session, member)
    if unfinished:
        lines.append(ctx.texts("broadcasts.mine_resume", title=unfinished[0].title))
    return Text(fit_utf8("\n".join(lines)))


@router.click(MenuKey.DRAFT_QUEUE)
def review_queue(msg: Inbound, ctx: Context) -> Reply:
    member = staff_models.by_openid(ctx.session, msg.openid)
    if member is None or not any(member.can(p) for p in REVIEW_PERMISSIONS):
        return _outsider(msg, ctx)
    waiting = review.queue(ctx.session, member)
    if not waiting:
        return Text(ctx.texts("broadcasts.queue_empty"))
    lines = [ctx.texts("broadcasts.queue_header")]
    lines += [
        ctx.texts(
            "broadcasts.queue_line",
            id=d.id,
            title=d.title,
            grade=ctx.texts(f"broadcasts.grade.{(d.grade or Grade.GENERAL).value}"),
            stage=ctx.texts(f"broadcasts.status.{d.status}"),
        )
        for d in waiting
    ]
    return Text(fit_utf8("\n".join(lines)))


@router.text("继续")
def resume(msg: Inbound, ctx: Context) -> Reply:
    member = _staff(msg, ctx)
    if member is None:
        return _outsider(msg, ctx)
    unfinished = drafts.unfinished(ctx.session, member)
    if not unfinished:
        return Text(ctx.texts("broadcasts.resume_none"))
    draft = unfinished[0]
    ctx.conversation.end()
    ctx.conversation.enter(TITLE, draft_id=draft.id)
    lead = ""
    if draft.status is DraftStatus.RETURNED:
        returned = [d for d in review.history(ctx.session, draft) if d.comment]
        comment = returned[-1].comment if returned else ""
        lead = ctx.texts("broadcasts.resume_returned", title=draft.title, comment=comment) + "\n"
    if draft.grade is None and markup.to_plain(draft.body).strip():
        # Stopped while writing the body: carry on writing it.
        ctx.conversation.enter(BODY, draft_id=draft.id)
        return Text(
            lead
            + ctx.texts(
                "broadcasts.resume_body",
                title=draft.title,
                count=markup.paragraph_count(draft.body),
                chars=markup.char_count(draft.body),
            )
        )
    return Text(lead + _next_step(ctx, draft))


# -- staff: the drafting conversation -------------------------------------------------------------


def _next_step(ctx: Context, draft: Draft) -> str:
    """Enter the first step the draft still needs and return its prompt."""
    if not markup.to_plain(draft.body).strip():
        ctx.conversation.enter(BODY, draft_id=draft.id)
        return ctx.texts("broadcasts.ask_body", title=draft.title)
    if draft.grade is None:
        if not draft.has_cover and not ctx.conversation.data.get("cover_asked"):
            ctx.conversation.enter(COVER, draft_id=draft.id, cover_asked=True)
            return ctx.texts("broadcasts.ask_cover")
        ctx.conversation.enter(GRADE, draft_id=draft.id)
        return ctx.texts("broadcasts.ask_grade")
    ctx.conversation.enter(CONFIRM, draft_id=draft.id)
    return _preview(ctx, draft)


def _preview(ctx: Context, draft: Draft) -> str:
    size = len(markup.to_html(draft.body).encode("utf-8"))
    text = ctx.texts(
        "broadcasts.preview",
        title=draft.title,
        title_len=len(draft.title),
        title_max=TITLE_MAX,
        author=draft.author,
        grade=ctx.texts(f"broadcasts.grade.{draft.grade.value}") if draft.grade else "-",
        cover=ctx.texts("broadcasts.cover_yes" if draft.has_cover else "broadcasts.cover_no"),
        paragraphs=markup.paragraph_count(draft.body),
        chars=markup.char_count(draft.body),
        kb=f"{size / 1024:.1f}",
        excerpt=markup.excerpt(draft.body, 200),
    )
    return fit_utf8(text)


def _in_conversation(msg: Inbound, ctx: Context) -> tuple[Staff, Draft | None] | None:
    member = _staff(msg, ctx)
    if member is None:
        return None
    return member, _draft(ctx, member)


DraftingHandler = Callable[[Inbound, Context, Staff, Draft], Reply]


def drafting(handler: DraftingHandler) -> Handler:
    """A step of the conversation: the staff member and their draft, or the outsider's answer."""

    @functools.wraps(handler)
    def step(msg: Inbound, ctx: Context) -> Reply:
        found = _in_conversation(msg, ctx)
        if found is None or found[1] is None:
            return _outsider(msg, ctx)
        return handler(msg, ctx, found[0], found[1])

    return step


@router.text(pattern=r"(?s).+", state=TITLE)
def title_given(msg: Inbound, ctx: Context) -> Reply:
    found = _in_conversation(msg, ctx)
    if found is None:
        return _outsider(msg, ctx)
    member, draft = found
    try:
        if draft is None:
            draft = drafts.create(ctx.session, member, title=msg.content or "", now=ctx.now)
        else:
            drafts.edit(ctx.session, draft, member, title=msg.content or "", now=ctx.now)
    except BroadcastError as exc:
        return Text(_error(ctx, exc))
    return Text(_next_step(ctx, draft))


@router.text("完成", state=BODY)
@drafting
def body_done(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    if not markup.to_plain(draft.body).strip():
        return Text(ctx.texts("broadcasts.body_empty"))
    return Text(_next_step(ctx, draft))


@router.text(pattern=r"(?s).+", state=BODY)
@drafting
def body_paragraph(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    try:
        drafts.append_paragraph(ctx.session, draft, member, msg.raw_content or "", now=ctx.now)
    except BroadcastError as exc:
        return Text(_error(ctx, exc))
    return Text(
        ctx.texts(
            "broadcasts.paragraph_added",
            count=markup.paragraph_count(draft.body),
            chars=markup.char_count(draft.body),
        )
    )


@router.message("image", state=COVER)
@drafting
def cover_photo(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    drafts.set_chat_cover(
        ctx.session,
        draft,
        member,
        media_id=str(msg.raw.get("MediaId") or ""),
        pic_url=str(msg.raw.get("PicUrl") or ""),
        now=ctx.now,
    )
    return Text(ctx.texts("broadcasts.cover_saved") + "\n" + _next_step(ctx, draft))


@router.text("跳过", state=COVER)
@drafting
def cover_skipped(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    if draft.grade is not None:
        ctx.conversation.enter(CONFIRM, draft_id=draft.id)
        return Text(_preview(ctx, draft))
    ctx.conversation.enter(GRADE, draft_id=draft.id)
    return Text(ctx.texts("broadcasts.ask_grade"))


@router.text("1", "2", "3", state=GRADE)
@drafting
def grade_given(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    drafts.edit(ctx.session, draft, member, grade=Grade.from_digit(msg.content or ""), now=ctx.now)
    ctx.conversation.enter(CONFIRM, draft_id=draft.id)
    return Text(_preview(ctx, draft))


@router.text("提交", state=CONFIRM)
@drafting
def submit(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    lexicon = load_lexicon(ctx.settings.section(BroadcastSettings).lexicon_file)
    try:
        screening = review.submit(ctx.session, draft, member, lexicon, now=ctx.now)
    except BlockedError as exc:
        return Text(fit_utf8(ctx.texts("broadcasts.blocked", hits=_hit_lines(ctx, exc.screening.forbidden))))
    except BroadcastError as exc:
        return Text(_error(ctx, exc))
    ctx.conversation.end()
    lines = [ctx.texts("broadcasts.submitted", title=draft.title, id=draft.id)]
    if screening.sensitive_terms:
        lines.append(ctx.texts("broadcasts.submitted_sensitive", terms="、".join(screening.sensitive_terms)))
    return Text("\n".join(lines))


@router.text("标题", state=CONFIRM)
@drafting
def change_title(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    ctx.conversation.enter(TITLE, draft_id=draft.id)
    return Text(ctx.texts("broadcasts.ask_title", limit=TITLE_MAX))


@router.text("正文", state=CONFIRM)
@drafting
def rewrite_body(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    drafts.edit(ctx.session, draft, member, body="", now=ctx.now)
    ctx.conversation.enter(BODY, draft_id=draft.id)
    return Text(ctx.texts("broadcasts.ask_body", title=draft.title))


@router.text("封面", state=CONFIRM)
@drafting
def change_cover(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    ctx.conversation.enter(COVER, draft_id=draft.id)
    return Text(ctx.texts("broadcasts.ask_cover"))


@router.text("等级", state=CONFIRM)
@drafting
def change_grade(msg: Inbound, ctx: Context, member: Staff, draft: Draft) -> Reply:
    ctx.conversation.enter(GRADE, draft_id=draft.id)
    return Text(ctx.texts("broadcasts.ask_grade"))


@router.message(*CHAT_MESSAGES, state=STATES)
def off_step(msg: Inbound, ctx: Context) -> Reply:
    """Anything else during drafting: say again what this step expects."""
    found = _in_conversation(msg, ctx)
    if found is None:
        return _outsider(msg, ctx)
    draft = found[1]
    state = ctx.conversation.state
    if draft is None and state != TITLE:
        ctx.conversation.end()
        return Text(ctx.texts("broadcasts.resume_none"))
    if state == TITLE:
        return Text(ctx.texts("broadcasts.ask_title", limit=TITLE_MAX))
    if state == BODY:
        return Text(ctx.texts("broadcasts.body_text_only"))
    if state == COVER:
        return Text(ctx.texts("broadcasts.cover_prompt"))
    if state == GRADE:
        return Text(ctx.texts("broadcasts.grade_invalid"))
    return Text(ctx.texts("broadcasts.confirm_hint"))


# -- helpers --------------------------------------------------------------------------------------


def _hit_lines(ctx: Context, hits: tuple[Hit, ...]) -> str:
    return "\n".join(
        ctx.texts(
            "broadcasts.hit_line",
            text=hit.text,
            field=ctx.texts(f"broadcasts.field.{hit.field}"),
            start=hit.start + 1,
            end=hit.end,
            category=hit.category,
        )
        for hit in hits
    )

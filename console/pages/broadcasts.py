"""城管发布 in the console: drafts (write, preview, submit), the review queue per stage, publishing,
一键撤稿, and this month's mass sends against the quota.

Every act goes through the broadcasts domain exactly as the chat and ``citybot broadcasts`` do; the
domain refuses what a staff member may not do (its own draft, a stage it holds no permission for)
and writes every act to the one audit trail (through broadcasts' own functions).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.file import FileField
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import get_session
from broadcasts import drafts, markup, publishing, quota, review
from broadcasts.errors import BroadcastError, SensitiveUnacknowledgedError
from broadcasts.jobs import api_for
from broadcasts.models import (
    AUTHOR_MAX,
    DIGEST_MAX,
    IN_REVIEW,
    TITLE_MAX,
    Draft,
    DraftStatus,
    Grade,
    Publication,
    PublicationKind,
    PublicationStatus,
    Stage,
    audit_trail,
)
from broadcasts.screening import Screening, load_lexicon
from broadcasts.settings import BroadcastSettings
from console import access
from console.access import requires
from console.forms import ConsoleForm
from console.refusals import explain
from staff.models import Staff
from staff.roles import Permission

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")

STAGE_LABELS = {Stage.FIRST: "初审", Stage.SECOND: "复审", Stage.FINAL: "终审"}
ACTION_LABELS = {
    "create": "新建",
    "edit": "修改",
    "submit": "提交初审",
    "approve": "审核通过",
    "return": "退回修改",
    "acknowledge_sensitive": "确认敏感表述",
    "screening_blocked": "禁用内容拦截",
    "publish": "发布",
    "mass_finished": "群发完成",
    "publish_finished": "发布完成",
    "withdraw": "撤稿",
    "discard": "放弃",
}
KIND_LABELS = {PublicationKind.MASS: "群发", PublicationKind.PUBLISH: "仅发布（不推送）"}
PUBLICATION_LABELS = {
    PublicationStatus.PENDING: "待发送",
    PublicationStatus.SENDING: "发送中",
    PublicationStatus.SENT: "已发送",
    PublicationStatus.FAILED: "失败",
    PublicationStatus.WITHDRAWN: "已撤稿",
}


class DraftForm(ConsoleForm):
    title = StringField(
        "标题",
        validators=[DataRequired("请输入标题"), Length(max=TITLE_MAX, message=f"标题最多 {TITLE_MAX} 字")],
    )
    author = StringField(
        "作者", validators=[Optional(), Length(max=AUTHOR_MAX, message=f"作者最多 {AUTHOR_MAX} 字")]
    )
    digest = TextAreaField(
        "摘要", validators=[Optional(), Length(max=DIGEST_MAX, message=f"摘要最多 {DIGEST_MAX} 字")]
    )
    body = TextAreaField("正文", validators=[DataRequired("请输入正文")], render_kw={"rows": 14})
    grade = SelectField("稿件等级", choices=[])
    cover = FileField("封面图片")

    def values(self) -> dict[str, Any]:
        """The draft's fields as the broadcasts domain takes them."""
        return {
            "title": self.title.data or "",
            "author": self.author.data or "",
            "digest": self.digest.data or "",
            "body": self.body.data or "",
            "grade": Grade(self.grade.data),
        }


def _grade_choices() -> list[tuple[str, str]]:
    texts = services.texts()
    return [(g.value, f"{texts(f'broadcasts.grade.{g.value}')}（{_sign_off_hint(g)}）") for g in Grade]


def _sign_off_hint(grade: Grade) -> str:
    return {
        Grade.GENERAL: "科室负责人复审",
        Grade.IMPORTANT: "科室负责人、分管领导复审",
        Grade.MAJOR: "科室负责人、分管领导、主要领导复审",
    }[grade]


def status_label(status: DraftStatus | str) -> str:
    return services.texts()(f"broadcasts.status.{DraftStatus(status).value}")


def grade_label(grade: Grade | None) -> str:
    return services.texts()(f"broadcasts.grade.{(grade or Grade.GENERAL).value}")


def _message(exc: BroadcastError) -> str:
    return explain(exc)


def _lexicon() -> Any:
    return load_lexicon(services.settings().section(BroadcastSettings).lexicon_file)


def _draft(db: Session, draft_id: int, me: Staff) -> Draft:
    draft = db.get(Draft, draft_id)
    # A working copy is its author's until submitted; a discarded draft is nobody's business.
    if draft is None or draft.status is DraftStatus.DISCARDED:
        abort(404)
    if draft.status is DraftStatus.DRAFTING and draft.created_by_id != me.id:
        abort(404)
    return draft


def _loaded(draft_id: int) -> tuple[Session, Staff, Draft]:
    """The request's session, the staff member and the draft they may see (else 404)."""
    db = get_session()
    me = access.require_staff()
    return db, me, _draft(db, draft_id, me)


def _refused(exc: BroadcastError, draft_id: int) -> ResponseReturnValue:
    get_session().rollback()
    flash(_message(exc), "error")
    return redirect(url_for(".detail", draft_id=draft_id))


# -- lists ----------------------------------------------------------------------------------------


@bp.get("/")
@requires(Permission.BROADCASTS_VIEW)
def index() -> ResponseReturnValue:
    db = get_session()
    me = access.require_staff()
    queues = {stage: review.queue(db, me, stage) for stage in Stage}
    ready = (
        list(db.scalars(select(Draft).where(Draft.status == DraftStatus.APPROVED).order_by(Draft.updated_at)))
        if me.can(Permission.BROADCAST_PUBLISH)
        else []
    )
    recent = list(
        db.scalars(
            select(Publication)
            .where(Publication.accepted_at.is_not(None))
            .order_by(Publication.accepted_at.desc())
            .limit(20)
        )
    )
    return render_template(
        "console/broadcasts.html",
        mine=drafts.of_author(db, me) if me.can(Permission.DRAFTS_WRITE) else [],
        queues=queues,
        in_review=review.in_review(db),
        ready=ready,
        recent=recent,
        rhythm=quota.rhythm(db, services.settings().section(BroadcastSettings), utcnow()),
        stage_labels=STAGE_LABELS,
        kind_labels=KIND_LABELS,
        publication_labels=PUBLICATION_LABELS,
        status_label=status_label,
        grade_label=grade_label,
    )


# -- writing --------------------------------------------------------------------------------------


def _form_page(form: DraftForm, draft: Draft | None, status: int = 200) -> ResponseReturnValue:
    return render_template("console/broadcast_form.html", form=form, draft=draft, limits=TITLE_MAX), status


def _apply_cover(db: Session, draft: Draft, me: Staff, form: DraftForm) -> None:
    upload = form.cover.data
    filename: str = getattr(upload, "filename", "")
    if upload is not None and filename:
        drafts.set_cover_image(db, draft, me, upload.read(), now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.DRAFTS_WRITE)
def new() -> ResponseReturnValue:
    me = access.require_staff()
    form = DraftForm()
    form.grade.choices = _grade_choices()
    if not form.is_submitted():
        form.author.data = me.display_name[:AUTHOR_MAX]
        return _form_page(form, None)
    if not form.validate():
        return _form_page(form, None, 422)
    db = get_session()
    try:
        draft = drafts.create(db, me, now=utcnow(), **form.values())
        _apply_cover(db, draft, me, form)
    except BroadcastError as exc:
        db.rollback()
        flash(_message(exc), "error")
        return _form_page(form, None, 422)
    db.commit()
    flash("草稿已保存。请核对预览后提交初审。", "success")
    return redirect(url_for(".detail", draft_id=draft.id))


@bp.route("/<int:draft_id>/edit", methods=["GET", "POST"])
@requires(Permission.DRAFTS_WRITE)
def edit(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    if not drafts.may_edit(draft, me):
        abort(403)
    form = DraftForm(obj=None if request.method == "POST" else draft)
    form.grade.choices = _grade_choices()
    if request.method == "GET":
        form.grade.data = (draft.grade or Grade.GENERAL).value
        return _form_page(form, draft)
    if not form.validate():
        return _form_page(form, draft, 422)
    try:
        version = draft.version
        drafts.edit(db, draft, me, now=utcnow(), **form.values())
        _apply_cover(db, draft, me, form)
    except BroadcastError as exc:
        db.rollback()
        flash(_message(exc), "error")
        return _form_page(form, draft, 422)
    db.commit()
    if draft.version != version and draft.status is DraftStatus.FIRST_REVIEW:
        flash(f"已保存为第 {draft.version} 版，审核从初审重新开始。", "warning")
    else:
        flash("已保存。", "success")
    return redirect(url_for(".detail", draft_id=draft.id))


@bp.post("/<int:draft_id>/submit")
@requires(Permission.DRAFTS_WRITE)
def submit(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    try:
        screening = review.submit(db, draft, me, _lexicon(), now=utcnow())
    except BroadcastError as exc:
        db.commit()  # keeps the audit entry of a blocked submission
        flash(_message(exc), "error")
        return redirect(url_for(".detail", draft_id=draft_id))
    db.commit()
    note = (
        f"（含敏感表述：{'、'.join(screening.sensitive_terms)}，审核人需确认）"
        if screening.sensitive_terms
        else ""
    )
    flash(f"已提交初审{note}。", "success")
    return redirect(url_for(".detail", draft_id=draft_id))


# -- the draft page -------------------------------------------------------------------------------


def _highlighted(text: str, screening: Screening, field: str) -> Markup:
    """``text`` with every hit of ``field`` marked, escaped."""
    hits = sorted((h for h in screening.hits if h.field == field), key=lambda h: h.start)
    parts: list[Markup | str] = []
    at = 0
    for hit in hits:
        if hit.start < at:
            continue
        parts.append(text[at : hit.start])
        parts.append(Markup('<mark class="{}">{}</mark>').format(hit.kind.value, text[hit.start : hit.end]))
        at = hit.end
    parts.append(text[at:])
    return Markup("").join(parts)


@bp.get("/<int:draft_id>")
@requires(Permission.BROADCASTS_VIEW)
def detail(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    screening = review.screen(_lexicon(), draft)
    pending_ack = sorted(set(screening.sensitive_terms) - review.acknowledged_terms(db, draft))
    refusal = review.refusal(db, draft, me) if draft.status in IN_REVIEW else None
    return render_template(
        "console/broadcast_detail.html",
        draft=draft,
        article_html=Markup(markup.to_html(draft.body)),
        chars=markup.char_count(draft.body),
        html_bytes=len(markup.to_html(draft.body).encode("utf-8")),
        screening=screening,
        highlighted=_highlighted(draft.body, screening, "body"),
        pending_ack=pending_ack,
        may_edit=drafts.may_edit(draft, me),
        may_submit=draft.status in (DraftStatus.DRAFTING, DraftStatus.RETURNED)
        and draft.created_by_id == me.id,
        may_decide=refusal is None and draft.status in IN_REVIEW,
        refusal=_message(refusal) if refusal is not None and draft.status in IN_REVIEW else "",
        may_return=draft.status in IN_REVIEW
        and (refusal is None or refusal.code in ("already_approved", "no_sign_off")),
        stage=review.stage_of(draft),
        missing=review.missing_sign_offs(db, draft) if draft.status is DraftStatus.SECOND_REVIEW else (),
        decisions=review.history(db, draft),
        trail=audit_trail(db, draft.id),
        publications=publishing.publications(db, draft),
        versions=drafts.versions(db, draft),
        rhythm=quota.rhythm(db, services.settings().section(BroadcastSettings), utcnow()),
        stage_labels=STAGE_LABELS,
        action_labels=ACTION_LABELS,
        kind_labels=KIND_LABELS,
        publication_labels=PUBLICATION_LABELS,
        status_label=status_label,
        grade_label=grade_label,
    )


@bp.get("/<int:draft_id>/cover")
@requires(Permission.BROADCASTS_VIEW)
def cover(draft_id: int) -> ResponseReturnValue:
    draft = _draft(get_session(), draft_id, access.require_staff())
    if draft.cover is None:
        abort(404)
    return Response(
        draft.cover.data, mimetype=draft.cover.content_type, headers={"Cache-Control": "no-store"}
    )


# -- review ---------------------------------------------------------------------------------------


@bp.post("/<int:draft_id>/approve")
@requires(Permission.BROADCASTS_VIEW)
def approve(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    stage = review.stage_of(draft)
    try:
        review.approve(
            db,
            draft,
            me,
            _lexicon(),
            now=utcnow(),
            comment=request.form.get("comment", "")[:500],
            acknowledge_sensitive=request.form.get("acknowledge") == "1",
        )
    except SensitiveUnacknowledgedError as exc:
        db.rollback()
        flash(f"稿件含敏感表述（{'、'.join(exc.terms)}），请勾选确认后再通过。", "error")
        return redirect(url_for(".detail", draft_id=draft_id))
    except BroadcastError as exc:
        return _refused(exc, draft_id)
    db.commit()
    flash(f"{STAGE_LABELS[stage] if stage else ''}通过，当前状态：{status_label(draft.status)}。", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:draft_id>/return")
@requires(Permission.BROADCASTS_VIEW)
def return_draft(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    try:
        review.return_to_author(db, draft, me, comment=request.form.get("comment", "")[:500], now=utcnow())
    except BroadcastError as exc:
        return _refused(exc, draft_id)
    db.commit()
    flash("已退回作者修改。", "success")
    return redirect(url_for(".index"))


# -- publishing -----------------------------------------------------------------------------------


@bp.post("/<int:draft_id>/publish")
@requires(Permission.BROADCAST_PUBLISH)
def publish(draft_id: int) -> ResponseReturnValue:
    db, me, draft = _loaded(draft_id)
    mode = request.form.get("mode", "all")
    tag_id: int | None = None
    if mode == "tag":
        raw = request.form.get("tag_id", "").strip()
        if not raw.isdigit():
            flash("请填写标签编号。", "error")
            return redirect(url_for(".detail", draft_id=draft_id))
        tag_id = int(raw)
    kind = PublicationKind.PUBLISH if mode == "publish" else PublicationKind.MASS
    try:
        publication = publishing.publish(
            db,
            api_for(_app()),
            draft,
            me,
            settings=services.settings().section(BroadcastSettings),
            lexicon=_lexicon(),
            now=utcnow(),
            kind=kind,
            tag_id=tag_id,
            acknowledge_sensitive=request.form.get("acknowledge") == "1",
        )
    except BroadcastError as exc:
        return _refused(exc, draft_id)
    db.commit()
    flash(f"已{KIND_LABELS[kind]}（{publication.clientmsgid}），等待微信完成。", "success")
    return redirect(url_for(".detail", draft_id=draft_id))


@bp.post("/publications/<int:publication_id>/withdraw")
@requires(Permission.BROADCAST_PUBLISH)
def withdraw(publication_id: int) -> ResponseReturnValue:
    db = get_session()
    me = access.require_staff()
    publication = db.get(Publication, publication_id)
    if publication is None:
        abort(404)
    try:
        publishing.withdraw(
            db, api_for(_app()), publication, me, reason=request.form.get("reason", "")[:500], now=utcnow()
        )
    except BroadcastError as exc:
        return _refused(exc, publication.draft_id)
    db.commit()
    flash("已撤稿。", "success")
    return redirect(url_for(".detail", draft_id=publication.draft_id))


def _app() -> Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]

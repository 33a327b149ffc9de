"""Writing drafts: create, edit (new versions once in review), covers, lookups.

A draft being written (``drafting``) or sent back (``returned``) is its author's working copy and
changes in place. Once submitted, every change is a new version: its approvals no longer count and
it goes back to 初审 (see broadcasts.review).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.jobs import defer
from broadcasts import markup
from broadcasts.errors import BroadcastError
from broadcasts.models import (
    AUTHOR_MAX,
    BODY_MAX,
    DIGEST_MAX,
    IN_REVIEW,
    TITLE_MAX,
    WORKING,
    Cover,
    Decision,
    Draft,
    DraftStatus,
    DraftVersion,
    Grade,
    ReviewDecision,
    audit,
)
from staff.models import Staff
from staff.roles import Permission

EDITABLE_FIELDS = ("title", "author", "digest", "body", "grade")
COVER_MAX_BYTES = 10 * 1024 * 1024  # WeChat's limit for image material
_IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
# Once a draft is in one of these states, a change makes a new version and restarts the review.
VERSIONED = IN_REVIEW | {DraftStatus.APPROVED, DraftStatus.FAILED}


def require_permission(staff: Staff, permission: Permission) -> None:
    if not staff.can(permission):
        raise BroadcastError("not_allowed", f"{staff.username} lacks {permission.value}")


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise BroadcastError("title_missing", "the title is empty")
    if len(title) > TITLE_MAX:
        raise BroadcastError("title_too_long", f"the title exceeds {TITLE_MAX} characters", limit=TITLE_MAX)
    return title


_TEXT_LIMITS = {"author": AUTHOR_MAX, "digest": DIGEST_MAX}


def _check(field: str, value: Any) -> Any:
    if field == "title":
        return check_title(str(value))
    if field in _TEXT_LIMITS:
        value, limit = str(value).strip(), _TEXT_LIMITS[field]
        if len(value) > limit:
            raise BroadcastError(f"{field}_too_long", f"the {field} exceeds {limit} characters", limit=limit)
        return value
    if field == "body":
        value = str(value).replace("\r\n", "\n").strip()
        if len(markup.to_html(value)) > BODY_MAX:
            raise BroadcastError("body_too_long", f"the body exceeds {BODY_MAX} characters", limit=BODY_MAX)
        return value
    if field == "grade":
        return None if value is None else Grade(value)
    raise ValueError(f"unknown draft field {field!r}")


def create(
    session: Session,
    creator: Staff,
    *,
    title: str,
    now: datetime,
    author: str = "",
    digest: str = "",
    body: str = "",
    grade: Grade | None = None,
) -> Draft:
    require_permission(creator, Permission.DRAFTS_WRITE)
    draft = Draft(
        title=check_title(title),
        author=_check("author", author or creator.display_name[:AUTHOR_MAX]),
        digest=_check("digest", digest),
        body=_check("body", body),
        grade=grade,
        status=DraftStatus.DRAFTING,
        version=0,
        created_by_id=creator.id,
        created_at=now,
        updated_at=now,
    )
    draft.created_by = creator
    session.add(draft)
    session.flush()
    audit(session, "create", actor=creator, draft=draft, title=draft.title)
    return draft


def get(session: Session, draft_id: int) -> Draft:
    draft = session.get(Draft, draft_id)
    if draft is None:
        raise BroadcastError("no_such_draft", f"no draft {draft_id}", id=draft_id)
    return draft


def may_edit(draft: Draft, staff: Staff) -> bool:
    if not staff.can(Permission.DRAFTS_WRITE):
        return False
    if draft.status in WORKING:
        return draft.created_by_id == staff.id
    return draft.status in VERSIONED


def snapshot(session: Session, draft: Draft, editor: Staff, now: datetime) -> DraftVersion:
    version = DraftVersion(
        draft_id=draft.id,
        version=draft.version,
        title=draft.title,
        author=draft.author,
        digest=draft.digest,
        body=draft.body,
        grade=draft.grade,
        edited_by_id=editor.id,
        created_at=now,
    )
    session.add(version)
    return version


def _approvals_of_version(session: Session, draft: Draft) -> int:
    return len(
        session.scalars(
            select(ReviewDecision.id).where(
                ReviewDecision.draft_id == draft.id,
                ReviewDecision.version == draft.version,
                ReviewDecision.decision == Decision.APPROVE,
            )
        ).all()
    )


def _changed(session: Session, draft: Draft, editor: Staff, now: datetime, fields: list[str]) -> None:
    """Book-keeping after a change: a new version (back to 初审) once the draft is in review."""
    draft.updated_at = now
    if draft.status not in VERSIONED:
        return
    approvals = _approvals_of_version(session, draft)
    previous = draft.status
    draft.version += 1
    draft.status = DraftStatus.FIRST_REVIEW
    session.flush()
    snapshot(session, draft, editor, now)
    audit(
        session,
        "edit",
        actor=editor,
        draft=draft,
        fields=fields,
        previous_status=previous.value,
        approvals_reset=approvals,
    )
    announce(session, draft, editor)


def edit(session: Session, draft: Draft, editor: Staff, *, now: datetime, **changes: Any) -> list[str]:
    """Apply ``changes`` (title, author, digest, body, grade); returns the fields that changed."""
    if not may_edit(draft, editor):
        if draft.status not in WORKING | VERSIONED:
            raise BroadcastError("not_editable", f"a {draft.status.value} draft cannot change")
        raise BroadcastError("not_allowed", f"{editor.username} may not edit draft {draft.id}")
    changed: list[str] = []
    for field, raw in changes.items():
        if field not in EDITABLE_FIELDS:
            raise ValueError(f"unknown draft field {field!r}")
        value = _check(field, raw)
        if getattr(draft, field) != value:
            setattr(draft, field, value)
            changed.append(field)
    if changed:
        _changed(session, draft, editor, now, changed)
    return changed


def append_paragraph(session: Session, draft: Draft, editor: Staff, text: str, *, now: datetime) -> None:
    edit(session, draft, editor, now=now, body=markup.append_paragraph(draft.body, text))


def sniff_image(data: bytes) -> str:
    for signature, content_type in _IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    raise BroadcastError("cover_not_image", "the cover must be a JPEG, PNG or GIF image")


def set_cover_image(session: Session, draft: Draft, editor: Staff, data: bytes, *, now: datetime) -> Cover:
    """A cover uploaded in the console (its bytes are kept until it is uploaded to WeChat)."""
    if not may_edit(draft, editor):
        raise BroadcastError("not_allowed", f"{editor.username} may not edit draft {draft.id}")
    if len(data) > COVER_MAX_BYTES:
        raise BroadcastError("cover_too_large", "the cover exceeds 10 MB", limit_mb=COVER_MAX_BYTES >> 20)
    content_type = sniff_image(data)
    draft.cover = Cover(
        content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest(), uploaded_at=now
    )
    draft.cover_media_id = None
    draft.cover_pic_url = None
    _changed(session, draft, editor, now, ["cover"])
    return draft.cover


def set_chat_cover(
    session: Session, draft: Draft, editor: Staff, *, media_id: str, pic_url: str, now: datetime
) -> None:
    """A photo sent in the chat: its bytes are fetched from WeChat when the draft is published."""
    if not may_edit(draft, editor):
        raise BroadcastError("not_allowed", f"{editor.username} may not edit draft {draft.id}")
    draft.cover = None
    draft.cover_media_id = media_id
    draft.cover_pic_url = pic_url
    _changed(session, draft, editor, now, ["cover"])
    session.flush()
    defer(session, "broadcasts.jobs.fetch_cover", draft.id, media_id)


def check_complete(draft: Draft) -> None:
    """Everything WeChat and the review need is there (limits were checked on input)."""
    check_title(draft.title)
    if not markup.to_plain(draft.body).strip():
        raise BroadcastError("body_missing", "the body is empty")
    if draft.grade is None:
        raise BroadcastError("grade_missing", "the grade is not set")


def discard(session: Session, draft: Draft, actor: Staff, *, now: datetime) -> None:
    if draft.status not in WORKING or draft.created_by_id != actor.id:
        raise BroadcastError("not_allowed", "only the author may discard an unsubmitted draft")
    draft.status = DraftStatus.DISCARDED
    draft.updated_at = now
    audit(session, "discard", actor=actor, draft=draft)


def unfinished(session: Session, staff: Staff) -> list[Draft]:
    """The staff member's drafts being written or sent back, newest first."""
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.created_by_id == staff.id, Draft.status.in_(WORKING))
            .order_by(Draft.updated_at.desc(), Draft.id.desc())
        )
    )


def of_author(session: Session, staff: Staff, limit: int = 20) -> list[Draft]:
    return list(
        session.scalars(
            select(Draft)
            .where(Draft.created_by_id == staff.id, Draft.status != DraftStatus.DISCARDED)
            .order_by(Draft.updated_at.desc(), Draft.id.desc())
            .limit(limit)
        )
    )


def versions(session: Session, draft: Draft) -> list[DraftVersion]:
    return list(
        session.scalars(
            select(DraftVersion).where(DraftVersion.draft_id == draft.id).order_by(DraftVersion.version)
        )
    )


def contributors(session: Session, draft: Draft) -> set[int]:
    """Staff ids who wrote any version of the draft: none of them may review it."""
    editors = set(session.scalars(select(DraftVersion.edited_by_id).where(DraftVersion.draft_id == draft.id)))
    return editors | {draft.created_by_id}


def announce(session: Session, draft: Draft, actor: Staff | None) -> None:
    """Once this unit of work commits, tell whoever the draft now waits for (broadcasts.jobs.announce)."""
    defer(
        session, "broadcasts.jobs.announce", draft.id, draft.status.value, None if actor is None else actor.id
    )

"""Publishing an approved draft, WeChat's job-finish events, 一键撤稿, and the latest items.

Publishing runs in order, each step remembered on the ``Publication`` row so a retry resumes
instead of repeating: the cover is uploaded as permanent material, the article is added to
WeChat's draft box (draft/add), then either

- a mass send (message/mass/sendall) to every follower or to one tag, with a ``clientmsgid``
  derived from the draft id and version: WeChat refuses a second send with the same id (45065),
  which means the first one stands, so one version is never sent twice; or
- a publication without notification (freepublish/submit), which uses no quota.

Mass sends count against the monthly quota (see broadcasts.quota); none left is refused before
anything is sent, and WeChat's own 45028 is reported the same way.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from broadcasts import drafts, markup, quota, review
from broadcasts.errors import BroadcastError, QuotaExhaustedError
from broadcasts.models import (
    Cover,
    Draft,
    DraftStatus,
    Publication,
    PublicationKind,
    PublicationStatus,
    audit,
    remember,
    remembered,
)
from broadcasts.remote import CLIENTMSGID_USED, NO_MASS_QUOTA, BroadcastAPI, errcode_of
from broadcasts.screening import Lexicon
from broadcasts.settings import BroadcastSettings
from staff.models import Staff
from staff.roles import Permission

log = logging.getLogger("citybot.broadcasts.publishing")

LIVE = (PublicationStatus.SENDING, PublicationStatus.SENT)
PUBLISH_LOCK = 0x6369_7479_0006  # an arbitrary, fixed advisory-lock key for mass sends


def clientmsgid_for(draft: Draft, kind: PublicationKind = PublicationKind.MASS) -> str:
    """Stable per draft version (WeChat allows 64 characters)."""
    suffix = "" if kind is PublicationKind.MASS else "-p"
    return f"citybot-d{draft.id}-v{draft.version}{suffix}"


def article_for(draft: Draft, thumb_media_id: str) -> dict[str, Any]:
    return {
        "title": draft.title,
        "author": draft.author,
        "digest": draft.digest,
        "content": markup.to_html(draft.body),
        "content_source_url": "",
        "thumb_media_id": thumb_media_id,
        "need_open_comment": 0,
        "only_fans_can_comment": 0,
    }


def _wechat_error(exc: Exception, step: str) -> BroadcastError:
    """WeChat's refusal names its errcode; a call that never got an errcode (network failure,
    timeout, HTTP error) is worded as WeChat being unreachable."""
    code = errcode_of(exc)
    if code is None:
        return BroadcastError("wechat_unreachable", f"WeChat unreachable at {step}: {exc}", step=step)
    return BroadcastError("wechat_error", f"WeChat refused {step}: {exc}", step=step, errcode=code)


def cover_material(session: Session, api: BroadcastAPI, draft: Draft, settings: BroadcastSettings) -> str:
    """The permanent media id of the draft's cover (or the bureau's default cover), uploading once."""
    cover = draft.cover
    if cover is None and draft.cover_media_id:
        try:
            data, content_type = api.download_media(draft.cover_media_id)
        except Exception as exc:
            raise BroadcastError(
                "cover_expired", f"the chat cover {draft.cover_media_id} could not be fetched: {exc}"
            ) from exc
        cover = Cover(
            content_type=content_type or drafts.sniff_image(data),
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        draft.cover = cover
    if cover is not None:
        if not cover.material_id:
            try:
                cover.material_id, cover.material_url = api.upload_image_material(
                    cover.data, f"cover-{draft.id}{_suffix(cover.content_type)}", cover.content_type
                )
            except Exception as exc:
                raise _wechat_error(exc, "material/add_material") from exc
        return cover.material_id
    if not settings.default_cover:
        raise BroadcastError("no_cover", f"draft {draft.id} has no cover and no default cover is set")
    path = Path(settings.default_cover)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BroadcastError("no_cover", f"default cover {path}: {exc.strerror or exc}") from None
    name = f"cover:{hashlib.sha256(data).hexdigest()}"
    known = remembered(session, name)
    if known:
        return known
    content_type = drafts.sniff_image(data)
    try:
        media_id, _url = api.upload_image_material(data, path.name, content_type)
    except Exception as exc:
        raise _wechat_error(exc, "material/add_material") from exc
    remember(session, name, media_id)
    return media_id


def _suffix(content_type: str) -> str:
    return {"image/png": ".png", "image/gif": ".gif"}.get(content_type, ".jpg")


def publications(session: Session, draft: Draft) -> list[Publication]:
    return list(
        session.scalars(select(Publication).where(Publication.draft_id == draft.id).order_by(Publication.id))
    )


def _one_publisher_at_a_time(session: Session) -> None:
    """Serialise mass sends so two publishers cannot both take the last of the quota.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: every write transaction is already
    exclusive (BEGIN IMMEDIATE, see bot.core.database).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK})


def publish(
    session: Session,
    api: BroadcastAPI,
    draft: Draft,
    actor: Staff,
    *,
    settings: BroadcastSettings,
    lexicon: Lexicon,
    now: datetime,
    kind: PublicationKind = PublicationKind.MASS,
    tag_id: int | None = None,
    acknowledge_sensitive: bool = False,
) -> Publication:
    """Publish the approved version of ``draft``; a repeat for the same version sends nothing."""
    drafts.require_permission(actor, Permission.BROADCAST_PUBLISH)
    clientmsgid = clientmsgid_for(draft, kind)
    existing = session.scalars(
        select(Publication).where(Publication.clientmsgid == clientmsgid)
    ).one_or_none()
    if existing is not None and existing.status in (*LIVE, PublicationStatus.WITHDRAWN):
        return existing
    if draft.status is not DraftStatus.APPROVED:
        raise BroadcastError("wrong_status", f"a {draft.status.value} draft cannot be published")
    review.check_content(
        session,
        draft,
        actor,
        lexicon,
        acknowledge_sensitive=acknowledge_sensitive,
        require_own_acknowledgement=False,
    )
    if kind is PublicationKind.MASS:
        _one_publisher_at_a_time(session)
        status = quota.rhythm(session, settings, now)
        if status.used >= status.quota:
            raise QuotaExhaustedError(status.used, status.quota)

    publication = existing or Publication(
        draft_id=draft.id,
        version=draft.version,
        kind=kind,
        clientmsgid=clientmsgid,
        tag_id=tag_id,
        created_by_id=actor.id,
        created_at=now,
    )
    publication.tag_id = tag_id
    publication.status = PublicationStatus.PENDING
    publication.error = None
    session.add(publication)

    if not publication.thumb_media_id:
        publication.thumb_media_id = cover_material(session, api, draft, settings)
    if not publication.draft_media_id:
        try:
            publication.draft_media_id = api.add_draft([article_for(draft, publication.thumb_media_id)])
        except Exception as exc:
            raise _wechat_error(exc, "draft/add") from exc
    session.flush()

    if kind is PublicationKind.MASS:
        _mass_send(session, api, publication, settings, now)
    else:
        try:
            publication.publish_id = str(api.submit_publish(publication.draft_media_id))
        except Exception as exc:
            raise _wechat_error(exc, "freepublish/submit") from exc
        publication.status = PublicationStatus.SENDING
        publication.accepted_at = now
    draft.status = DraftStatus.PUBLISHED
    draft.updated_at = now
    audit(
        session,
        "publish",
        actor=actor,
        draft=draft,
        kind=kind.value,
        clientmsgid=clientmsgid,
        tag_id=tag_id,
        msg_id=publication.msg_id,
        publish_id=publication.publish_id,
        already_sent=publication.status is PublicationStatus.SENT,
    )
    return publication


def _mass_send(
    session: Session, api: BroadcastAPI, publication: Publication, settings: BroadcastSettings, now: datetime
) -> None:
    assert publication.draft_media_id is not None
    try:
        result = api.mass_send_all(
            publication.draft_media_id,
            tag_id=publication.tag_id,
            clientmsgid=publication.clientmsgid,
            send_ignore_reprint=settings.send_ignore_reprint,
        )
    except Exception as exc:
        code = errcode_of(exc)
        if code == CLIENTMSGID_USED:
            # An earlier attempt reached WeChat and its commit was lost: that send stands.
            log.warning("clientmsgid %s was already used: treating it as sent", publication.clientmsgid)
            publication.msg_id = _int(getattr(exc, "answer", {}).get("msg_id"))
            publication.status = PublicationStatus.SENT
            publication.accepted_at = now
            publication.error = "45065: clientmsgid already used; the earlier send stands"
            return
        if code == NO_MASS_QUOTA:
            status = quota.rhythm(session, settings, now)
            raise QuotaExhaustedError(status.used, status.quota, reported_by_wechat=True) from exc
        raise _wechat_error(exc, "message/mass/sendall") from exc
    publication.msg_id = _int(result.get("msg_id"))
    publication.msg_data_id = _int(result.get("msg_data_id"))
    publication.status = PublicationStatus.SENDING
    publication.accepted_at = now


def _int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def withdraw(
    session: Session, api: BroadcastAPI, publication: Publication, actor: Staff, *, reason: str, now: datetime
) -> Publication:
    """一键撤稿: delete the mass message or the published article; audited with the reason."""
    drafts.require_permission(actor, Permission.BROADCAST_PUBLISH)
    if not reason.strip():
        raise BroadcastError("comment_required", "a withdrawal needs a reason")
    if publication.status not in LIVE:
        raise BroadcastError(
            "not_withdrawable", f"a {publication.status.value} publication cannot be withdrawn"
        )
    try:
        if publication.kind is PublicationKind.MASS:
            if publication.msg_id is None:
                raise BroadcastError("not_withdrawable", "WeChat gave no msg_id for this send")
            api.delete_mass(publication.msg_id, 0)
        else:
            if not publication.article_id:
                raise BroadcastError("not_withdrawable", "the publish job has not finished yet")
            api.delete_publish(publication.article_id, 0)
    except BroadcastError:
        raise
    except Exception as exc:
        raise _wechat_error(exc, "withdraw") from exc
    publication.status = PublicationStatus.WITHDRAWN
    publication.withdrawn_at = now
    draft = publication.draft
    draft.status = DraftStatus.WITHDRAWN
    draft.updated_at = now
    audit(
        session,
        "withdraw",
        actor=actor,
        draft=draft,
        comment=reason.strip(),
        publication=publication.id,
        kind=publication.kind.value,
    )
    return publication


def _items(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _failed(publication: Publication, error: str) -> None:
    publication.status = PublicationStatus.FAILED
    publication.error = error
    publication.draft.status = DraftStatus.FAILED


def mass_job_finished(session: Session, fields: dict[str, Any], now: datetime) -> Publication | None:
    """MASSSENDJOBFINISH: final status and counts of a mass send, by its MsgID."""
    msg_id = _int(fields.get("MsgID") or fields.get("MsgId"))
    if msg_id is None:
        return None
    publication = session.scalars(select(Publication).where(Publication.msg_id == msg_id)).one_or_none()
    if publication is None:
        log.info("MASSSENDJOBFINISH for unknown msg_id %s", msg_id)
        return None
    status = str(fields.get("Status") or "")
    publication.total_count = _int(fields.get("TotalCount"))
    publication.filter_count = _int(fields.get("FilterCount"))
    publication.sent_count = _int(fields.get("SentCount"))
    publication.error_count = _int(fields.get("ErrorCount"))
    publication.finished_at = now
    urls = (fields.get("ArticleUrlResult") or {}) if isinstance(fields.get("ArticleUrlResult"), dict) else {}
    for item in _items(
        (urls.get("ResultList") or {}).get("item") if isinstance(urls.get("ResultList"), dict) else None
    ):
        if isinstance(item, dict) and item.get("ArticleUrl") and not publication.article_url:
            publication.article_url = str(item["ArticleUrl"])
    if publication.status is not PublicationStatus.WITHDRAWN:
        if status == "send success":
            publication.status = PublicationStatus.SENT
        else:
            _failed(publication, status or "unknown status")
    audit(
        session,
        "mass_finished",
        actor=None,
        draft=publication.draft,
        status=status,
        sent=publication.sent_count,
        errors=publication.error_count,
    )
    return publication


PUBLISH_FAILURES = {
    "2": "original-content check failed",
    "3": "failed",
    "4": "refused by the platform's review",
    "5": "deleted after publishing",
    "6": "banned after publishing",
}


def publish_job_finished(session: Session, fields: dict[str, Any], now: datetime) -> Publication | None:
    """PUBLISHJOBFINISH: the freepublish job's outcome, by its publish_id."""
    info = fields.get("PublishEventInfo")
    if not isinstance(info, dict):
        return None
    publish_id = str(info.get("publish_id") or "")
    publication = session.scalars(
        select(Publication).where(Publication.publish_id == publish_id)
    ).one_or_none()
    if publication is None:
        log.info("PUBLISHJOBFINISH for unknown publish_id %s", publish_id)
        return None
    code = str(info.get("publish_status") or "")
    if code == "1":  # still publishing
        return publication
    publication.finished_at = now
    if code == "0":
        publication.article_id = str(info.get("article_id") or "") or None
        detail = info.get("article_detail")
        if not isinstance(detail, dict):
            detail = {}
        for item in _items(detail.get("item")):
            if isinstance(item, dict) and item.get("article_url"):
                publication.article_url = str(item["article_url"])
                break
        if publication.status is not PublicationStatus.WITHDRAWN:
            publication.status = PublicationStatus.SENT
    else:
        failed = ", ".join(str(i) for i in _items(info.get("fail_idx")))
        reason = PUBLISH_FAILURES.get(code, f"status {code}")
        publication.error = f"{reason}" + (f" (articles {failed})" if failed else "")
        if code in ("5", "6"):
            publication.status = PublicationStatus.WITHDRAWN
            publication.draft.status = DraftStatus.WITHDRAWN
        else:
            _failed(publication, publication.error)
    audit(
        session,
        "publish_finished",
        actor=None,
        draft=publication.draft,
        publish_status=code,
        error=publication.error,
    )
    return publication


def latest(session: Session, limit: int) -> list[Publication]:
    """The newest live publications that have a link, one per draft."""
    rows = session.scalars(
        select(Publication)
        .where(Publication.status.in_(LIVE), Publication.article_url.is_not(None))
        .order_by(Publication.accepted_at.desc(), Publication.id.desc())
        .limit(limit * 3)
    )
    seen: set[int] = set()
    found: list[Publication] = []
    for publication in rows:
        if publication.draft_id in seen:
            continue
        seen.add(publication.draft_id)
        found.append(publication)
        if len(found) == limit:
            break
    return found

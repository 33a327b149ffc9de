"""Telling linked staff in the chat that a draft waits for them (customer-service text messages).

The notices are computed inside the unit of work and delivered after it commits; a staff member
outside WeChat's 48-hour window (45015) or over the message quota (45047) is skipped with a log
line, since the console queue shows the same drafts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.core.texts import Texts
from broadcasts import review
from broadcasts.models import Draft, DraftStatus
from broadcasts.remote import BroadcastAPI, errcode_of
from staff.models import Staff, with_permission
from staff.roles import Permission

log = logging.getLogger("citybot.broadcasts.notify")


@dataclass(frozen=True)
class Notice:
    openid: str
    text: str


def _stage_label(texts: Texts, draft: Draft) -> str:
    return texts(f"broadcasts.status.{draft.status.value}")


def after_change(session: Session, draft: Draft, texts: Texts, *, actor: Staff | None = None) -> list[Notice]:
    """Who to tell now that ``draft`` reached its current status."""
    grade = texts(f"broadcasts.grade.{(draft.grade.value if draft.grade else 'general')}")
    notices: list[Notice] = []
    if draft.status in (DraftStatus.FIRST_REVIEW, DraftStatus.SECOND_REVIEW, DraftStatus.FINAL_REVIEW):
        for member in review.waiting_reviewers(session, draft):
            if member.wechat_openid and (actor is None or member.id != actor.id):
                notices.append(
                    Notice(
                        member.wechat_openid,
                        texts(
                            "broadcasts.notify_review",
                            id=draft.id,
                            title=draft.title,
                            grade=grade,
                            stage=_stage_label(texts, draft),
                        ),
                    )
                )
    elif draft.status is DraftStatus.APPROVED:
        for member in with_permission(session, Permission.BROADCAST_PUBLISH):
            if member.wechat_openid and (actor is None or member.id != actor.id):
                notices.append(
                    Notice(
                        member.wechat_openid,
                        texts("broadcasts.notify_approved", id=draft.id, title=draft.title),
                    )
                )
    elif draft.status is DraftStatus.RETURNED:
        author = draft.created_by
        if author.wechat_openid and author.active and (actor is None or author.id != actor.id):
            decisions = review.history(session, draft)
            comment = decisions[-1].comment if decisions else ""
            notices.append(
                Notice(
                    author.wechat_openid,
                    texts("broadcasts.notify_returned", id=draft.id, title=draft.title, comment=comment),
                )
            )
    return notices


def deliver(api: BroadcastAPI, notices: list[Notice]) -> int:
    """Send the notices; returns how many went out. Failures are logged, never raised."""
    sent = 0
    for notice in notices:
        try:
            api.send_text(notice.openid, notice.text)
        except Exception as exc:
            log.warning("could not notify %s (errcode %s): %s", notice.openid, errcode_of(exc), exc)
        else:
            sent += 1
    return sent

"""先审后发: the three review stages and who may decide at each.

- 初审 (first): an editor (``drafts.review.first``).
- 复审 (second): every sign-off the grade requires — 一般: the section chief; 重要: also the deputy
  leader; 重大: also the head. A reviewer fills one sign-off they hold a permission for.
- 终审 (final): the chief editor (``drafts.review.final``); the draft is then ready to publish.

Nobody decides on a draft they wrote or edited, and nobody approves the same version twice (so one
person never fills two sign-offs or two stages). Decisions belong to a version: any edit makes a new
version, which starts again at 初审 with no approvals. A reviewer may return the draft to its author
with a comment at any stage. Every decision is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcasts import drafts
from broadcasts.errors import BlockedError, BroadcastError, SensitiveUnacknowledgedError
from broadcasts.models import (
    IN_REVIEW,
    STAGE_OF_STATUS,
    WORKING,
    Decision,
    Draft,
    DraftStatus,
    Grade,
    ReviewDecision,
    SignOff,
    Stage,
    audit,
    audit_trail,
)
from broadcasts.screening import Lexicon, Screening
from staff.models import Staff, all_staff
from staff.roles import Permission

SIGN_OFFS: dict[Grade, tuple[SignOff, ...]] = {
    Grade.GENERAL: (SignOff.SECTION,),
    Grade.IMPORTANT: (SignOff.SECTION, SignOff.DEPUTY),
    Grade.MAJOR: (SignOff.SECTION, SignOff.DEPUTY, SignOff.HEAD),
}
SIGN_OFF_PERMISSION: dict[SignOff, Permission] = {
    SignOff.SECTION: Permission.DRAFTS_SIGN_SECTION,
    SignOff.DEPUTY: Permission.DRAFTS_SIGN_DEPUTY,
    SignOff.HEAD: Permission.DRAFTS_SIGN_HEAD,
}
STAGE_PERMISSION: dict[Stage, Permission] = {
    Stage.FIRST: Permission.DRAFTS_FIRST_REVIEW,
    Stage.SECOND: Permission.DRAFTS_SECOND_REVIEW,
    Stage.FINAL: Permission.DRAFTS_FINAL_REVIEW,
}
NEXT_STATUS: dict[Stage, DraftStatus] = {
    Stage.FIRST: DraftStatus.SECOND_REVIEW,
    Stage.SECOND: DraftStatus.FINAL_REVIEW,
    Stage.FINAL: DraftStatus.APPROVED,
}
ACKNOWLEDGE = "acknowledge_sensitive"


def screen(lexicon: Lexicon, draft: Draft) -> Screening:
    return lexicon.screen(
        {"title": draft.title, "author": draft.author, "digest": draft.digest, "body": draft.body}
    )


def _screening_audit(screening: Screening) -> list[dict[str, object]]:
    return [
        {
            "field": h.field,
            "term": h.term,
            "category": h.category,
            "kind": h.kind.value,
            "span": [h.start, h.end],
        }
        for h in screening.hits
    ]


def submit(session: Session, draft: Draft, actor: Staff, lexicon: Lexicon, *, now: datetime) -> Screening:
    """Send a working draft to 初审 after screening; a forbidden hit blocks (BlockedError)."""
    if draft.status not in WORKING:
        raise BroadcastError("wrong_status", f"a {draft.status.value} draft cannot be submitted")
    if draft.created_by_id != actor.id:
        raise BroadcastError("not_allowed", "only the author submits a draft")
    drafts.require_permission(actor, Permission.DRAFTS_WRITE)
    drafts.check_complete(draft)
    screening = screen(lexicon, draft)
    if screening.blocked:
        audit(session, "screening_blocked", actor=actor, draft=draft, hits=_screening_audit(screening))
        raise BlockedError(screening)
    draft.version += 1
    draft.status = DraftStatus.FIRST_REVIEW
    draft.submitted_at = now
    draft.updated_at = now
    session.flush()
    drafts.snapshot(session, draft, actor, now)
    audit(session, "submit", actor=actor, draft=draft, sensitive=list(screening.sensitive_terms))
    drafts.announce(session, draft, actor)
    return screening


def stage_of(draft: Draft) -> Stage | None:
    return STAGE_OF_STATUS.get(draft.status)


def decisions(session: Session, draft: Draft) -> list[ReviewDecision]:
    """The decisions on the current version, oldest first."""
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.draft_id == draft.id, ReviewDecision.version == draft.version)
            .order_by(ReviewDecision.id)
        )
    )


def history(session: Session, draft: Draft) -> list[ReviewDecision]:
    return list(
        session.scalars(
            select(ReviewDecision).where(ReviewDecision.draft_id == draft.id).order_by(ReviewDecision.id)
        )
    )


def required_sign_offs(draft: Draft) -> tuple[SignOff, ...]:
    return SIGN_OFFS[draft.grade or Grade.GENERAL]


def signed_off(session: Session, draft: Draft) -> set[SignOff]:
    return {
        d.sign_off
        for d in decisions(session, draft)
        if d.stage is Stage.SECOND and d.decision is Decision.APPROVE and d.sign_off is not None
    }


def missing_sign_offs(session: Session, draft: Draft) -> tuple[SignOff, ...]:
    done = signed_off(session, draft)
    return tuple(s for s in required_sign_offs(draft) if s not in done)


def _sign_off_for(session: Session, draft: Draft, reviewer: Staff) -> SignOff | None:
    for sign_off in missing_sign_offs(session, draft):
        if reviewer.can(SIGN_OFF_PERMISSION[sign_off]):
            return sign_off
    return None


def refusal(session: Session, draft: Draft, reviewer: Staff) -> BroadcastError | None:
    """Why ``reviewer`` may not decide on ``draft`` now; None when they may."""
    stage = stage_of(draft)
    if stage is None:
        return BroadcastError("wrong_status", f"a {draft.status.value} draft is not in review")
    if not reviewer.can(STAGE_PERMISSION[stage]):
        return BroadcastError("not_allowed", f"{reviewer.username} may not review at stage {stage.value}")
    if reviewer.id in drafts.contributors(session, draft):
        return BroadcastError("own_draft", f"{reviewer.username} wrote or edited this draft")
    if any(
        d.reviewer_id == reviewer.id and d.decision is Decision.APPROVE for d in decisions(session, draft)
    ):
        return BroadcastError("already_approved", f"{reviewer.username} already approved this version")
    if stage is Stage.SECOND and _sign_off_for(session, draft, reviewer) is None:
        return BroadcastError(
            "no_sign_off", f"{reviewer.username} holds none of the sign-offs this grade still needs"
        )
    return None


def may_decide(session: Session, draft: Draft, reviewer: Staff) -> bool:
    return refusal(session, draft, reviewer) is None


def acknowledged_terms(session: Session, draft: Draft) -> set[str]:
    terms: set[str] = set()
    for entry in audit_trail(session, draft.id, action=ACKNOWLEDGE, version=draft.version):
        terms.update(entry.details.get("terms", []))
    return terms


def check_content(
    session: Session,
    draft: Draft,
    actor: Staff,
    lexicon: Lexicon,
    *,
    acknowledge_sensitive: bool,
    require_own_acknowledgement: bool,
) -> Screening:
    """Screen the draft now: forbidden blocks; sensitive needs an acknowledgement, which is audited.

    ``require_own_acknowledgement``: every reviewer acknowledges for themselves; otherwise (publishing)
    an earlier acknowledgement of the same terms on this version suffices.
    """
    screening = screen(lexicon, draft)
    if screening.blocked:
        audit(session, "screening_blocked", actor=actor, draft=draft, hits=_screening_audit(screening))
        raise BlockedError(screening)
    terms = screening.sensitive_terms
    if terms:
        pending = (
            terms
            if require_own_acknowledgement
            else tuple(t for t in terms if t not in acknowledged_terms(session, draft))
        )
        if pending and not acknowledge_sensitive:
            raise SensitiveUnacknowledgedError(screening, pending)
        if pending:
            audit(session, ACKNOWLEDGE, actor=actor, draft=draft, terms=list(terms))
    return screening


def _record(
    session: Session,
    draft: Draft,
    reviewer: Staff,
    stage: Stage,
    kind: Decision,
    comment: str,
    now: datetime,
    sign_off: SignOff | None = None,
) -> ReviewDecision:
    decision = ReviewDecision(
        draft_id=draft.id,
        version=draft.version,
        stage=stage,
        sign_off=sign_off,
        decision=kind,
        reviewer_id=reviewer.id,
        comment=comment.strip(),
        created_at=now,
    )
    session.add(decision)
    session.flush()
    return decision


def approve(
    session: Session,
    draft: Draft,
    reviewer: Staff,
    lexicon: Lexicon,
    *,
    now: datetime,
    comment: str = "",
    acknowledge_sensitive: bool = False,
) -> ReviewDecision:
    reason = refusal(session, draft, reviewer)
    if reason is not None:
        raise reason
    stage = stage_of(draft)
    assert stage is not None
    check_content(
        session,
        draft,
        reviewer,
        lexicon,
        acknowledge_sensitive=acknowledge_sensitive,
        require_own_acknowledgement=True,
    )
    sign_off = _sign_off_for(session, draft, reviewer) if stage is Stage.SECOND else None
    decision = _record(session, draft, reviewer, stage, Decision.APPROVE, comment, now, sign_off)
    if stage is not Stage.SECOND or not missing_sign_offs(session, draft):
        draft.status = NEXT_STATUS[stage]
    draft.updated_at = now
    audit(
        session,
        "approve",
        actor=reviewer,
        draft=draft,
        comment=decision.comment,
        stage=stage.value,
        sign_off=None if sign_off is None else sign_off.value,
        status=draft.status.value,
    )
    if draft.status is not DraftStatus.SECOND_REVIEW or stage is Stage.FIRST:
        drafts.announce(session, draft, reviewer)
    return decision


def return_to_author(
    session: Session, draft: Draft, reviewer: Staff, *, comment: str, now: datetime
) -> ReviewDecision:
    """Send the draft back with a comment; its approvals end with this version."""
    stage = stage_of(draft)
    reason = refusal(session, draft, reviewer)
    if reason is not None and reason.code not in ("already_approved", "no_sign_off"):
        raise reason
    assert stage is not None
    if not comment.strip():
        raise BroadcastError("comment_required", "a returned draft needs a comment")
    decision = _record(session, draft, reviewer, stage, Decision.RETURN, comment, now)
    draft.status = DraftStatus.RETURNED
    draft.updated_at = now
    audit(session, "return", actor=reviewer, draft=draft, comment=decision.comment, stage=stage.value)
    drafts.announce(session, draft, reviewer)
    return decision


def in_review(session: Session, stage: Stage | None = None) -> list[Draft]:
    statuses: Iterable[DraftStatus] = (
        IN_REVIEW if stage is None else [s for s, st in STAGE_OF_STATUS.items() if st is stage]
    )
    return list(
        session.scalars(
            select(Draft).where(Draft.status.in_(list(statuses))).order_by(Draft.submitted_at, Draft.id)
        )
    )


def queue(session: Session, reviewer: Staff, stage: Stage | None = None) -> list[Draft]:
    """Drafts waiting for a decision ``reviewer`` may take now, oldest first (the console queue)."""
    return [draft for draft in in_review(session, stage) if may_decide(session, draft, reviewer)]


def waiting_reviewers(session: Session, draft: Draft) -> list[Staff]:
    """Active staff who may take the next decision on ``draft`` (to be told it is waiting)."""
    return [member for member in all_staff(session) if member.active and may_decide(session, draft, member)]

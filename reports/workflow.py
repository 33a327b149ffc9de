"""The life of a report, as transitions that check who acts and on what they based the decision.

    submitted ─> under_review ─> accepted ─> resolved | closed
        └──────────┴──────> rejected (reason code) | duplicate (linked to the original)
    accepted ─(revoke_acceptance)─> under_review, with a counter-entry in the ledger

Every transition takes the status the actor saw (``expected``). The report row is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers), and if its status is no longer
``expected`` the decision is stale and refused: two reviewers accepting at the same moment produce
one acceptance. Each act appends an audit entry and queues a notice to the resident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from sqlalchemy.orm import Session

from bot.core import audit
from bot.core.audit import AuditEntry
from bot.core.clock import utcnow
from bot.core.errors import Codes, Label
from reports import notify, rewards
from reports.errors import ReportsError
from reports.models import ACTIONS, TARGET, Photo, RejectReason, Report, ReportStatus
from reports.roles import Actor, PermissionDeniedError
from reports.settings import ReportsSettings
from staff.roles import Permission

S = ReportStatus


class WorkflowError(ReportsError):
    """A transition was refused."""

    codes: ClassVar[Codes] = {
        "unknown_reason": ("reason", "known"),
        "duplicate_self": (),
        "duplicate_cycle": (),
        "original_rejected": ("number",),
        "comment_required": (),
    }


class PhotosNotReadyError(WorkflowError):
    """An acceptance of a report whose photos staff cannot see yet, without the reviewer's
    confirmation that they accept it all the same."""

    codes: ClassVar[Codes] = {"photos_not_ready": ("number", "count")}


class ReportNotFoundError(WorkflowError, LookupError):
    codes: ClassVar[Codes] = {"not_found": (), "original_not_found": ()}


class InvalidTransitionError(WorkflowError):
    """The transition does not start from the given status."""

    codes: ClassVar[Codes] = {"invalid_transition": ("action", "status")}


class StaleDecisionError(WorkflowError):
    """The report changed since the actor looked at it."""

    codes: ClassVar[Codes] = {"stale": ("number", "status")}

    def __init__(self, report_id: int, number: str, expected: ReportStatus, actual: ReportStatus) -> None:
        super().__init__(
            "stale",
            f"report {number} is {actual}, not {expected}: the decision is stale",
            number=number,
            status=status_label(actual),
        )
        self.report_id = report_id
        self.expected = expected
        self.actual = actual


def status_label(status: ReportStatus | str) -> Label:
    return Label(f"reports.status.{status}")


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[ReportStatus, ...]
    target: ReportStatus
    permission: Permission


DECIDE, ADVANCE = Permission.REPORTS_REVIEW, Permission.REPORTS_ADVANCE  # the system holds only ADVANCE
START_REVIEW = Transition("start_review", (S.SUBMITTED,), S.UNDER_REVIEW, ADVANCE)
ACCEPT = Transition("accept", (S.SUBMITTED, S.UNDER_REVIEW), S.ACCEPTED, DECIDE)
REJECT = Transition("reject", (S.SUBMITTED, S.UNDER_REVIEW), S.REJECTED, DECIDE)
MARK_DUPLICATE = Transition("mark_duplicate", (S.SUBMITTED, S.UNDER_REVIEW), S.DUPLICATE, DECIDE)
RESOLVE = Transition("resolve", (S.ACCEPTED,), S.RESOLVED, DECIDE)
CLOSE = Transition("close", (S.ACCEPTED,), S.CLOSED, ADVANCE)
REVOKE_ACCEPTANCE = Transition("revoke_acceptance", (S.ACCEPTED,), S.UNDER_REVIEW, DECIDE)

TRANSITIONS = (START_REVIEW, ACCEPT, REJECT, MARK_DUPLICATE, RESOLVE, CLOSE, REVOKE_ACCEPTANCE)


def record(
    session: Session,
    report: Report,
    actor: Actor,
    from_status: ReportStatus | None,
    to_status: ReportStatus,
    *,
    act: str = "submit",
    reason_code: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one entry to the audit trail: the act ``act`` (a transition's name) on ``report``."""
    return audit.record(
        session,
        ACTIONS.get(act, f"report.{act}"),
        actor=actor.name,
        staff_id=actor.staff_id,
        target=report.number,
        target_kind=TARGET,
        target_id=report.id,
        details={
            "role": actor.role,
            "from": None if from_status is None else str(from_status),
            "to": str(to_status),
            "reason": reason_code,
            "comment": comment,
        },
        at=now or utcnow(),
    )


def _begin(
    session: Session, transition: Transition, report_id: int, actor: Actor, expected: ReportStatus
) -> Report:
    actor.require(transition.permission, transition.name)
    expected = ReportStatus(expected)
    if expected not in transition.sources:
        allowed = ", ".join(transition.sources)
        raise InvalidTransitionError(
            "invalid_transition",
            f"{transition.name} starts from {allowed}, not {expected}",
            action=Label(f"reports.transitions.{transition.name}"),
            status=status_label(expected),
        )
    report = session.get(Report, report_id, with_for_update=True, populate_existing=True)
    if report is None:
        raise ReportNotFoundError("not_found", f"no report {report_id}")
    if report.status != expected:
        raise StaleDecisionError(report_id, report.number, expected, report.status)
    if actor.openid is not None and actor.openid == report.openid:
        raise PermissionDeniedError("own_report", f"{actor.name} cannot decide on a report of their own")
    return report


def _finish(
    session: Session,
    transition: Transition,
    report: Report,
    actor: Actor,
    *,
    reason_code: str | None = None,
    comment: str | None = None,
    points: int | None = None,
    now: datetime,
) -> Report:
    previous = report.status
    report.status = transition.target
    report.updated_at = now
    record(
        session,
        report,
        actor,
        previous,
        transition.target,
        act=transition.name,
        reason_code=reason_code,
        comment=comment,
        now=now,
    )
    session.flush()
    notify.status_changed(session, report, transition.name, now=now, points=points)
    return report


def _move(
    session: Session,
    transition: Transition,
    report_id: int,
    actor: Actor,
    expected: ReportStatus,
    comment: str | None,
    now: datetime | None,
) -> Report:
    now = now or utcnow()
    report = _begin(session, transition, report_id, actor, expected)
    return _finish(session, transition, report, actor, comment=comment, now=now)


def start_review(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus = S.SUBMITTED,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """A reviewer (or the system) takes the report into review."""
    return _move(session, START_REVIEW, report_id, actor, expected, comment, now)


def accept(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus,
    *,
    settings: ReportsSettings,
    comment: str | None = None,
    photos_confirmed: bool = False,
    now: datetime | None = None,
) -> Report:
    """Accept and award the category's points (once, within the caps).

    While a photo is not ready (still downloading, or its download failed) the reviewer has not
    seen it: the acceptance is refused with PhotosNotReadyError unless ``photos_confirmed`` says
    the reviewer accepts without it.
    """
    now = now or utcnow()
    report = _begin(session, ACCEPT, report_id, actor, expected)
    unready = unready_photos(report)
    if unready and not photos_confirmed:
        raise PhotosNotReadyError(
            "photos_not_ready",
            f"report {report.number} has {len(unready)} photo(s) not ready; accepting needs a confirmation",
            number=report.number,
            count=len(unready),
        )
    report.acceptances += 1
    report.decided_at = now
    report.reason_code = None
    session.flush()
    entry = rewards.award(session, report, actor, settings=settings, now=now)
    return _finish(session, ACCEPT, report, actor, comment=comment, points=entry.points, now=now)


def unready_photos(report: Report) -> list[Photo]:
    """The photos of ``report`` that staff cannot see yet (pending, retrying, failed, expired, invalid)."""
    return [photo for photo in report.photos if not photo.ready]


def reject(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus,
    reason: RejectReason | str,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Reject with a reason code from the closed vocabulary (shown to the resident)."""
    now = now or utcnow()
    try:
        reason = RejectReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in RejectReason)
        raise WorkflowError(
            "unknown_reason", f"unknown reason {reason!r}; use one of {known}", reason=reason, known=known
        ) from None
    report = _begin(session, REJECT, report_id, actor, expected)
    report.decided_at = now
    report.reason_code = reason.value
    return _finish(session, REJECT, report, actor, reason_code=reason.value, comment=comment, now=now)


def mark_duplicate(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus,
    original_id: int,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Link to the original incident; a duplicate earns nothing."""
    now = now or utcnow()
    if original_id == report_id:
        raise WorkflowError("duplicate_self", "a report cannot duplicate itself")
    report = _begin(session, MARK_DUPLICATE, report_id, actor, expected)
    original = session.get(Report, original_id)
    seen: set[int] = set()
    while original is not None and original.duplicate_of_id is not None and original.id not in seen:
        seen.add(original.id)  # link to the root incident
        original = session.get(Report, original.duplicate_of_id)
    if original is None:
        raise ReportNotFoundError("original_not_found", f"no original report {original_id}")
    if original.id == report.id:
        raise WorkflowError("duplicate_cycle", "the original is a duplicate of this report")
    if original.status == S.REJECTED:
        raise WorkflowError(
            "original_rejected", f"the original {original.number} was rejected", number=original.number
        )
    report.duplicate_of_id = original.id
    report.decided_at = now
    report.reason_code = "duplicate"
    return _finish(session, MARK_DUPLICATE, report, actor, reason_code="duplicate", comment=comment, now=now)


def resolve(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus = S.ACCEPTED,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """The problem was dealt with on the street."""
    return _move(session, RESOLVE, report_id, actor, expected, comment, now)


def close(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus = S.ACCEPTED,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Closed without (or beyond) a resolution."""
    return _move(session, CLOSE, report_id, actor, expected, comment, now)


def revoke_acceptance(
    session: Session,
    report_id: int,
    actor: Actor,
    expected: ReportStatus,
    *,
    comment: str,
    now: datetime | None = None,
) -> Report:
    """Undo an acceptance: back under review, and a counter-entry for the points it earned."""
    now = now or utcnow()
    if not comment.strip():
        raise WorkflowError("comment_required", "revoking an acceptance needs a comment")
    report = _begin(session, REVOKE_ACCEPTANCE, report_id, actor, expected)
    entry = rewards.reverse_award(session, report, actor, now=now)
    report.decided_at = None
    points = None if entry is None else entry.points
    return _finish(
        session,
        REVOKE_ACCEPTANCE,
        report,
        actor,
        reason_code="revoked",
        comment=comment,
        points=points,
        now=now,
    )

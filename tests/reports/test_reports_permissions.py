"""Who may do what to a report: every staff role (and a few combinations, an inactive account and
the system) against every act of the reports domain, allowed or refused.

The table below was computed from the rules as they stood when reports checked roles of their own
(an actor acted in the role asked for, or as admin; a reviewer's acts needed reviewer, the system
could start a review and close; payouts needed rewards_officer; only a rewards officer saw full phone
numbers); the same table holds now that reports check staff permissions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy.orm import Session

from bot.app import load_texts
from reports import rewards, workflow
from reports.models import (
    BatchStatus,
    LedgerEntry,
    LedgerKind,
    PayoutBatch,
    PayoutLine,
    Report,
    ReportStatus,
    audit_of,
    category_by_code,
)
from reports.roles import SYSTEM, Actor, PermissionDeniedError, actor_for_staff
from reports.settings import ReportsSettings
from staff import models as staff_models
from staff.models import Staff
from staff.roles import Permission, parse_roles
from staff.roles import Role as StaffRole
from tests.support.clock import T0
from tests.support.reports import unit

pytestmark = pytest.mark.integration

S = ReportStatus
REVIEW_ACTS = ("start_review", "accept", "reject", "mark_duplicate", "resolve", "close", "revoke_acceptance")
PAYOUT_ACTS = ("create_payout_batch", "export_csv", "confirm_batch")
ACTS = REVIEW_ACTS + PAYOUT_ACTS

# Who acts: each staff role alone, some combinations, an inactive reviewer, nobody, the system.
ACTORS: dict[str, str] = {role.value: role.value for role in StaffRole} | {
    "no_role": "",
    "inactive_reviewer": "reviewer",
    "reviewer+rewards_officer": "reviewer,rewards_officer",
    "admin+reviewer": "admin,reviewer",
    "admin+rewards_officer": "admin,rewards_officer",
    "editor+data_admin": "editor,data_admin",
}

EVERYTHING = frozenset(ACTS)
ALLOWED: dict[str, frozenset[str]] = {
    "reviewer": frozenset(REVIEW_ACTS),
    "rewards_officer": frozenset(PAYOUT_ACTS),
    "data_admin": frozenset(),
    "editor": frozenset(),
    "section_chief": frozenset(),
    "deputy_leader": frozenset(),
    "head": frozenset(),
    "chief_editor": frozenset(),
    "case_officer": frozenset(),  # 留言办理员: cases only; turning a case into a report is a cases act
    "admin": EVERYTHING,
    "no_role": frozenset(),
    "inactive_reviewer": frozenset(),
    "reviewer+rewards_officer": EVERYTHING,
    "admin+reviewer": EVERYTHING,
    "admin+rewards_officer": EVERYTHING,
    "editor+data_admin": frozenset(),
    "system": frozenset({"start_review", "close"}),
}
# Who sees full phone numbers in a payout export (everyone else who may export sees them masked).
FULL_PHONES = {"rewards_officer", "reviewer+rewards_officer", "admin+rewards_officer"}
# The role a review act is recorded under in the audit trail (the statistics count these).
AUDIT_ROLE = {
    "reviewer": "reviewer",
    "admin": "admin",
    "reviewer+rewards_officer": "reviewer",
    "admin+reviewer": "reviewer",
    "admin+rewards_officer": "admin",
    "system": "system",
}

PHONE = "13800138000"


def test_the_table_covers_every_role_and_actor() -> None:
    assert set(ALLOWED) == set(ACTORS) | {"system"}
    assert set(AUDIT_ROLE) == {name for name, acts in ALLOWED.items() if acts & set(REVIEW_ACTS)}


def member(name: str) -> Staff:
    return Staff(
        username=name.replace("+", "-"),
        display_name=name,
        password_hash="x",
        roles_text=ACTORS[name],
        active=not name.startswith("inactive"),
    )


def acting(name: str, duty: str) -> Actor:
    """The actor an adapter (CLI, console) builds for ``name`` doing ``duty`` ("review" or "payout");
    raises PermissionDeniedError where an adapter refuses before acting."""
    if name == "system":
        return SYSTEM
    return actor_for_staff(
        member(name), Permission.REPORTS_REVIEW if duty == "review" else Permission.REWARDS_PAYOUT
    )


def _report(session: Session, status: ReportStatus, tag: str) -> int:
    category = category_by_code(session, "street_vending")
    assert category is not None
    count = session.query(Report).count()
    report = Report(
        number=f"SP20261127-{count + 1:04d}",
        openid=f"o-{tag}",
        category_id=category.id,
        status=status,
        lat=30.25,
        lon=120.14,
        given_datum="wgs84",
        given_lat=30.25,
        given_lon=120.14,
        created_at=T0,
        updated_at=T0,
        review_due_at=T0 + timedelta(hours=48),
        acceptances=1 if status == S.ACCEPTED else 0,
    )
    session.add(report)
    session.flush()
    return report.id


def _batch(session: Session) -> int:
    batch = PayoutBatch(status=BatchStatus.CREATED, created_by="someone-else", created_at=T0)
    session.add(batch)
    session.flush()
    entry = LedgerEntry(
        openid="o-paid", batch_id=batch.id, kind=LedgerKind.PAYOUT, points=-50, actor="someone-else"
    )
    session.add(entry)
    session.flush()
    session.add(
        PayoutLine(batch_id=batch.id, openid="o-paid", phone=PHONE, points=50, payout_entry_id=entry.id)
    )
    batch.total_points, batch.line_count = 50, 1
    session.flush()
    return batch.id


def _attempt(app: Flask, act: Callable[[Session], object]) -> tuple[bool, object]:
    try:
        with unit(app) as session:
            return True, act(session)
    except PermissionDeniedError:
        return False, None


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_who_may_do_what_to_a_report(reports_app: Flask, settings: ReportsSettings, name: str) -> None:
    with unit(reports_app) as session:
        sources = {
            act: _report(
                session, S.ACCEPTED if act in ("resolve", "close", "revoke_acceptance") else S.SUBMITTED, act
            )
            for act in REVIEW_ACTS
        }
        original = _report(session, S.SUBMITTED, "original")
        batch_id = _batch(session)

    def review(act: str) -> Callable[[Session], object]:
        def run(session: Session) -> object:
            actor = acting(name, "review")
            rid = sources[act]
            if act == "accept":
                return workflow.accept(session, rid, actor, S.SUBMITTED, settings=settings, now=T0)
            if act == "reject":
                return workflow.reject(session, rid, actor, S.SUBMITTED, "unclear_photo", now=T0)
            if act == "mark_duplicate":
                return workflow.mark_duplicate(session, rid, actor, S.SUBMITTED, original, now=T0)
            if act == "revoke_acceptance":
                return workflow.revoke_acceptance(session, rid, actor, S.ACCEPTED, comment="误判", now=T0)
            return getattr(workflow, act)(session, rid, actor, now=T0)

        return run

    def payout(act: str) -> Callable[[Session], object]:
        def run(session: Session) -> object:
            actor = acting(name, "payout")
            if act == "create_payout_batch":
                return rewards.create_payout_batch(session, actor, settings=settings, now=T0)
            if act == "export_csv":
                return rewards.export_csv(
                    session, batch_id, actor, settings=settings, texts=load_texts(), now=T0
                )
            return rewards.confirm_batch(session, batch_id, actor, settings=settings, now=T0)

        return run

    allowed = set()
    exported: object = None
    for act in ACTS:
        done, result = _attempt(reports_app, review(act) if act in REVIEW_ACTS else payout(act))
        if done:
            allowed.add(act)
        if act == "export_csv":
            exported = result
    assert allowed == ALLOWED[name]

    if isinstance(exported, bytes):
        assert (PHONE in exported.decode("utf-8-sig")) == (name in FULL_PHONES)
        assert ("138****8000" in exported.decode("utf-8-sig")) == (name not in FULL_PHONES)
    with unit(reports_app) as session:
        recorded = {e.role for rid in sources.values() for e in audit_of(session, rid)}
        statuses = {act: session.get(Report, rid).status for act, rid in sources.items()}  # type: ignore[union-attr]
    assert recorded == ({AUDIT_ROLE[name]} if name in AUDIT_ROLE else set())
    moved = {
        act
        for act, status in statuses.items()
        if status != (S.ACCEPTED if act in ("resolve", "close", "revoke_acceptance") else S.SUBMITTED)
    }
    assert moved == ALLOWED[name] & set(REVIEW_ACTS)


def test_the_command_line_resolves_actors_the_same_way(
    reports_app: Flask, run: Callable[..., Result]
) -> None:
    """``--actor``: review commands for those who may review, balances for those who may pay out."""
    with unit(reports_app) as session:
        for name, roles in ACTORS.items():
            added = staff_models.add(
                session, name.replace("+", "-"), "correct-horse-battery", parse_roles(roles)
            )
            added.active = not name.startswith("inactive")
        report_ids = {name: _report(session, S.SUBMITTED, name) for name in ACTORS}
    for name in ACTORS:
        username = name.replace("+", "-")
        reviewed = run("report", "review", str(report_ids[name]), "--actor", username)
        assert (reviewed.exit_code == 0) == ("start_review" in ALLOWED[name]), (name, reviewed.output)
        balance = run("rewards", "balance", "o-nobody", "--actor", username)
        assert (balance.exit_code == 0) == ("export_csv" in ALLOWED[name]), (name, balance.output)
        if balance.exit_code == 0:
            assert balance.output.startswith("积分余额 0")

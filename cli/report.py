"""``citybot report``: the review queue and decisions on 文明随手拍 reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session

from bot.core import audit, services
from bot.core.clock import utcnow
from bot.core.errors import render
from bot.core.texts import Texts
from cli.acting import actor_option, resolve_actor
from cli.env import Env, pass_env, refusals
from reports import rewards, workflow
from reports.models import (
    OPEN,
    PhotoStatus,
    RejectReason,
    Report,
    ReportStatus,
    Step,
    audit_of,
    find_report,
    is_overdue,
    list_reports,
)
from reports.settings import ReportsSettings
from staff.roles import Permission


def _settings(env: Env) -> ReportsSettings:
    return env.app.config["CITYBOT"].reports


def _local(value: datetime | None, settings: ReportsSettings) -> str:
    return "-" if value is None else value.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def _find(session: Session, ref: str) -> Report:
    report = find_report(session, ref)
    if report is None:
        raise click.ClickException(f"no report {ref}")
    return report


@click.group()
def report() -> None:
    """Photo reports: list, show, decide."""


@report.command("list")
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeatable).")
@click.option("--open", "open_only", is_flag=True, help="Only submitted and under review.")
@click.option("--overdue", is_flag=True, help="Only open ones past their review deadline.")
@click.option("--limit", default=50, show_default=True)
@pass_env
def report_list(env: Env, statuses: tuple[str, ...], open_only: bool, overdue: bool, limit: int) -> None:
    """The queue, oldest first."""
    settings = _settings(env)
    try:
        wanted = tuple(ReportStatus(s) for s in statuses)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--status") from None
    if open_only:
        wanted += OPEN
    now = utcnow()
    with env.session() as session:
        rows = list_reports(
            session, statuses=wanted or None, overdue_at=now if overdue else None, limit=limit
        )
        if not rows:
            click.echo("no reports")
            return
        for r in rows:
            stored = sum(1 for p in r.photos if p.status == PhotoStatus.STORED)
            flags = []
            if r.duplicate_candidates:
                flags.append(f"dup?{len(r.duplicate_candidates)}")
            if any(p.exif_too_old for p in r.photos):
                flags.append("old-photo")
            if any(
                p.status in (PhotoStatus.FAILED, PhotoStatus.EXPIRED, PhotoStatus.INVALID) for p in r.photos
            ):
                flags.append("photo-problem")
            if is_overdue(r, now):
                flags.append("OVERDUE")
            created = _local(r.created_at, settings)
            status = services.texts(env.app)(f"reports.status.{r.status}")
            click.echo(
                f"{r.id:>6}  {r.number}  {status:<4}  {r.category.name:<6}  {created}"
                f"  photos {stored}/{len(r.photos)}  {' '.join(flags)}".rstrip()
            )


@report.command("show")
@click.argument("ref")
@pass_env
def report_show(env: Env, ref: str) -> None:
    """One report: details, photos, duplicate suggestions, audit trail (no resident identity)."""
    settings = _settings(env)
    with env.session() as session:
        r = _find(session, ref)
        click.echo(f"{r.number}  (id {r.id})  {r.status}  source {r.source}")
        click.echo(f"category    {r.category.name} ({r.category.code}), {r.category.points} points")
        click.echo(
            f"where       {r.lat:.6f},{r.lon:.6f} WGS-84 (given {r.given_lat},{r.given_lon} {r.given_datum})"
        )
        click.echo(f"address     {r.address or '-'}")
        click.echo(f"description {r.description or '-'}")
        click.echo(
            f"submitted   {_local(r.created_at, settings)}   review due {_local(r.review_due_at, settings)}"
        )
        if r.reason_code:
            click.echo(f"reason      {r.reason_code}")
        if r.duplicate_of_id:
            original = session.get(Report, r.duplicate_of_id)
            click.echo(f"duplicate of {original.number if original else r.duplicate_of_id}")
        for candidate in r.duplicate_candidates or []:
            detail = ", ".join(candidate["reasons"])
            if candidate.get("distance_m") is not None:
                detail += f", {candidate['distance_m']} m"
            if candidate.get("hamming") is not None:
                detail += f", hash distance {candidate['hamming']}"
            click.echo(f"possible duplicate of {candidate['number']} ({candidate['status']}): {detail}")
        for p in r.photos:
            line = f"photo {p.position + 1}: {p.status}, attempts {p.attempts}"
            if p.derivative_key:
                line += f", public {p.derivative_key}"
            if p.exif_taken_at:
                line += f", taken {_local(p.exif_taken_at, settings)}"
            if p.exif_too_old:
                line += " (OLD)"
            if p.exif_lat is not None:
                line += f", EXIF GPS {p.exif_lat:.6f},{p.exif_lon:.6f}"
            if p.last_error:
                line += f", last error: {p.last_error}"
            click.echo(line)
        texts = services.texts(env.app)
        for e in audit_of(session, r.id):
            click.echo(f"  {_local(e.created_at, settings)}  {_step(texts, e)}")


def _step(texts: Texts, step: Step) -> str:
    """One step of a report's history as staff read it: 审核员 rev-a：已提交 → 已采纳（原因），说明：…"""

    def word(namespace: str, code: str) -> str:
        key = f"{namespace}.{code}"
        return texts(key) if key in texts else code

    move = word("reports.status", step.to_status)
    if step.from_status is not None:
        move = f"{word('reports.status', step.from_status)} → {move}"
    who = audit.actor_name(texts, step.actor)
    role = word("staff.roles", step.role) if f"staff.roles.{step.role}" in texts else ""
    line = texts("reports.history.step", who=f"{role} {who}".strip(), move=move)
    if step.reason_code:
        line += texts("reports.history.reason", reason=word("reports.reasons", step.reason_code))
    if step.comment:
        line += texts("reports.history.comment", comment=step.comment)
    return line


def _expected(session: Session, ref: str, expect: str | None) -> tuple[int, ReportStatus]:
    r = _find(session, ref)
    try:
        return r.id, ReportStatus(expect) if expect else r.status
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expect") from None


expect_option = click.option(
    "--expect", help="The status you decided on (default: the current one); a changed report is refused."
)
comment_option = click.option(
    "--comment", default=None, help="Note for the audit trail (not sent to the resident)."
)


def decision(func: Callable[..., Any]) -> Callable[..., Any]:
    """REF, --actor, --expect and --comment, shared by every decision."""
    for wrap in (pass_env, comment_option, expect_option, actor_option, click.argument("ref")):
        func = wrap(func)
    return func


@report.command("accept")
@click.option(
    "--confirm-photos",
    is_flag=True,
    help="Accept although some photos are not ready (still downloading, or the download failed).",
)
@decision
def report_accept(
    env: Env, ref: str, confirm_photos: bool, actor_name: str, expect: str | None, comment: str | None
) -> None:
    """Accept a report; its category's points are awarded once (within the caps).

    A report whose photos are not all ready is refused unless --confirm-photos is given.
    """
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(session, ref, expect)
        try:
            r = workflow.accept(
                session,
                report_id,
                actor,
                expected,
                settings=_settings(env),
                comment=comment,
                photos_confirmed=confirm_photos,
            )
        except workflow.PhotosNotReadyError as exc:
            texts = services.texts(env.app)
            raise click.ClickException(f"{render(texts, exc)}{texts('reports.cli.confirm_photos')}") from None
        entry = rewards.award(session, r, actor, settings=_settings(env))
        capped = f" ({entry.capped_points} withheld: {entry.reason})" if entry.capped_points else ""
        click.echo(f"{r.number}: {r.status}, {entry.points} points{capped}")
        if r.duplicate_candidates:
            click.echo(
                f"note: {len(r.duplicate_candidates)} possible duplicate(s); see `citybot report show`"
            )


@report.command("reject")
@click.option("--reason", required=True, help="Reason code (shown to the resident).")
@decision
def report_reject(
    env: Env, ref: str, reason: str, actor_name: str, expect: str | None, comment: str | None
) -> None:
    """Reject a report with a reason code."""
    if reason not in {r.value for r in RejectReason}:
        raise click.BadParameter(
            f"use one of {', '.join(r.value for r in RejectReason)}", param_hint="--reason"
        )
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(session, ref, expect)
        r = workflow.reject(session, report_id, actor, expected, reason, comment=comment)
        click.echo(f"{r.number}: {r.status} ({reason})")


@report.command("duplicate")
@click.option("--of", "original", required=True, help="The original report (id or number).")
@decision
def report_duplicate(
    env: Env, ref: str, original: str, actor_name: str, expect: str | None, comment: str | None
) -> None:
    """Mark a report as a duplicate of another (it earns nothing)."""
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(session, ref, expect)
        first = _find(session, original)
        r = workflow.mark_duplicate(session, report_id, actor, expected, first.id, comment=comment)
        click.echo(f"{r.number}: {r.status} of {first.number}")


def _simple(name: str, function: str, help_text: str) -> click.Command:
    @decision
    def command(env: Env, ref: str, actor_name: str, expect: str | None, comment: str | None) -> None:
        actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
        with refusals(env), env.session() as session:
            report_id, expected = _expected(session, ref, expect)
            r = getattr(workflow, function)(session, report_id, actor, expected, comment=comment)
            click.echo(f"{r.number}: {r.status}")

    return report.command(name, help=help_text)(command)


_simple("review", "start_review", "Take a report into review.")
_simple("resolve", "resolve", "Mark an accepted report resolved (the problem was dealt with).")
_simple("close", "close", "Close an accepted report.")


@report.command("revoke")
@click.argument("ref")
@click.option("--comment", required=True, help="Why the acceptance is undone (audit trail).")
@actor_option
@expect_option
@pass_env
def report_revoke(env: Env, ref: str, comment: str, actor_name: str, expect: str | None) -> None:
    """Undo an acceptance: back under review, with a counter-entry for its points."""
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(session, ref, expect)
        r = workflow.revoke_acceptance(session, report_id, actor, expected, comment=comment)
        click.echo(f"{r.number}: {r.status} (acceptance revoked)")

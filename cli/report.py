"""``citybot report``: the review queue and decisions on 文明随手拍 reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
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


def _say(env: Env, key: str, **values: object) -> str:
    """What a command prints, from ``reports.cli`` in the catalogue."""
    return services.texts(env.app)(f"reports.cli.{key}", **values)


def _word(texts: Texts, namespace: str, code: str) -> str:
    """A code (status, reason, source...) as its catalogue word; an unknown one as it is stored."""
    key = f"{namespace}.{code}"
    return texts(key) if key in texts else code


def _reason(texts: Texts, code: str) -> str:
    """A decision's reason code: a rejection's sentence, or another step's word (``revoked``)."""
    key = f"reports.reasons.{code}"
    return texts(key) if key in texts else _word(texts, "reports.history.reasons", code)


def _find(env: Env, session: Session, ref: str) -> Report:
    report = find_report(session, ref)
    if report is None:
        raise click.ClickException(_say(env, "no_report", ref=ref))
    return report


def _statuses(env: Env, values: tuple[str, ...], param: str) -> tuple[ReportStatus, ...]:
    texts = services.texts(env.app)
    known = {s.value for s in ReportStatus}
    for value in values:
        if value not in known:
            listed = texts("reports.cli.detail_separator").join(
                f"{s.value}（{texts(f'reports.status.{s.value}')}）" for s in ReportStatus
            )
            raise click.BadParameter(
                _say(env, "unknown_status", status=value, known=listed), param_hint=param
            )
    return tuple(ReportStatus(value) for value in values)


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
    texts = services.texts(env.app)
    wanted = _statuses(env, statuses, "--status")
    if open_only:
        wanted += OPEN
    now = utcnow()
    with env.session() as session:
        rows = list_reports(
            session, statuses=wanted or None, overdue_at=now if overdue else None, limit=limit
        )
        if not rows:
            click.echo(_say(env, "no_reports"))
            return
        for r in rows:
            stored = sum(1 for p in r.photos if p.status == PhotoStatus.STORED)
            flags = []
            if r.duplicate_candidates:
                flags.append(_say(env, "flag_duplicates", count=len(r.duplicate_candidates)))
            if any(p.exif_too_old for p in r.photos):
                flags.append(_say(env, "flag_old_photo"))
            if any(
                p.status in (PhotoStatus.FAILED, PhotoStatus.EXPIRED, PhotoStatus.INVALID) for p in r.photos
            ):
                flags.append(_say(env, "flag_photo_problem"))
            if is_overdue(r, now):
                flags.append(_say(env, "flag_overdue"))
            line = _say(
                env,
                "list_line",
                id=r.id,
                number=r.number,
                status=_word(texts, "reports.status", r.status),
                category=r.category.name,
                created=_local(r.created_at, settings),
                stored=stored,
                photos=len(r.photos),
                flags=_say(env, "flag_separator").join(flags),
            )
            click.echo(line.rstrip())


@report.command("show")
@click.argument("ref")
@pass_env
def report_show(env: Env, ref: str) -> None:
    """One report: details, photos, duplicate suggestions, audit trail (no resident identity)."""
    settings = _settings(env)
    texts = services.texts(env.app)
    say = partial(_say, env)
    with env.session() as session:
        r = _find(env, session, ref)
        status = _word(texts, "reports.status", r.status)
        source = _word(texts, "reports.source", r.source)
        click.echo(say("show_head", number=r.number, id=r.id, status=status, source=source))
        category = r.category
        click.echo(say("show_category", name=category.name, code=category.code, points=category.points))
        datum = _word(texts, "geodata.datums", r.given_datum)
        click.echo(
            say(
                "show_where",
                lat=f"{r.lat:.6f}",
                lon=f"{r.lon:.6f}",
                given_lat=r.given_lat,
                given_lon=r.given_lon,
                datum=datum,
            )
        )
        click.echo(say("show_address", address=r.address or say("none")))
        click.echo(say("show_description", description=r.description or say("none")))
        click.echo(
            say("show_times", submitted=_local(r.created_at, settings), due=_local(r.review_due_at, settings))
        )
        if r.reason_code:
            click.echo(say("show_reason", reason=_reason(texts, r.reason_code)))
        if r.duplicate_of_id:
            original = session.get(Report, r.duplicate_of_id)
            click.echo(say("show_duplicate_of", original=original.number if original else r.duplicate_of_id))
        separator = say("detail_separator")
        for candidate in r.duplicate_candidates or []:
            details = [_word(texts, "reports.duplicate_reason", reason) for reason in candidate["reasons"]]
            if candidate.get("distance_m") is not None:
                details.append(say("candidate_distance", metres=candidate["distance_m"]))
            if candidate.get("hamming") is not None:
                details.append(say("candidate_hamming", distance=candidate["hamming"]))
            click.echo(
                say(
                    "show_candidate",
                    number=candidate["number"],
                    status=_word(texts, "reports.status", candidate["status"]),
                    detail=separator.join(details),
                )
            )
        for p in r.photos:
            line = say(
                "photo",
                position=p.position + 1,
                status=_word(texts, "reports.photo_status", p.status),
                attempts=p.attempts,
            )
            if p.derivative_key:
                line += say("photo_public", file=p.derivative_key)
            if p.exif_taken_at:
                line += say("photo_taken", taken=_local(p.exif_taken_at, settings))
            if p.exif_too_old:
                line += say("photo_too_old")
            if p.exif_lat is not None:
                line += say("photo_gps", lat=f"{p.exif_lat:.6f}", lon=f"{p.exif_lon:.6f}")
            if p.last_error:
                line += say("photo_error", error=p.last_error)
            click.echo(line)
        for e in audit_of(session, r.id):
            click.echo(f"  {_local(e.created_at, settings)}  {_step(texts, e)}")


def _step(texts: Texts, step: Step) -> str:
    """One step of a report's history as staff read it: 审核员 rev-a：已提交 → 已采纳（原因），说明：…"""

    def word(namespace: str, code: str) -> str:
        return _word(texts, namespace, code)

    move = word("reports.status", step.to_status)
    if step.from_status is not None:
        move = f"{word('reports.status', step.from_status)} → {move}"
    who = audit.actor_name(texts, step.actor)
    role = word("staff.roles", step.role) if f"staff.roles.{step.role}" in texts else ""
    line = texts("reports.history.step", who=f"{role} {who}".strip(), move=move)
    if step.reason_code:
        line += texts("reports.history.reason", reason=_reason(texts, step.reason_code))
    if step.comment:
        line += texts("reports.history.comment", comment=step.comment)
    return line


def _expected(env: Env, session: Session, ref: str, expect: str | None) -> tuple[int, ReportStatus]:
    r = _find(env, session, ref)
    return r.id, _statuses(env, (expect,), "--expect")[0] if expect else r.status


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
        report_id, expected = _expected(env, session, ref, expect)
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
        texts = services.texts(env.app)
        status = _word(texts, "reports.status", r.status)
        capped = (
            _say(
                env,
                "accepted_withheld",
                points=entry.capped_points,
                reason=_word(texts, "reports.ledger_reason", entry.reason or ""),
            )
            if entry.capped_points
            else ""
        )
        click.echo(_say(env, "accepted", number=r.number, status=status, points=entry.points) + capped)
        if r.duplicate_candidates:
            click.echo(_say(env, "accepted_duplicates", count=len(r.duplicate_candidates), number=r.number))


@report.command("reject")
@click.option("--reason", required=True, help="Reason code (shown to the resident).")
@decision
def report_reject(
    env: Env, ref: str, reason: str, actor_name: str, expect: str | None, comment: str | None
) -> None:
    """Reject a report with a reason code."""
    if reason not in {r.value for r in RejectReason}:
        known = ", ".join(r.value for r in RejectReason)
        refusal = services.texts(env.app)("reports.errors.unknown_reason", reason=reason, known=known)
        raise click.BadParameter(refusal, param_hint="--reason")
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(env, session, ref, expect)
        r = workflow.reject(session, report_id, actor, expected, reason, comment=comment)
        texts = services.texts(env.app)
        status = _word(texts, "reports.status", r.status)
        shown = _reason(texts, reason)
        click.echo(_say(env, "rejected", number=r.number, status=status, reason=shown))


@report.command("duplicate")
@click.option("--of", "original", required=True, help="The original report (id or number).")
@decision
def report_duplicate(
    env: Env, ref: str, original: str, actor_name: str, expect: str | None, comment: str | None
) -> None:
    """Mark a report as a duplicate of another (it earns nothing)."""
    actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
    with refusals(env), env.session() as session:
        report_id, expected = _expected(env, session, ref, expect)
        first = _find(env, session, original)
        r = workflow.mark_duplicate(session, report_id, actor, expected, first.id, comment=comment)
        status = _word(services.texts(env.app), "reports.status", r.status)
        click.echo(_say(env, "marked_duplicate", number=r.number, status=status, original=first.number))


def _simple(name: str, function: str, help_text: str) -> click.Command:
    @decision
    def command(env: Env, ref: str, actor_name: str, expect: str | None, comment: str | None) -> None:
        actor = resolve_actor(env, actor_name, Permission.REPORTS_REVIEW)
        with refusals(env), env.session() as session:
            report_id, expected = _expected(env, session, ref, expect)
            r = getattr(workflow, function)(session, report_id, actor, expected, comment=comment)
            status = _word(services.texts(env.app), "reports.status", r.status)
            click.echo(_say(env, "decided", number=r.number, status=status))

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
        report_id, expected = _expected(env, session, ref, expect)
        r = workflow.revoke_acceptance(session, report_id, actor, expected, comment=comment)
        status = _word(services.texts(env.app), "reports.status", r.status)
        click.echo(_say(env, "revoked", number=r.number, status=status))

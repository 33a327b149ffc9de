"""``citybot inbox``: 有问必答 from the command line: list, show, reply, close, the calendar.

Staff act as themselves (``--as USERNAME``, a staff account with the permission the act needs);
openids and phone numbers are masked unless that account holds ``cases.contact``. What it prints
comes from the catalogue (``cases.cli``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from bot.core import audit, services
from bot.core.clock import utcnow
from bot.core.texts import Texts
from cases import service, workdays
from cases.delivery import entry_text
from cases.models import WAITING, Case
from cases.service import QueueFilter
from cases.settings import CasesSettings
from cli.acting import resolve_actor
from cli.env import Env, pass_env, refusals
from reports.roles import Actor
from staff.models import Staff
from staff.roles import Permission


def _settings(env: Env) -> CasesSettings:
    return services.settings(env.app).section(CasesSettings)


def _texts(env: Env) -> Texts:
    return services.texts(env.app)


def _local(value: datetime | None, settings: CasesSettings) -> str:
    return "-" if value is None else value.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M")


def as_option(required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--as",
        "username",
        required=required,
        envvar="CITYBOT_ACTOR",
        help="Who acts (a name on the staff roster).",
    )


@click.group()
def inbox() -> None:
    """有问必答: residents' messages as numbered cases."""


@inbox.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only cases waiting for an answer.")
@click.option("--overdue", is_flag=True, help="Only cases past their answer deadline.")
@click.option("--limit", default=50, show_default=True)
@pass_env
def inbox_list(env: Env, open_only: bool, overdue: bool, limit: int) -> None:
    """The queue, oldest first."""
    settings, texts, now = _settings(env), _texts(env), utcnow()
    filters = QueueFilter(statuses=WAITING if open_only else (), overdue=overdue)
    with env.session() as session:
        rows = service.queue(session, filters, now=now, limit=limit)
        if not rows:
            click.echo(texts("cases.cli.empty"))
            return
        for case in rows:
            click.echo(_line(case, settings, texts, now))


def _line(case: Case, settings: CasesSettings, texts: Texts, now: datetime) -> str:
    return texts(
        "cases.cli.line",
        number=case.number,
        status=texts(f"cases.status.{case.status}"),
        department=service.department_name(settings, case.department),
        received=_local(case.received_at, settings),
        due=_local(case.due_at, settings),
        overdue=texts("cases.cli.overdue") if service.is_overdue(case, now) else "",
        subject=service.mask_phones(case.subject),
    )


@inbox.command("show")
@click.argument("case_ref", metavar="CASE")
@as_option(required=False)
@pass_env
def inbox_show(env: Env, case_ref: str, username: str | None) -> None:
    """A case and its whole thread (notes included)."""
    settings, texts, now = _settings(env), _texts(env), utcnow()
    viewer: Actor | None = resolve_actor(env, username, Permission.CASES_VIEW) if username else None
    with env.session() as session, refusals(env):
        case = service.require_case(session, case_ref)
        assignee = session.get(Staff, case.assignee_id) if case.assignee_id else None
        click.echo(texts("cases.cli.header", number=case.number, topic=texts(f"cases.topic.{case.topic}")))
        click.echo(texts("cases.cli.resident", openid=service.shown_openid(case.openid, viewer)))
        click.echo(
            texts(
                "cases.cli.status",
                status=texts(f"cases.status.{case.status}"),
                department=service.department_name(settings, case.department),
                assignee=assignee.display_name if assignee else texts("cases.cli.nobody"),
            )
        )
        click.echo(
            texts(
                "cases.cli.times",
                received=_local(case.received_at, settings),
                due=_local(case.due_at, settings),
                answered=_local(case.answered_at, settings),
                closed=_local(case.closed_at, settings),
            )
        )
        window = service.window_state(session, settings, case.openid, now)
        state = (
            texts("cases.cli.window_open", until=_local(window.until, settings), left=window.messages_left)
            if window.open and window.messages_left
            else texts("cases.cli.window_closed")
        )
        click.echo(texts("cases.cli.window", state=state))
        for entry in service.thread(session, case):
            who = texts(f"cases.thread.{entry.kind}")
            if entry.actor and entry.actor != "system":
                who = f"{who} {entry.actor}"
            click.echo(
                texts(
                    "cases.cli.entry",
                    at=_local(entry.created_at, settings),
                    who=who,
                    text=entry_text(entry, texts, viewer),
                )
            )


@inbox.command("reply")
@click.argument("case_ref", metavar="CASE")
@as_option(required=True)
@click.option("--text", "text", required=True, help="The answer the resident receives.")
@pass_env
def inbox_reply(env: Env, case_ref: str, username: str, text: str) -> None:
    """Answer the resident (customer-service message, or template message with a link)."""
    actor = resolve_actor(env, username, Permission.CASES_REPLY)
    with env.session() as session, refusals(env):
        case = service.require_case(session, case_ref)
        service.reply(session, _settings(env), case, actor, text, now=utcnow())
        number = case.number
    click.echo(_texts(env)("cases.cli.replied", number=number))


@inbox.command("close")
@click.argument("case_ref", metavar="CASE")
@as_option(required=True)
@pass_env
def inbox_close(env: Env, case_ref: str, username: str) -> None:
    """Close an answered case; the resident is asked for satisfaction."""
    actor = resolve_actor(env, username, Permission.CASES_REPLY)
    with env.session() as session, refusals(env):
        case = service.require_case(session, case_ref)
        service.close(session, _settings(env), case, actor, now=utcnow())
        number = case.number
    click.echo(_texts(env)("cases.cli.closed", number=number))


@inbox.group("calendar")
def calendar() -> None:
    """Holidays and make-up working days that override the built-in calendar."""


@calendar.command("add")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--holiday", "kind", flag_value="holiday", help="A day off.")
@click.option("--workday", "kind", flag_value="workday", help="A working day (调休).")
@click.option("--note", default="", help="Why (shown to admins).")
@pass_env
def calendar_add(env: Env, day: datetime, kind: str | None, note: str) -> None:
    """Mark DAY (YYYY-MM-DD) a holiday or a working day."""
    if kind is None:
        raise click.UsageError("give --holiday or --workday")
    when: date = day.date()
    texts = _texts(env)
    with env.session() as session:
        workdays.mark_day(session, when, working=kind == "workday", note=note, by=audit.os_user())
        audit.record(
            session, "case.calendar", target_kind="calendar", target=when.isoformat(), details={"kind": kind}
        )
    click.echo(texts("cases.cli.calendar_added", day=when.isoformat(), kind=texts(f"cases.cli.{kind}")))


@inbox.group("duty")
def duty() -> None:
    """The on-duty roster (值班): who is alerted to cases outside office hours and flagged messages."""


@duty.command("add")
@click.argument("member")
@click.option("--from", "starts", required=True, type=click.DateTime(formats=["%Y-%m-%d %H:%M"]))
@click.option("--until", "ends", required=True, type=click.DateTime(formats=["%Y-%m-%d %H:%M"]))
@as_option(required=True)
@pass_env
def duty_add(env: Env, member: str, starts: datetime, ends: datetime, username: str) -> None:
    """MEMBER is on duty from --from to --until (local time, YYYY-MM-DD HH:MM)."""
    settings, texts = _settings(env), _texts(env)
    zone = ZoneInfo(settings.timezone)
    actor = resolve_actor(env, username, Permission.CASES_MANAGE)
    with env.session() as session, refusals(env):
        service.add_shift(
            session,
            actor,
            username=member,
            starts_at=starts.replace(tzinfo=zone),
            ends_at=ends.replace(tzinfo=zone),
            now=utcnow(),
        )
    click.echo(
        texts(
            "cases.cli.duty_added",
            username=member,
            start=starts.strftime("%Y-%m-%d %H:%M"),
            end=ends.strftime("%Y-%m-%d %H:%M"),
        )
    )

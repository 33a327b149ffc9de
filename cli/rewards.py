"""``citybot rewards``: balances, payout batches, their CSV export and confirmation."""

from __future__ import annotations

import sys

import click

from bot.core import audit, services
from bot.core.texts import Texts
from cli.acting import actor_option, resolve_actor
from cli.env import Env, pass_env, refusals
from reports import rewards as ledger
from staff.roles import Permission


def _texts(env: Env) -> Texts:
    return services.texts(env.app)


def _say(env: Env, key: str, **values: object) -> str:
    """What a command prints, from ``reports.cli`` in the catalogue."""
    return _texts(env)(f"reports.cli.{key}", **values)


@click.group()
def rewards() -> None:
    """The rewards ledger and phone-credit payouts."""


@rewards.command("balance")
@click.argument("openid")
@click.option("--limit", default=10, show_default=True, help="Recent entries to show.")
@actor_option
@pass_env
def rewards_balance(env: Env, openid: str, limit: int, actor_name: str) -> None:
    """A resident's balance and recent ledger entries."""
    resolve_actor(env, actor_name, Permission.REWARDS_VIEW)
    texts = _texts(env)
    with env.session() as session:
        click.echo(_say(env, "balance", balance=ledger.balance(session, openid)))
        for e in ledger.recent_entries(session, openid, limit=limit):
            extra = _say(env, "withheld", points=e.capped_points) if e.capped_points else ""
            ref = (
                _say(env, "for_report", id=e.report_id)
                if e.report_id
                else _say(env, "for_batch", id=e.batch_id)
            )
            kind = texts(f"reports.ledger.{e.kind}")
            click.echo(f"  {e.created_at:%Y-%m-%d %H:%M}  {kind}  {e.points:>+6}  {ref}{extra}")


@rewards.command("batches")
@pass_env
def rewards_batches(env: Env) -> None:
    """Recent payout batches."""
    with env.session() as session:
        views = ledger.batches(session)
    texts = _texts(env)
    if not views:
        click.echo(_say(env, "no_batches"))
    for b in views:
        confirmed = (
            _say(env, "confirmed_by", name=audit.actor_name(texts, b.confirmed_by)) if b.confirmed_by else ""
        )
        status = texts(f"reports.payout_batch.{b.status}")
        created_by = audit.actor_name(texts, b.created_by)
        click.echo(
            _say(env, "batch", id=b.id, status=status, lines=b.lines, points=b.total_points, by=created_by)
            + confirmed
        )


@rewards.command("payout")
@actor_option
@pass_env
def rewards_payout(env: Env, actor_name: str) -> None:
    """Create a payout batch over every due balance of residents with a bound phone."""
    actor = resolve_actor(env, actor_name, Permission.REWARDS_PAYOUT)
    with refusals(env), env.session() as session:
        batch = ledger.create_payout_batch(session, actor, settings=env.app.config["CITYBOT"].reports)
        if batch is None:
            click.echo(_say(env, "nothing_due"))
            return
        click.echo(_say(env, "created", id=batch.id, lines=batch.line_count, points=batch.total_points))


@rewards.command("export")
@click.argument("batch_id", type=int)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File (default: stdout)."
)
@actor_option
@pass_env
def rewards_export(env: Env, batch_id: int, output: str | None, actor_name: str) -> None:
    """The batch as CSV (UTF-8 with BOM); full phone numbers for the rewards officer only."""
    actor = resolve_actor(env, actor_name, Permission.REWARDS_PAYOUT)
    with refusals(env), env.session() as session:
        data = ledger.export_csv(
            session,
            batch_id,
            actor,
            settings=env.app.config["CITYBOT"].reports,
            texts=services.texts(env.app),
        )
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
        click.echo(_say(env, "wrote", file=output), err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _failures(values: tuple[str, ...]) -> dict[int, str]:
    failed: dict[int, str] = {}
    for value in values:
        line, _, reason = value.partition("=")
        if not line.strip().isdigit():
            raise click.BadParameter(f"{value!r}: use LINE or LINE=REASON", param_hint="--failed")
        failed[int(line)] = reason.strip() or "failed"
    return failed


@rewards.command("confirm")
@click.argument("batch_id", type=int)
@click.option("--failed", multiple=True, help="A line that was not paid: LINE or LINE=REASON (repeatable).")
@actor_option
@pass_env
def rewards_confirm(env: Env, batch_id: int, failed: tuple[str, ...], actor_name: str) -> None:
    """Mark a batch's lines paid, except the --failed ones, whose points become due again."""
    actor = resolve_actor(env, actor_name, Permission.REWARDS_PAYOUT)
    with refusals(env), env.session() as session:
        batch = ledger.confirm_batch(
            session, batch_id, actor, settings=env.app.config["CITYBOT"].reports, failed=_failures(failed)
        )
        paid = sum(1 for line in batch.lines if line.status == "paid")
        click.echo(_say(env, "confirmed", id=batch.id, paid=paid, failed=batch.line_count - paid))

"""``citybot rewards``: balances, payout batches, their CSV export and confirmation."""

from __future__ import annotations

import sys

import click

from bot.core import services
from cli.acting import actor_option, resolve_actor
from cli.env import Env, pass_env, refusals
from reports import rewards as ledger
from staff.roles import Permission


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
    with env.session() as session:
        click.echo(f"balance {ledger.balance(session, openid)}")
        for e in ledger.recent_entries(session, openid, limit=limit):
            extra = f" ({e.capped_points} withheld: {e.reason})" if e.capped_points else ""
            ref = f"report {e.report_id}" if e.report_id else f"batch {e.batch_id}"
            click.echo(f"  {e.created_at:%Y-%m-%d %H:%M}  {e.kind:<7} {e.points:>+6}  {ref}{extra}")


@rewards.command("batches")
@pass_env
def rewards_batches(env: Env) -> None:
    """Recent payout batches."""
    with env.session() as session:
        views = ledger.batches(session)
    if not views:
        click.echo("no payout batches")
    for b in views:
        confirmed = f", confirmed by {b.confirmed_by}" if b.confirmed_by else ""
        summary = f"{b.status}, {b.lines} lines, {b.total_points} points"
        click.echo(f"batch {b.id}: {summary}, by {b.created_by}{confirmed}")


@rewards.command("payout")
@actor_option
@pass_env
def rewards_payout(env: Env, actor_name: str) -> None:
    """Create a payout batch over every due balance of residents with a bound phone."""
    actor = resolve_actor(env, actor_name, Permission.REWARDS_PAYOUT)
    with refusals(env), env.session() as session:
        batch = ledger.create_payout_batch(session, actor, settings=env.app.config["CITYBOT"].reports)
        if batch is None:
            click.echo("nothing is due")
            return
        click.echo(f"batch {batch.id}: {batch.line_count} lines, {batch.total_points} points")


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
        click.echo(f"wrote {output}", err=True)
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
        click.echo(f"batch {batch.id}: confirmed, {paid} paid, {batch.line_count - paid} failed")

"""``citybot messages``: the message journal."""

from __future__ import annotations

import click

from bot.chat import journal, recovery
from bot.chat.journal import Outcome
from cli.env import Env, pass_env


@click.group()
def messages() -> None:
    """The message journal: list and replay."""


@messages.command("list")
@click.option("--status", type=click.Choice([o.value for o in Outcome]), default=None)
@click.option("--limit", default=20, show_default=True)
@pass_env
def list_messages(env: Env, status: str | None, limit: int) -> None:
    """Recent messages, newest first."""
    with env.session() as session:
        rows = journal.recent(session, limit=limit, status=Outcome(status) if status else None)
        for row in rows:
            click.echo(
                f"{row.id:>6} {row.received_at:%Y-%m-%d %H:%M:%S} {row.status.value:<8} "
                f"{row.msg_type:<8} {row.event or '':<12} {row.handler or '-'}"
                + (f"  error: {row.error.splitlines()[0][:80]}" if row.error else "")
            )
        if not rows:
            click.echo("no messages")


@messages.command("retry")
@click.option(
    "--stuck-after",
    default=600,
    show_default=True,
    help="Also replay messages received this many seconds ago but never finished.",
)
@click.option("--limit", default=100, show_default=True)
@pass_env
def retry(env: Env, stuck_after: int, limit: int) -> None:
    """Replay failed messages; a new reply goes to the resident as a customer-service message.

    Each message is taken with a lease, so runs at once (or the workers' recovery loops) never
    handle one message twice; every delivery is recorded on the message's journal row.
    """
    app = env.app
    with app.app_context():
        results = recovery.retry_failed(app, stuck_after_seconds=stuck_after, limit=limit)
    for key, status in results:
        click.echo(f"{status.value:<8} {key}")
    failed = sum(1 for _, status in results if status == Outcome.FAILED)
    click.echo(f"replayed {len(results)} message(s), {failed} still failing")
    if failed:
        raise SystemExit(1)


@messages.command("recover")
@pass_env
def recover(env: Env) -> None:
    """One recovery pass: replay the spool, take over expired leases, send undelivered replies.

    Every web worker runs this on its own (intake.recovery_interval); run it from cron when the
    loop is turned off.
    """
    result = recovery.run_once(env.app)
    click.echo(
        f"spool replayed {result.replayed}, leases recovered {result.recovered}, "
        f"replies delivered {result.delivered}"
    )
    if result.errors:
        click.echo(f"database unavailable: {', '.join(result.errors)}", err=True)
        raise SystemExit(1)

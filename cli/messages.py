"""``citybot messages``: the message journal."""

from __future__ import annotations

import click

from bot.chat import journal, recovery
from bot.chat.journal import Outcome
from bot.core import services
from bot.core.texts import Texts
from cli.env import Env, pass_env


def _word(texts: Texts, namespace: str, code: str) -> str:
    key = f"chat.{namespace}.{code}"
    return texts(key) if key in texts else code


@click.group()
def messages() -> None:
    """The message journal: list and replay."""


@messages.command("list")
@click.option("--status", type=click.Choice([o.value for o in Outcome]), default=None)
@click.option("--limit", default=20, show_default=True)
@pass_env
def list_messages(env: Env, status: str | None, limit: int) -> None:
    """Recent messages, newest first."""
    texts = services.texts(env.app)
    with env.session() as session:
        rows = journal.recent(session, limit=limit, status=Outcome(status) if status else None)
        for row in rows:
            line = texts(
                "chat.cli.message",
                id=row.id,
                received=f"{row.received_at:%Y-%m-%d %H:%M:%S}",
                status=_word(texts, "outcome", row.status.value),
                type=_word(texts, "msg_type", row.msg_type),
                event=row.event or "",
                handler=row.handler or texts("chat.cli.no_handler"),
            )
            if row.error:
                line += texts("chat.cli.message_error", error=row.error.splitlines()[0][:80])
            click.echo(line)
        if not rows:
            click.echo(texts("chat.cli.no_messages"))


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
    texts = services.texts(app)
    with app.app_context():
        results = recovery.retry_failed(app, stuck_after_seconds=stuck_after, limit=limit)
    for key, status in results:
        click.echo(texts("chat.cli.retried", status=_word(texts, "outcome", status.value), key=key))
    failed = sum(1 for _, status in results if status == Outcome.FAILED)
    click.echo(texts("chat.cli.retry_summary", count=len(results), failed=failed))
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
    texts = services.texts(env.app)
    click.echo(
        texts(
            "chat.cli.recovered",
            replayed=result.replayed,
            recovered=result.recovered,
            delivered=result.delivered,
        )
    )
    if result.errors:
        click.echo(texts("chat.cli.database_unavailable", errors="，".join(result.errors)), err=True)
        raise SystemExit(1)

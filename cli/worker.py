"""``citybot worker`` (RQ on Redis) and ``citybot jobs run-due`` (any backend, e.g. from cron)."""

from __future__ import annotations

import click

from bot.core import jobs, services
from cli.env import Env, pass_env


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@pass_env
def worker(env: Env, burst: bool) -> None:
    """Run background jobs from Redis (needs redis_url; the embedded default runs jobs inline)."""
    queue = jobs.queue(env.app)
    texts = services.texts(env.app)
    if not isinstance(queue, jobs.RQQueue):
        raise click.ClickException(texts("chat.cli.no_redis"))
    click.echo(texts("chat.cli.worker_started", queue=queue.name), err=True)
    with env.app.app_context():
        queue.work(burst=burst)


@click.group("jobs")
def jobs_group() -> None:
    """Background work that is due."""


@jobs_group.command("run-due")
@pass_env
def run_due(env: Env) -> None:
    """Retry what is due now (failed photo downloads, pending notices). Safe to run from cron."""
    texts = services.texts(env.app)
    for name, count in jobs.run_due(env.app).items():
        click.echo(texts("chat.cli.due", name=name, count=count))

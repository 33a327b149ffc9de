"""``citybot db``: the database schema."""

from __future__ import annotations

import click

from bot import migrations
from cli.env import Env, pass_env


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_env
def db_upgrade(env: Env, revision: str) -> None:
    """Apply migrations up to REVISION."""
    migrations.upgrade(env.app_for_migrations.config["CITYBOT"], revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@pass_env
def db_downgrade(env: Env, revision: str) -> None:
    """Revert migrations down to REVISION."""
    migrations.downgrade(env.app_for_migrations.config["CITYBOT"], revision)
    click.echo(f"database at {revision}")

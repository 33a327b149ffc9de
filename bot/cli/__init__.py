"""The ``citybot`` command group. Each command is a thin layer over plain functions.

Each feature's commands live in a module of this package and are added in ``_assemble``.
"""

from __future__ import annotations

import sys

import click

from bot import create_app
from bot.core import audit
from bot.core.cli import Env
from bot.core.config import CONFIG_ENV, ConfigError


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar=CONFIG_ENV,
    help="TOML configuration file (default: $CITYBOT_CONFIG).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """citybot: the city-management WeChat service account backend."""
    env = Env(config_path, create_app)
    ctx.obj = env
    ctx.with_resource(audit.through(audit.Channel.CLI, actor=audit.os_user()))
    ctx.call_on_close(env.close)


def _assemble() -> None:
    """The command tree, in one place."""
    from bot.chat import cli as messages
    from bot.cli import db
    from bot.core import jobs_cli as worker
    from broadcasts import cli as broadcasts
    from broadcasts import menu_cli as menu
    from devtools import chat_cli as chat
    from devtools import fake_wechat_cli as fake_wechat
    from geodata import cli as poi
    from reports import cli as report
    from reports import rewards_cli as rewards
    from staff import cli as staff
    from waste import cli as sorting

    cli.add_command(db.db)
    cli.add_command(poi.poi)
    cli.add_command(chat.chat)
    cli.add_command(messages.messages)
    cli.add_command(staff.staff)
    cli.add_command(fake_wechat.fake_wechat)
    cli.add_command(report.report)
    cli.add_command(rewards.rewards)
    cli.add_command(sorting.sorting)
    cli.add_command(worker.worker)
    cli.add_command(worker.jobs_group)
    cli.add_command(menu.menu)
    cli.add_command(broadcasts.broadcasts)


_assemble()


def main() -> None:
    try:
        cli(prog_name="citybot")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

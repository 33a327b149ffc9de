"""The ``citybot`` command group. Each command is a thin layer over plain functions.

Each feature's commands live in the ``cli`` package and are added from the features list.
"""

from __future__ import annotations

import sys

import click

from bot.app import FEATURES, create_app, load_settings
from bot.cli import db
from bot.core.config import CONFIG_ENV, ConfigError
from cli import chat, fake_wechat
from cli.env import Env


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
    env = Env(config_path, create_app, load_settings)
    ctx.obj = env
    ctx.call_on_close(env.close)


def _assemble() -> None:
    """The command tree: the schema commands, then each feature's commands in the list's order."""
    cli.add_command(db.db)
    # The development tools are no feature of the app: only the command line loads them.
    cli.add_command(chat.chat)
    cli.add_command(fake_wechat.fake_wechat)
    for feature in FEATURES:
        for command in feature.commands:
            cli.add_command(command)


_assemble()


def main() -> None:
    try:
        cli(prog_name="citybot")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

"""The ``citybot`` command group. Each command is a thin layer over plain functions.

Each feature's commands live in the ``cli`` package and are added from the features list.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import partial

import click

from bot.app import FEATURES, create_app, load_settings
from bot.chat.routing import Handler
from bot.cli import db, schema
from bot.core import audit
from bot.core.config import CONFIG_ENV, ConfigError
from bot.core.feature import Feature
from bot.features import FALLBACK
from cli import chat, demo, fake_wechat
from cli.env import Env


def build(features: Sequence[Feature] = FEATURES, fallback: Handler = FALLBACK) -> click.Group:
    """The ``citybot`` group of an app made of ``features`` (and the chat's last resort): the schema
    and development-tool commands, then each feature's commands in the list's order."""

    @click.group()
    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar=CONFIG_ENV,
        help="TOML configuration file (default: $CITYBOT_CONFIG, else the built-in defaults).",
    )
    @click.pass_context
    def group(ctx: click.Context, config_path: str | None) -> None:
        """citybot: the city-management WeChat service account backend."""
        env = Env(
            config_path,
            partial(create_app, features=features, fallback=fallback, announce_store=False),
            partial(load_settings, features=features),
            partial(schema.require_schema, features=features),
        )
        ctx.obj = env
        ctx.with_resource(audit.through(audit.Channel.CLI, actor=audit.os_user()))
        ctx.call_on_close(env.close)

    group.add_command(db.db)
    # The development tools are no feature of the app: only the command line loads them.
    group.add_command(chat.chat)
    group.add_command(fake_wechat.fake_wechat)
    group.add_command(demo.demo)
    for feature in features:
        for command in feature.commands:
            group.add_command(command)
    return group


cli = build()


def main() -> None:
    try:
        cli(prog_name="citybot")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

"""The ``citybot`` command group. Each command is a thin layer over plain functions.

Each feature's commands live in a module of this package and are added in ``_assemble``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.orm import Session

from bot.core import services
from bot.core.config import CONFIG_ENV, ConfigError


class Env:
    """Lazily built app for commands that need one (``chat`` does not)."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from bot import create_app

            try:
                self._app = create_app(config_path=self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._app

    def close(self) -> None:
        if self._app is not None:
            services.of(self._app).engine.dispose()
            self._app = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        from bot.core.database import session_scope

        with self.app.app_context(), session_scope(self.app) as session:
            yield session


pass_env = click.make_pass_decorator(Env)


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
    env = Env(config_path)
    ctx.obj = env
    ctx.call_on_close(env.close)


def _assemble() -> None:
    """The command tree, in one place."""
    from bot.cli import (
        broadcasts,
        chat,
        db,
        fake_wechat,
        menu,
        messages,
        poi,
        report,
        rewards,
        sorting,
        staff,
        worker,
    )

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

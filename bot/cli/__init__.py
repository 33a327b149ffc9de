"""The ``citybot`` command group. Each command is a thin layer over plain functions.

Each feature's commands live in a module of this package and are added in ``_assemble``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.orm import Session

from bot.config import CONFIG_ENV, ConfigError


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

    @contextmanager
    def session(self) -> Iterator[Session]:
        from bot.database import session_scope

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
    if config_path:
        os.environ[CONFIG_ENV] = config_path
    ctx.obj = Env(config_path)


def _assemble() -> None:
    """The command tree, in one place."""
    from bot.cli import db, poi

    cli.add_command(db.db)
    cli.add_command(poi.poi)


_assemble()


def main() -> None:
    try:
        cli(prog_name="citybot")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

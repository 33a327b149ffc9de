"""What every ``citybot`` command shares: the lazily built app and a unit of work.

Each feature's commands live in a module of this package (``cli/staff.py``, ``cli/poi.py``, ...)
and take an :class:`Env`; the composition root (``bot/cli``) builds the group from the features list
and hands the Env its app factory and settings loader, so nothing here names the root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask
from sqlalchemy.orm import Session

from bot.core import services
from bot.core.config import ConfigError, Settings
from bot.core.database import session_scope
from bot.core.errors import DomainError, render

AppFactory = Callable[..., Flask]
SettingsLoader = Callable[[str | None], Settings]


class Env:
    """Lazily built app for commands that need one (``chat`` does not)."""

    def __init__(self, config_path: str | None, factory: AppFactory, loader: SettingsLoader) -> None:
        self.config_path = config_path
        self._factory = factory
        self._loader = loader
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            try:
                self._app = self._factory(config_path=self.config_path)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._app

    def settings(self) -> Settings:
        """The validated settings alone, for commands that need no app."""
        try:
            return self._loader(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None

    def close(self) -> None:
        if self._app is not None:
            services.of(self._app).engine.dispose()
            self._app = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.app.app_context(), session_scope(self.app) as session:
            yield session


pass_env = click.make_pass_decorator(Env)


@contextmanager
def refusals(env: Env) -> Iterator[None]:
    """A domain's refusal becomes a clean command-line error, worded from the text catalogue."""
    try:
        yield
    except DomainError as exc:
        raise click.ClickException(render(services.texts(env.app), exc)) from None

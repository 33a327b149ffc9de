"""What every ``citybot`` command shares: the lazily built app and a unit of work.

Each feature's commands live in a module of this package (``cli/staff.py``, ``cli/poi.py``, ...)
and take an :class:`Env`; the composition root (``bot/cli``) builds the group from the features list
and hands the Env its app factory, settings loader and schema check, so nothing here names the root.

The app of a command is built only after the schema check passed: a command never runs on a
database that is not migrated (nor creates one), it refuses naming the configuration it used.
``citybot db`` alone takes :meth:`Env.app_for_migrations`, which skips the check.
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
from bot.core.texts import Texts

AppFactory = Callable[..., Flask]
SettingsLoader = Callable[[str | None], Settings]
SchemaCheck = Callable[[Settings, str | None], None]
"""(settings, configuration path) -> None; raises click.ClickException when the schema is not ready"""


class Env:
    """Lazily built app for commands that need one (``chat`` does not)."""

    def __init__(
        self,
        config_path: str | None,
        factory: AppFactory,
        loader: SettingsLoader,
        check: SchemaCheck | None = None,
    ) -> None:
        self.config_path = config_path
        self._factory = factory
        self._loader = loader
        self._check = check
        self._checked = False
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        """The app, on a database at the newest schema (else the command is refused)."""
        self.require_schema()
        return self.app_for_migrations

    def require_schema(self) -> None:
        """Refuse the command unless its database exists and is migrated (checked once)."""
        if self._check is not None and not self._checked:
            self._check(self.settings(), self.config_path)
            self._checked = True

    @property
    def app_for_migrations(self) -> Flask:
        """The app whatever state its database is in: for ``citybot db`` alone."""
        if self._app is None:
            try:
                self._app = self._factory(config_path=self.config_path)
            except ConfigError as exc:
                raise click.ClickException(self._without_file(str(exc))) from None
        return self._app

    def settings(self) -> Settings:
        """The validated settings alone, for commands that need no app."""
        try:
            return self._loader(self.config_path)
        except ConfigError as exc:
            raise click.ClickException(self._without_file(str(exc))) from None

    def _without_file(self, message: str) -> str:
        """A configuration error says so when no file was named (the demo's needs naming)."""
        if self.config_path:
            return message
        texts = Texts.load()
        used = texts("cli.used_config", config=texts("cli.builtin_config"))
        return f"{message}\n{used}\n{texts('cli.demo_hint')}"

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

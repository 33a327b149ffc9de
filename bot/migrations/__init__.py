"""Alembic migrations; run them with ``citybot db upgrade``."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from bot.core.config import Settings


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot:migrations")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head", engine: Engine | None = None) -> None:
    config = alembic_config(settings.database_url)
    if engine is not None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    else:
        command.upgrade(config, revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings.database_url), revision)


def current(settings: Settings) -> None:
    command.current(alembic_config(settings.database_url), verbose=False)


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the migrations shipped with this code."""

    current: frozenset[str]  # revisions recorded in the database (empty: never migrated)
    heads: frozenset[str]  # the newest revisions of bot/migrations

    @property
    def up_to_date(self) -> bool:
        return self.current == self.heads


def schema_state(engine: Engine) -> SchemaState:
    """Read the database's recorded revision (alembic_version) without changing anything."""
    heads = frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())
    with engine.connect() as connection:
        current = frozenset(MigrationContext.configure(connection).get_current_heads())
    return SchemaState(current, heads)

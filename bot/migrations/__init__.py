"""Alembic migrations; run them with ``citybot db upgrade``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
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

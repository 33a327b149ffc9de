"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import text

from bot.app import load_settings, metadata
from bot.chat.journal import key_hash
from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import Base, make_engine
from bot.migrations import downgrade, upgrade


def test_migrations_match_models(app: Flask) -> None:
    metadata()
    engine = services.of(app).engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_journal_keys_get_their_hash_and_survive_a_round_trip(base_overrides: dict[str, Any]) -> None:
    """0008 fills ``dedupe_hash`` for rows journaled before it; downgrading and upgrading again works."""
    settings = load_settings(None, base_overrides, environ={})
    upgrade(settings, "0006")
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO message_journal (dedupe_key, msg_type, sender, payload, received_at, status,"
                    " attempts) VALUES ('msg:o:1', 'text', 'o', '<xml/>', :now, 'handled', 1)"
                ),
                {"now": utcnow()},
            )
        upgrade(settings)
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT dedupe_key, dedupe_hash FROM message_journal")).one()
        assert stored == ("msg:o:1", key_hash("msg:o:1"))
        downgrade(settings, "0006")
        upgrade(settings)
        with engine.connect() as connection:
            again = connection.execute(text("SELECT dedupe_hash FROM message_journal")).scalar_one()
        assert again == key_hash("msg:o:1")
    finally:
        engine.dispose()

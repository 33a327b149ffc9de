"""Commands refuse to run on a database that is not migrated, naming the configuration they used.

A command that reads or writes tables (everything but ``db``, ``chat`` and the stand-in's) checks
first that the database exists and carries the newest revision of ``bot/migrations``. The check
never creates anything: an embedded SQLite file that does not exist is reported, not made.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.app import FEATURES, load_texts
from bot.core.config import Settings
from bot.core.database import make_engine
from bot.core.feature import Feature
from bot.core.texts import Texts
from bot.migrations import schema_state


def describe_config(texts: Texts, config_path: str | None) -> str:
    """The configuration a command used, as the refusal names it."""
    if not config_path:
        return texts("cli.builtin_config")
    return str(Path(config_path).resolve())


def require_schema(
    settings: Settings, config_path: str | None, *, features: Sequence[Feature] = FEATURES
) -> None:
    """Refuse, worded from the catalogue, unless the database is at the newest revision."""
    texts = load_texts(settings.texts.file or None, features=features)
    url = make_url(settings.database_url)
    names = {
        "database": url.render_as_string(hide_password=True),
        "config": describe_config(texts, config_path),
    }
    hint = "" if config_path else "\n" + texts("cli.demo_hint")
    embedded_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if embedded_file and not Path(str(url.database)).is_file():
        raise click.ClickException(texts("cli.not_migrated", **names) + hint)
    engine = make_engine(settings.database_url)
    try:
        state = schema_state(engine)
    except SQLAlchemyError as exc:
        error = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(texts("cli.database_unreachable", **names, error=error)) from None
    finally:
        engine.dispose()
    if not state.current:
        raise click.ClickException(texts("cli.not_migrated", **names) + hint)
    if not state.up_to_date:
        current, heads = "、".join(sorted(state.current)), "、".join(sorted(state.heads))
        raise click.ClickException(texts("cli.schema_behind", **names, current=current, heads=heads))

"""``citybot sorting``: the 垃圾分类 table (load, look up)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.core import services
from bot.core.errors import render
from cli.env import Env, pass_env
from waste.answer import reply_text
from waste.lookup import find
from waste.settings import WasteSettings
from waste.table import TableError, load_table, read_table, sample_path


@click.group()
def sorting() -> None:
    """垃圾分类: the table of items and their bins."""


@sorting.command("load")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sample", is_flag=True, help="Load the table that ships with citybot.")
@click.option("--dry-run", is_flag=True, help="Check the file; change nothing.")
@pass_env
def sorting_load(env: Env, file: Path | None, sample: bool, dry_run: bool) -> None:
    """Replace the table with FILE (CSV: name, category, note, aliases), all or nothing."""
    texts = services.texts(env.app)
    if (file is None) == (not sample):
        raise click.UsageError(texts("waste.cli.file_or_sample"))
    path = sample_path() if sample else file
    assert path is not None
    try:
        rows = read_table(path.read_bytes())
    except TableError as exc:
        raise click.ClickException(texts("waste.cli.refused", file=path, reason=render(texts, exc))) from None
    if dry_run:
        click.echo(texts("waste.cli.checked", file=path, count=len(rows)))
        return
    with env.session() as session:
        count = load_table(session, rows)
    click.echo(texts("waste.cli.loaded", file=path, count=count))


@sorting.command("lookup")
@click.argument("query")
@pass_env
def sorting_lookup(env: Env, query: str) -> None:
    """Answer QUERY as the chat would."""
    settings = services.settings(env.app).section(WasteSettings)
    with env.session() as session:
        result = find(session, query, settings)
        click.echo(reply_text(result, services.texts(env.app)))

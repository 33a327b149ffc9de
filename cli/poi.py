"""``citybot poi``: facility datasets for 一键查找 (load, list, rollback, demo)."""

from __future__ import annotations

import sys
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.core import audit, services
from bot.core.config import Settings
from bot.core.errors import render
from bot.core.geo import Datum
from bot.core.texts import Texts
from cli.env import Env, pass_env, refusals
from geodata.datasets import LoadResult, LoadStatus, list_versions, load_dataset, rollback
from geodata.demo import load_demo
from geodata.kinds import PoiKind
from geodata.loaders import Problem, Rules
from geodata.settings import GeoSettings

SHOWN_PROBLEMS = 200


class KindParam(click.ParamType):
    name = "kind"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> PoiKind:
        if isinstance(value, PoiKind):
            return value
        try:
            return PoiKind.parse(str(value))
        except ValueError:
            known = "、".join(f"{kind.value}（{kind.label}）" for kind in PoiKind)
            env = ctx.find_object(Env) if ctx is not None else None
            if env is None:  # no command group around (a direct call): the catalogue is not at hand
                self.fail(f"unknown kind {value!r}; known: {known}", param, ctx)
            self.fail(
                services.texts(env.app)("geodata.cli.unknown_kind", kind=value, known=known), param, ctx
            )


KIND = KindParam()


class ProgressBar:
    """tqdm bars for the load phases; tqdm hides them when the output is not a terminal."""

    def __init__(self) -> None:
        self._bar: tqdm[Any] | None = None
        self._phase = ""

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase != self._phase:
            self.close()
            self._phase = phase
            self._bar = tqdm(total=total, desc=phase, unit="row", unit_scale=True, disable=None, leave=False)
        if self._bar is not None:
            if total is not None and self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# The audit trail's target kind of a facility dataset (the target names the kind, e.g. "toilet").
DATASET = "dataset"


def audit_load(session: Session, result: LoadResult, *, dry_run: bool) -> None:
    """Write a load (or a dry run, or a refused file) to the audit trail, as the console does."""
    written = not dry_run and result.status in (
        LoadStatus.LOADED,
        LoadStatus.REACTIVATED,
        LoadStatus.UNCHANGED,
    )
    audit.record(
        session,
        "dataset.load" if written else "dataset.check",
        target=str(result.kind),
        target_kind=DATASET,
        version=result.version if written else None,
        details={
            "file": result.source_name,
            "datum": str(result.datum),
            "rows": result.row_count,
            "errors": result.error_count,
            "status": str(result.status),
            "encoding": None if result.encoding is None else str(result.encoding),
        },
    )


def _settings(env: Env) -> Settings:
    return env.app.config["CITYBOT"]


def report(texts: Texts, result: LoadResult) -> None:
    """Print what a load did, in the catalogue's words, with every problem by line (errors first)."""
    for problem in result.errors[:SHOWN_PROBLEMS]:
        click.echo(_problem(texts, "error", result, problem), err=True)
    if result.error_count > SHOWN_PROBLEMS:
        click.echo(texts("geodata.cli.more_errors", count=result.error_count - SHOWN_PROBLEMS), err=True)
    for problem in result.warnings[:SHOWN_PROBLEMS]:
        click.echo(_problem(texts, "warning", result, problem), err=True)
    encoding = (
        "" if result.encoding is None else texts("geodata.cli.encoding", encoding=_encoding(texts, result))
    )
    head = texts(
        "geodata.cli.head",
        kind=result.kind.label,
        file=result.source_name,
        datum=result.datum.value.upper(),
        encoding=encoding,
        checksum=result.checksum[:12],
    )
    values = {"head": head, "rows": result.row_count, "version": result.version}
    if result.status is LoadStatus.INVALID:
        click.echo(texts("geodata.cli.invalid", head=head, count=result.error_count), err=True)
    elif result.status is LoadStatus.NEEDS_CONFIRMATION:
        notice = render(texts, result.shrink_notice())
        click.echo(texts("geodata.cli.needs_confirmation", head=head, notice=notice), err=True)
    else:
        click.echo(texts(f"geodata.cli.{result.status.value}", **values))


def _encoding(texts: Texts, result: LoadResult) -> str:
    return "" if result.encoding is None else texts(result.encoding.label.key)


def _problem(texts: Texts, severity: str, result: LoadResult, problem: Problem) -> str:
    return texts(
        f"geodata.cli.{severity}",
        file=result.source_name,
        place=render(texts, problem.location),
        problem=render(texts, problem.reason),
    )


@click.group()
def poi() -> None:
    """Facility datasets for 一键查找, one per facility kind."""


@poi.command("load")
@click.argument("kind", type=KIND)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--datum",
    type=click.Choice([d.value for d in Datum]),
    required=True,
    help="The datum the file's coordinates are in (GeoJSON is normally wgs84).",
)
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option(
    "--confirm-shrink",
    "--yes",
    "confirm_shrink",
    is_flag=True,
    help="Load even if the file drops more than [geo] max_drop_share of the active version's rows.",
)
@pass_env
def poi_load(env: Env, kind: PoiKind, file: str, datum: str, dry_run: bool, confirm_shrink: bool) -> None:
    """Load FILE (CSV or GeoJSON; UTF-8 or GBK) as the new version of KIND; all rows or none."""
    rules = Rules.from_settings(_settings(env).section(GeoSettings))
    source: Any = sys.stdin.buffer if file == "-" else file
    with env.session() as session, ProgressBar() as bar:
        result = load_dataset(
            session,
            kind,
            source,
            Datum(datum),
            dry_run=dry_run,
            progress=bar,
            rules=rules,
            loaded_by=audit.os_user(),
            confirm_shrink=confirm_shrink,
        )
        audit_load(session, result, dry_run=dry_run)
    report(services.texts(env.app), result)
    if result.status in (LoadStatus.INVALID, LoadStatus.NEEDS_CONFIRMATION):
        sys.exit(1)


@poi.command("list")
@click.option("--kind", "kind", type=KIND, default=None, help="Only this kind.")
@pass_env
def poi_list(env: Env, kind: PoiKind | None) -> None:
    """Every kind's versions: rows, datum, source, load time; * marks the active one."""
    zone = ZoneInfo(_settings(env).section(GeoSettings).timezone)
    texts = services.texts(env.app)
    with env.session() as session:
        datasets = list_versions(session, kind)
        if not datasets:
            click.echo(texts("geodata.cli.no_datasets"))
            return
        click.echo(texts("geodata.cli.list_header", zone=texts.zone_name(zone.key)))
        for d in datasets:
            mark = "*" if d.active else " "
            loaded = d.loaded_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            click.echo(
                f"{d.kind:<11} {d.version:>4} {mark} {d.row_count:>9}  {d.datum.upper():<6} {loaded:<16}  "
                f"{d.loaded_by[:14]:<14} {d.source_name} ({d.checksum[:12]})"
            )
        shown = {d.kind for d in datasets}
        for missing in (k for k in PoiKind if k.value not in shown and kind in (None, k)):
            click.echo(f"{missing.value:<11}    -   {texts('geodata.cli.no_dataset', kind=missing.label)}")


@poi.command("rollback")
@click.argument("kind", type=KIND)
@pass_env
def poi_rollback(env: Env, kind: PoiKind) -> None:
    """Return KIND to the version that was active before the current one."""
    with refusals(env), env.session() as session:
        restored = rollback(session, kind)
        version, rows = restored.version, restored.row_count
        audit.record(session, "dataset.rollback", target=kind.value, target_kind=DATASET, version=version)
    click.echo(
        services.texts(env.app)("geodata.cli.rolled_back", kind=kind.label, version=version, rows=rows)
    )


@poi.command("demo")
@pass_env
def poi_demo(env: Env) -> None:
    """Load the demo city's sample datasets (each kind), so the chat shows real answers."""
    rules = Rules.from_settings(_settings(env).section(GeoSettings))
    with env.session() as session:
        results = load_demo(session, rules=rules, loaded_by=audit.os_user())
        for result in results:
            audit_load(session, result, dry_run=False)
    for result in results:
        report(services.texts(env.app), result)
    if not all(result.ok for result in results):
        sys.exit(1)

"""``citybot poi``: load, list, rollback and demo through the command line, on both backends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import select

import bot
from bot import create_app as real_create_app
from bot.cli import cli
from bot.core import services
from bot.core.database import session_scope
from geodata import models
from geodata.demo import datasets as demo_datasets
from geodata.kinds import PoiKind

pytestmark = pytest.mark.contract


@pytest.fixture
def run(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``citybot ...`` against the test's database and store, with a Suzhou service area."""
    settings = app.config["CITYBOT"]
    config = tmp_path / "citybot.toml"
    config.write_text(
        f"database_url = {json.dumps(settings.database_url)}\n"
        f"redis_url = {json.dumps(settings.redis_url)}\n"
        f"redis_prefix = {json.dumps(settings.redis_prefix)}\n"
        f"secret_key = {json.dumps(settings.secret_key)}\n"
        "[geo]\nservice_area = [30.0, 119.5, 32.5, 121.5]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CITYBOT_CONFIG", str(config))  # the command sets it too; restored afterwards
    made: list[Flask] = []

    def recording_create_app(*args: Any, **kwargs: Any) -> Flask:
        made.append(real_create_app(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(bot, "create_app", recording_create_app)

    def invoke(*args: str) -> Result:
        try:
            return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
        finally:  # a command's app lives as long as the process; here, close its connections
            while made:
                services.of(made.pop()).engine.dispose()

    return invoke


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_list_rollback(run, app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    one = write(tmp_path, "one.csv", "name,lat,lon\n甲,31.30,120.60\n乙,31.31,120.61\n")
    two = write(tmp_path, "two.csv", "name,lat,lon\n丙,31.32,120.62\n")

    dry = run("poi", "load", "toilet", str(one), "--datum", "gcj02", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 rows valid (dry run" in dry.output
    assert "no datasets loaded" in run("poi", "list").output

    loaded = run("poi", "load", "3", str(one), "--datum", "gcj02")  # the keyword names the kind too
    assert loaded.exit_code == 0, loaded.output
    assert "toilet: one.csv (gcj02" in loaded.output
    assert "2 rows loaded as version 1" in loaded.output
    again = run("poi", "load", "toilet", str(one), "--datum", "gcj02")
    assert "already the active version 1, nothing changed" in again.output
    assert run("poi", "load", "toilet", str(two), "--datum", "wgs84").exit_code == 0

    listing = run("poi", "list").output.splitlines()
    toilet_lines = [line for line in listing if line.startswith("toilet")]
    assert len(toilet_lines) == 2
    assert "1   " in toilet_lines[0]
    assert "gcj02" in toilet_lines[0]
    assert "one.csv" in toilet_lines[0]
    assert " 2 *" in toilet_lines[1]
    assert "two.csv" in toilet_lines[1]
    assert any(line.startswith("bike") and "no dataset" in line for line in listing)

    back = run("poi", "rollback", "toilet")
    assert back.exit_code == 0
    assert "version 1 (2 rows) is active again" in back.output
    with session_scope(app) as session:
        active = models.active_dataset(session, PoiKind.TOILET)
        assert active is not None
        assert active.version == 1
    failed = run("poi", "rollback", "toilet")
    assert failed.exit_code != 0
    assert failed.output == "Error: 公共厕所没有可回退的更早版本（版本 1 是第一个版本）。\n"


def test_errors_by_line_and_nonzero_exit(run, app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = write(tmp_path, "bad.csv", "name,lat,lon\n甲,31.30,120.60\n乙,0,0\n丙,39.9,116.4\n丁,120.6,31.3\n")
    result = run("poi", "load", "bike", str(bad), "--datum", "wgs84")
    assert result.exit_code == 1
    assert "bad.csv line 3: zero coordinate" in result.output
    assert "bad.csv line 4: outside the service area" in result.output
    assert "bad.csv line 5: latitude and longitude look swapped" in result.output
    assert "3 error(s), nothing loaded" in result.output
    with session_scope(app) as session:
        assert models.versions(session) == []
    unknown = run("poi", "load", "lamp", str(bad), "--datum", "wgs84")
    assert unknown.exit_code == 2
    assert "unknown kind" in unknown.output
    no_datum = run("poi", "load", "bike", str(bad))
    assert no_datum.exit_code == 2


def test_demo_loads_every_kind_once(run, app: Flask) -> None:  # type: ignore[no-untyped-def]
    first = run("poi", "demo")
    assert first.exit_code == 0, first.output
    assert "warning" not in first.output  # the demo data passes its own checks
    assert first.output.count("now active") == len(PoiKind)
    second = run("poi", "demo")
    assert second.output.count("nothing changed") == len(PoiKind)
    with session_scope(app) as session:
        for demo in demo_datasets():
            dataset = models.active_dataset(session, demo.kind)
            assert dataset is not None
            assert dataset.datum == demo.datum.value
            assert 30 <= dataset.row_count <= 60
        names = session.scalars(select(models.Poi.name)).all()
    assert len(names) == len(set(names))

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
from bot.core.audit import AuditEntry
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
    assert "2 条全部通过检查（仅检查，未写入）" in dry.output
    assert "尚未加载任何设施数据" in run("poi", "list").output

    loaded = run("poi", "load", "3", str(one), "--datum", "gcj02")  # the keyword names the kind too
    assert loaded.exit_code == 0, loaded.output
    assert "公共厕所：one.csv（GCJ02，按 UTF-8 编码读取，sha256 " in loaded.output
    assert "2 条已发布为版本 1，现已启用" in loaded.output
    again = run("poi", "load", "toilet", str(one), "--datum", "gcj02")
    assert "与当前启用的版本 1 完全相同，未作改动" in again.output
    assert run("poi", "load", "toilet", str(two), "--datum", "wgs84").exit_code == 0

    listing = run("poi", "list").output.splitlines()
    assert "发布时间（北京时间）" in listing[0]
    toilet_lines = [line for line in listing if line.startswith("toilet")]
    assert len(toilet_lines) == 2
    assert "1   " in toilet_lines[0]
    assert "GCJ02" in toilet_lines[0]
    assert "one.csv" in toilet_lines[0]
    assert " 2 *" in toilet_lines[1]
    assert "two.csv" in toilet_lines[1]
    assert any(line.startswith("bike") and "公共自行车站点尚无数据" in line for line in listing)

    back = run("poi", "rollback", "toilet")
    assert back.exit_code == 0
    assert back.output == "公共厕所：已回退到版本 1（2 条），现已启用\n"
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
    assert "错误 bad.csv 第 3 行：坐标为零（纬度 0.0，经度 0.0）。" in result.output
    outside = "坐标（纬度 39.9，经度 116.4）不在服务区域内（纬度 30.0–32.5，经度 119.5–121.5）。"
    assert f"错误 bad.csv 第 4 行：{outside}" in result.output
    assert "错误 bad.csv 第 5 行：纬度和经度疑似填反了（纬度 120.6，经度 31.3）。" in result.output
    assert "3 处错误，未作任何改动" in result.output
    assert "line" not in result.output
    with session_scope(app) as session:
        assert models.versions(session) == []
    unknown = run("poi", "load", "lamp", str(bad), "--datum", "wgs84")
    assert unknown.exit_code == 2
    assert "没有“lamp”这种设施类型；可用的类型：bike（公共自行车站点）" in unknown.output
    no_datum = run("poi", "load", "bike", str(bad))
    assert no_datum.exit_code == 2


def test_demo_loads_every_kind_once(run, app: Flask) -> None:  # type: ignore[no-untyped-def]
    first = run("poi", "demo")
    assert first.exit_code == 0, first.output
    assert "提示" not in first.output  # the demo data passes its own checks
    assert first.output.count("现已启用") == len(PoiKind)
    second = run("poi", "demo")
    assert second.output.count("未作改动") == len(PoiKind)
    with session_scope(app) as session:
        for demo in demo_datasets():
            dataset = models.active_dataset(session, demo.kind)
            assert dataset is not None
            assert dataset.datum == demo.datum.value
            assert 30 <= dataset.row_count <= 60
        names = session.scalars(select(models.Poi.name)).all()
    assert len(names) == len(set(names))


def test_a_gbk_file_is_read_and_the_output_says_so(run, app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "excel.csv"
    path.write_bytes("name,lat,lon,address\n观前街公厕,31.3080,120.6200,观前街1号\n".encode("gbk"))
    result = run("poi", "load", "toilet", str(path), "--datum", "wgs84")
    assert result.exit_code == 0, result.output
    assert "（WGS84，按 GBK/GB18030 编码读取，sha256" in result.output
    with session_scope(app) as session:
        assert session.scalars(select(models.Poi.address)).all() == ["观前街1号"]
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"name,lat,lon\n\xff\xfe,31.3,120.6\n")
    refused = run("poi", "load", "toilet", str(broken), "--datum", "wgs84")
    assert refused.exit_code == 1
    assert "错误 broken.csv 整个文件：文件第 2 行附近的文字既不是 UTF-8 编码" in refused.output
    assert "CSV UTF-8（逗号分隔）" in refused.output


def test_a_load_that_drops_most_rows_needs_confirm_shrink(run, app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    many = write(
        tmp_path, "many.csv", "name,lat,lon\n" + "".join(f"站{i},31.{300 + i},120.6\n" for i in range(56))
    )
    few = write(
        tmp_path, "few.csv", "name,lat,lon\n" + "".join(f"站{i},31.{300 + i},120.6\n" for i in range(4))
    )
    assert run("poi", "load", "toilet", str(many), "--datum", "wgs84").exit_code == 0
    refused = run("poi", "load", "toilet", str(few), "--datum", "wgs84")
    assert refused.exit_code == 1
    assert "新文件只有 4 条，比当前版本（版本 1，56 条）少 52 条（93%）。请确认后再发布。" in refused.output
    assert "--confirm-shrink" in refused.output
    with session_scope(app) as session:
        assert [d.version for d in models.versions(session)] == [1]
        checked = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert checked is not None
        assert (checked.action, checked.target_version) == ("dataset.check", None)  # nothing was written
        assert checked.details["status"] == "needs_confirmation"
    confirmed = run("poi", "load", "toilet", str(few), "--datum", "wgs84", "--confirm-shrink")
    assert confirmed.exit_code == 0, confirmed.output
    assert "4 条已发布为版本 2" in confirmed.output


def test_rollback_returns_to_the_version_active_before(run, app: Flask, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = [write(tmp_path, f"v{n}.csv", f"name,lat,lon\n站{n},31.3{n},120.6\n") for n in (1, 2, 3)]
    for path in files[:2]:
        assert run("poi", "load", "toilet", str(path), "--datum", "wgs84").exit_code == 0
    assert "已回退到版本 1" in run("poi", "rollback", "toilet").output
    assert run("poi", "load", "toilet", str(files[2]), "--datum", "wgs84").exit_code == 0
    assert "已回退到版本 1" in run("poi", "rollback", "toilet").output  # not version 2, rolled back before
    with session_scope(app) as session:
        active = models.active_dataset(session, PoiKind.TOILET)
        assert active is not None
        assert active.version == 1

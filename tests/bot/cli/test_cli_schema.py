"""A command on a database that is not migrated refuses, naming the configuration and the database it
used and the command to run; it never shows a traceback and never creates an empty database."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from bot.app import load_settings
from bot.cli import cli
from bot.migrations import alembic_config, downgrade, upgrade
from tests.conftest import SECRET_KEY

pytestmark = pytest.mark.integration


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone's working directory: no CITYBOT_CONFIG, a secret key in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITYBOT_CONFIG", raising=False)
    return tmp_path


def run(*args: str, secret: bool = True) -> Result:
    env = {"CITYBOT_SECRET_KEY": SECRET_KEY if secret else None, "CITYBOT_DATABASE_URL": None}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def config_file(folder: Path, database: Path) -> Path:
    path = folder / "citybot.toml"
    path.write_text(f'demo = true\ndatabase_url = "sqlite:///{database}"\n', encoding="utf-8")
    return path


def test_without_a_configuration_it_names_the_defaults_and_the_demo(workdir: Path) -> None:
    result = run("staff", "list")
    assert result.exit_code == 1
    assert result.output == (
        "Error: 数据库 sqlite:///instance/citybot.db 尚未建立数据表"
        "（所用配置：内置默认配置（未指定 --config，也未设置 CITYBOT_CONFIG））。"
        "请先运行：citybot db upgrade\n"
        "若要操作 make run 启动的演示环境，请先设置 CITYBOT_CONFIG=config.demo.toml（见 README）。\n"
    )
    assert list(workdir.iterdir()) == []  # no instance/ folder, no second empty database


def test_a_configuration_error_without_a_file_says_no_file_was_named(workdir: Path) -> None:
    result = run("staff", "list", secret=False)
    assert result.exit_code == 1
    assert "secret_key: is the built-in default" in result.output
    assert "所用配置：内置默认配置（未指定 --config，也未设置 CITYBOT_CONFIG）" in result.output
    assert "CITYBOT_CONFIG=config.demo.toml" in result.output


def test_it_names_the_configuration_file_and_creates_nothing(workdir: Path) -> None:
    database = workdir / "data" / "city.db"
    config = config_file(workdir, database)
    for args in (["--config", str(config), "staff", "list"], ["--config", "citybot.toml", "poi", "list"]):
        result = run(*args)
        assert result.exit_code == 1
        assert result.output == (
            f"Error: 数据库 sqlite:///{database} 尚未建立数据表（所用配置：{config}）。"
            "请先运行：citybot db upgrade\n"
        )
    assert not database.parent.exists()

    database.parent.mkdir()
    database.touch()  # an empty file is no schema either
    assert "尚未建立数据表" in run("--config", str(config), "report", "list").output

    upgraded = run("--config", str(config), "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    listed = run("--config", str(config), "staff", "list")
    assert listed.exit_code == 0, listed.output
    assert "Error" not in listed.output


def test_an_old_schema_names_both_revisions(workdir: Path) -> None:
    database = workdir / "old.db"
    config = config_file(workdir, database)
    settings = load_settings(str(config), environ={})
    scripts = ScriptDirectory.from_config(alembic_config(""))
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade(settings)
    downgrade(settings, previous)
    result = run("--config", str(config), "staff", "list")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 数据库 sqlite:///{database} 的结构版本为 {previous}，本程序需要 {head}"
        f"（所用配置：{config}）。请先运行：citybot db upgrade\n"
    )


def test_an_unreachable_server_is_named_without_its_password(workdir: Path) -> None:
    config = workdir / "pg.toml"
    config.write_text(
        'demo = true\ndatabase_url = "postgresql+psycopg://citybot:s3cret@127.0.0.1:1/citybot"\n',
        encoding="utf-8",
    )
    result = run("--config", str(config), "staff", "list")
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: 无法连接数据库 postgresql+psycopg://citybot:***@127.0.0.1:1/citybot（所用配置：{config}）："
    )
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_commands_do_not_announce_the_in_process_store(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_file(workdir, workdir / "quiet.db")
    assert run("--config", str(config), "db", "upgrade").exit_code == 0
    with caplog.at_level(logging.WARNING, logger="citybot"):
        assert run("--config", str(config), "staff", "list").exit_code == 0
        assert run("--config", str(config), "poi", "list").exit_code == 0
    assert [r for r in caplog.records if "in-process store" in r.getMessage()] == []

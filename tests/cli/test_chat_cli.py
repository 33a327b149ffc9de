"""``citybot chat`` against a live server over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from bot.chat.journal import JournalEntry
from bot.cli import cli
from bot.core.database import session_scope
from tests.support.live import serve, write_config

pytestmark = pytest.mark.integration

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_chat_session(make_app: Any, base_overrides: dict[str, Any], tmp_path: Path, safe: bool) -> None:
    extra = {"wechat": {"encoding_aes_key": AES_KEY}} if safe else {}
    app: Flask = make_app(**extra)
    overrides = {**base_overrides, "wechat": {**base_overrides["wechat"], **extra.get("wechat", {})}}
    config = write_config(str(tmp_path / "chat.toml"), overrides)
    script = "\n".join(
        ["/sub", "帮助", "/gps 31.30 120.58", "/click NO_SUCH_KEY", "/bogus", "/quit", "not sent"]
    )
    with serve(app) as url:
        result = CliRunner().invoke(
            cli,
            ["--config", config, "chat", "--url", f"{url}/wechat", "--openid", "cli-user"],
            input=script + "\n",
        )
    assert result.exit_code == 0, result.output
    assert "欢迎关注" in result.output
    assert "小助手" in result.output
    assert result.output.count("(no reply: success)") == 2
    assert "unknown command" in result.output
    with session_scope(app) as session:
        rows = list(session.scalars(select(JournalEntry).order_by(JournalEntry.id)))
    assert [(r.msg_type, r.event) for r in rows] == [
        ("event", "subscribe"),
        ("text", None),
        ("event", "location"),
        ("event", "click"),
    ]
    assert all(r.sender == "cli-user" for r in rows)


def test_chat_reports_unreachable_server(tmp_path: Path) -> None:
    config = write_config(str(tmp_path / "c.toml"), {"demo": True, "wechat": {"token": "t"}})
    result = CliRunner().invoke(
        cli, ["--config", config, "chat", "--url", "http://127.0.0.1:9/wechat"], input="你好\n"
    )
    assert result.exit_code == 0
    assert "cannot reach the server" in result.output


def test_chat_needs_a_token(tmp_path: Path) -> None:
    config = write_config(str(tmp_path / "c.toml"), {"demo": True, "wechat": {"token": ""}})
    result = CliRunner().invoke(cli, ["--config", config, "chat"], input="")
    assert result.exit_code != 0
    assert "wechat.token" in result.output

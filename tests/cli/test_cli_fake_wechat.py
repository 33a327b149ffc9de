"""``citybot fake-wechat`` serves the fake WeChat API in the foreground and prints its URL."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from bot.cli import cli

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def test_command_is_registered() -> None:
    result = CliRunner().invoke(cli, ["fake-wechat", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_fake_wechat_command_serves_until_stopped(tmp_path: Path) -> None:
    config = tmp_path / "citybot.toml"
    config.write_text(
        'demo = true\n[wechat]\napp_id = "wxlocal0000000001"\napp_secret = "local-secret"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYBOT_")}
    env["CITYBOT_CONFIG"] = str(config)
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "fake-wechat", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
        url = lines.get(timeout=20).strip()
        assert url.startswith("http://127.0.0.1:")

        answer = requests.get(
            f"{url}/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": "wxlocal0000000001",
                "secret": "local-secret",
            },
            timeout=5,
        ).json()
        assert answer["expires_in"] == 7200
        assert answer["access_token"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

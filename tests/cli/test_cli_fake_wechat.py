"""``citybot fake-wechat`` serves the WeChat stand-in in the foreground and prints its URL; its
subcommands ask the running stand-in for a mini-program login code and write a demo photo."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask import Flask

from bot.cli import cli
from devtools.fake_wechat import FakeWeChat
from devtools.photos import content_type_of, demo_photo
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def citybot(config: Path, *args: str, **environ: str) -> subprocess.Popen[str]:
    """``citybot ARGS`` in a process of its own, with ``config`` and no other CITYBOT_* setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYBOT_")}
    env |= {"CITYBOT_CONFIG": str(config), **environ}
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str], timeout: float = 20) -> str:
    assert process.stdout is not None
    stream = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    return lines.get(timeout=timeout).strip()


def test_command_is_registered() -> None:
    result = CliRunner().invoke(cli, ["fake-wechat", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


def test_fake_wechat_command_serves_until_stopped(tmp_path: Path) -> None:
    config = tmp_path / "citybot.toml"
    config.write_text(
        'demo = true\n[wechat]\napp_id = "wxlocal0000000001"\napp_secret = "local-secret"\n', encoding="utf-8"
    )
    process = citybot(config, "fake-wechat", "--port", "0")
    try:
        url = first_line(process)
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
        process.communicate(timeout=10)


def test_it_listens_where_the_configuration_points_and_posts_to_the_webhook(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "citybot.toml"
    config.write_text(
        f'demo = true\n[wechat]\ntoken = "t"\napi_base_url = "http://127.0.0.1:{port}"\n', encoding="utf-8"
    )
    process = citybot(config, "fake-wechat", "serve", PORT="8765")
    try:
        assert first_line(process) == f"http://127.0.0.1:{port}"
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).json()["fake"] == "wechat"
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=10)
    assert "job-finished events go to http://127.0.0.1:8765/wechat" in err


def test_login_code_is_minted_by_the_running_stand_in(
    make_app: Callable[..., Flask], fake_wechat: FakeWeChat, tmp_path: Path
) -> None:
    fake_wechat.add_miniprogram("wxdemominiprogram", "demo-mini-secret")
    config = tmp_path / "citybot.toml"
    config.write_text(
        f'demo = true\n[wechat]\napi_base_url = "{fake_wechat.url}"\n[[miniprogram.programs]]\n'
        'name = "demo"\napp_id = "wxdemominiprogram"\napp_secret = "demo-mini-secret"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "fake-wechat", "login-code", "--openid", "mini-1"]
    )
    assert result.exit_code == 0, result.output
    code = result.output.splitlines()[0]
    assert "exchange it within 5 minutes" in result.output
    # the API exchanges it through the stand-in's jscode2session
    app = make_app(
        wechat={"api_base_url": fake_wechat.url},
        miniprogram={
            "programs": [{"name": "demo", "app_id": "wxdemominiprogram", "app_secret": "demo-mini-secret"}]
        },
    )
    answer = app.test_client().post("/api/v1/session", json={"code": code, "program": "demo"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.get_json()["program"] == "demo"
    again = app.test_client().post("/api/v1/session", json={"code": code, "program": "demo"})
    assert again.status_code == 401

    none = tmp_path / "none.toml"
    none.write_text(f'demo = true\n[wechat]\napi_base_url = "{fake_wechat.url}"\n', encoding="utf-8")
    refused = CliRunner().invoke(cli, ["--config", str(none), "fake-wechat", "login-code"])
    assert refused.exit_code == 1
    assert "none configured ([[miniprogram.programs]])" in refused.output
    down = tmp_path / "down.toml"
    down.write_text(
        f'demo = true\n[wechat]\napi_base_url = "http://127.0.0.1:{free_port()}"\n'
        '[[miniprogram.programs]]\nname = "demo"\napp_id = "wxdemominiprogram"\napp_secret = "s"\n',
        encoding="utf-8",
    )
    unreachable = CliRunner().invoke(cli, ["--config", str(down), "fake-wechat", "login-code"])
    assert unreachable.exit_code == 1
    assert "cannot reach the WeChat stand-in" in unreachable.output
    assert "is `make run` or `citybot demo` running?" in unreachable.output


def test_photo_writes_a_demo_jpeg(tmp_path: Path) -> None:
    target = tmp_path / "photo.jpg"
    result = CliRunner().invoke(cli, ["fake-wechat", "photo", str(target), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == demo_photo(4)
    assert content_type_of(target.read_bytes()) == "image/jpeg"

"""``citybot demo`` (what ``make run`` serves): the WeChat stand-in and citybot side by side, both
stopped by Ctrl-C; it refuses a configuration the stand-in cannot serve, or an unmigrated database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from bot.app import load_settings
from bot.cli import cli
from bot.migrations import upgrade
from devtools.simulator import WeChatSimulator
from tests.conftest import REPO
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


def demo_config(folder: Path, wechat_url: str) -> Path:
    config = folder / "demo.toml"
    config.write_text(
        f'demo = true\ndatabase_url = "sqlite:///{folder / "demo.db"}"\n'
        f'[wechat]\napp_id = "wxdemo0000000000"\napp_secret = "demo"\ntoken = "demo-token"\n'
        f'api_base_url = "{wechat_url}"\n',
        encoding="utf-8",
    )
    return config


def wait_until_up(url: str, process: subprocess.Popen[str], timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return requests.get(url, timeout=10)  # the first request of a busy machine may be slow
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.slow
def test_demo_serves_both_and_ctrl_c_stops_both(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    port, wechat_port = free_port(), free_port()
    config = demo_config(tmp_path, f"http://127.0.0.1:{wechat_port}")
    upgrade(load_settings(str(config), environ={}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYBOT_")} | {
        "CITYBOT_CONFIG": str(config)
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "demo",
            "--port",
            str(port),
            "--threads",
            "2",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        home = wait_until_up(f"http://127.0.0.1:{port}/", process)
        assert home.status_code == 200
        assert "城管服务号后台" in home.text
        assert requests.get(f"http://127.0.0.1:{wechat_port}/", timeout=5).json()["fake"] == "wechat"
        sim = WeChatSimulator.over_http(f"http://127.0.0.1:{port}/wechat", token="demo-token")
        # the demo runs in processes of its own, on the machine's clock, not on this run's (which
        # --clock-shift-days may have moved ahead): WeChat's timestamp is the server's now
        shift = timedelta(days=request.config.getoption("--clock-shift-days"))
        server_now = int(time.time() - shift.total_seconds())
        followed = sim.send(
            sim.event("demo-resident", "subscribe", create_time=server_now), timestamp=str(server_now)
        )
        assert "欢迎关注" in (followed.text or "")
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends the terminal's foreground group
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "demo stopped" in err
    for stopped in (port, wechat_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", stopped)) != 0
    # the server announced the in-process store once; nothing else of the demo warned
    assert err.count("in-process store") == 1


def test_demo_refuses_a_stand_in_it_cannot_serve(tmp_path: Path) -> None:
    config = demo_config(tmp_path, "https://api.weixin.qq.com")
    upgrade(load_settings(str(config), environ={}))
    result = CliRunner().invoke(cli, ["--config", str(config), "demo"])
    assert result.exit_code == 1
    assert "wechat.api_base_url is https://api.weixin.qq.com, not a loopback address" in result.output


def test_demo_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    config = demo_config(tmp_path, "http://127.0.0.1:8100")
    result = CliRunner().invoke(cli, ["--config", str(config), "demo"])
    assert result.exit_code == 1
    assert "尚未建立数据表" in result.output
    assert str(config) in result.output
    assert not (tmp_path / "demo.db").exists()


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = demo_config(tmp_path, f"http://127.0.0.1:{busy.getsockname()[1]}")
        upgrade(load_settings(str(config), environ={}))
        result = CliRunner().invoke(cli, ["--config", str(config), "demo"])
    assert result.exit_code == 1
    assert "the WeChat stand-in cannot listen on" in result.output


@pytest.mark.slow
def test_when_citybot_cannot_start_the_stand_in_stops_too(tmp_path: Path) -> None:
    wechat_port = free_port()
    config = demo_config(tmp_path, f"http://127.0.0.1:{wechat_port}")
    upgrade(load_settings(str(config), environ={}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYBOT_")} | {
        "CITYBOT_CONFIG": str(config)
    }
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-c", "from bot.cli import main; main()", "demo", "--port", str(taken)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 1
    assert "Error: gunicorn stopped with status" in finished.stderr
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", wechat_port)) != 0  # the stand-in is gone with it

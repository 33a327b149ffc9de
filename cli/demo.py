"""``citybot demo``: the whole demo in one command, the WeChat stand-in and citybot side by side.

The stand-in listens where ``wechat.api_base_url`` points (it must be a loopback address, as in
``config.demo.toml``) and posts its job-finished events to the webhook; citybot runs under gunicorn
(one worker: the demo's in-process store serves one process) in a child process. Ctrl-C, or a
SIGTERM, stops both; when either cannot start, neither keeps running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

import click

from bot.core.config import CONFIG_ENV
from bot.wechat.settings import WeChatSettings
from cli.env import Env, pass_env
from cli.fake_wechat import describe, loopback_port, stand_in, start

GRACE = 10.0  # seconds gunicorn has to stop before it is killed


def gunicorn_command(host: str, port: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "1",
        "--threads",
        str(threads),
        "--bind",
        f"{host}:{port}",
        "--no-control-socket",
        # Ctrl-C stops the demo within seconds, also with a keep-alive connection open
        "--graceful-timeout",
        "5",
        "bot:create_app()",
    ]


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address citybot listens on.")
@click.option(
    "--port", type=int, envvar="PORT", default=8000, show_default=True, help="citybot's port ($PORT)."
)
@click.option("--threads", type=int, default=4, show_default=True, help="gunicorn threads.")
@click.option(
    "--event-delay", type=float, default=2.0, show_default=True, help="Seconds before a job-finished event."
)
@pass_env
def demo(env: Env, host: str, port: int, threads: int, event_delay: float) -> None:
    """Serve the demo: the WeChat stand-in and citybot, both stopped by Ctrl-C."""
    settings = env.settings()
    env.require_schema()
    api_base_url = settings.section(WeChatSettings).api_base_url
    wechat_port = loopback_port(api_base_url)
    if wechat_port is None:
        raise click.ClickException(
            f"wechat.api_base_url is {api_base_url}, not a loopback address: the demo's stand-in cannot "
            "serve it (config.demo.toml sets http://127.0.0.1:8100)"
        )
    fake = stand_in(
        settings, port=wechat_port, webhook_url=f"http://127.0.0.1:{port}/wechat", event_delay=event_delay
    )
    start(fake)
    child_env = dict(os.environ)
    if env.config_path:
        child_env[CONFIG_ENV] = str(Path(env.config_path).resolve())
    with fake:
        describe(fake)
        click.echo(
            f"citybot at http://{host}:{port}/ - the console at http://{host}:{port}/console/", err=True
        )
        child = subprocess.Popen(gunicorn_command(host, port, threads), env=child_env)

        def stop(_signum: int, _frame: FrameType | None) -> None:
            child.terminate()

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            status = child.wait()
        except KeyboardInterrupt:  # the terminal sent SIGINT to gunicorn as well
            status = _stop(child)
        finally:
            signal.signal(signal.SIGTERM, previous)
    if status not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise click.ClickException(f"gunicorn stopped with status {status}")
    click.echo("demo stopped", err=True)


def _stop(child: subprocess.Popen[bytes]) -> int:
    if child.poll() is None:
        child.terminate()
    try:
        return child.wait(timeout=GRACE)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.wait()

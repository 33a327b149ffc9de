"""``citybot fake-wechat``: the fake WeChat API server in the foreground, for local development."""

from __future__ import annotations

import logging
import threading

import click

from bot.wechat.settings import WeChatSettings
from cli.env import Env, pass_env
from devtools.fake_wechat import FakeWeChat


@click.command("fake-wechat")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=0, show_default=True, help="Port to listen on (0: any free port).")
@click.option(
    "--app-id", default=None, help="App id the fake accepts (default: wechat.app_id or a fake one)."
)
@click.option(
    "--app-secret",
    default=None,
    help="App secret the fake accepts (default: wechat.app_secret or a fake one).",
)
@click.option("--expires-in", type=int, default=7200, show_default=True, help="Token lifetime (s).")
@pass_env
def fake_wechat(
    env: Env, host: str, port: int, app_id: str | None, app_secret: str | None, expires_in: int
) -> None:
    """Serve a fake WeChat API on loopback until interrupted; point wechat.api_base_url at it."""
    settings = env.settings()
    fake = FakeWeChat(
        app_id or settings.section(WeChatSettings).app_id or "wxfake00000000001",
        app_secret or settings.section(WeChatSettings).app_secret or "fake-app-secret",
        expires_in=expires_in,
        host=host,
        port=port,
        quiet=False,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with fake:
        click.echo(fake.url)
        click.echo(f"fake WeChat API for app {fake.app_id} at {fake.url}", err=True)
        click.echo(f"  export CITYBOT_WECHAT_API_BASE_URL={fake.url}", err=True)
        click.echo("  press Ctrl-C to stop", err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopping", err=True)

"""``citybot fake-wechat``: the project's WeChat stand-in, for the demo and local development.

``citybot fake-wechat`` (or ``... serve``) serves it in the foreground; ``citybot demo`` serves it
beside citybot. It listens where ``wechat.api_base_url`` points when that is a loopback address
(``config.demo.toml``: http://127.0.0.1:8100), accepts the configuration's app id and secret and its
mini programs, and posts job-finished events to the webhook. ``citybot fake-wechat login-code``
asks the running stand-in for a mini program's ``wx.login`` code.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click

from bot.core.config import Settings
from bot.wechat.settings import WeChatSettings
from cli.env import Env, pass_env
from devtools.fake_wechat import FakeWeChat, Webhook
from devtools.fake_wechat.client import StandIn, StandInError
from devtools.photos import demo_photo
from miniprogram_api.settings import MiniProgramSettings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_WEBHOOK = "http://127.0.0.1:{port}/wechat"


def loopback_port(url: str) -> int | None:
    """The port of ``url`` when it names this machine over plain HTTP (where a stand-in can listen)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        return None
    return parts.port or 80


def default_webhook() -> str:
    """citybot's webhook on this machine: the port of ``PORT`` (as ``make run``), else 8000."""
    return DEFAULT_WEBHOOK.format(port=os.environ.get("PORT") or 8000)


def stand_in(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    webhook_url: str | None = None,
    event_delay: float = 2.0,
    app_id: str | None = None,
    app_secret: str | None = None,
    expires_in: int = 7200,
    quiet: bool = False,
) -> FakeWeChat:
    """The stand-in a configuration expects: its app id and secret, its mini programs, its webhook."""
    wechat = settings.section(WeChatSettings)
    if port is None:
        port = loopback_port(wechat.api_base_url) or 0
    webhook = None
    if webhook_url and wechat.token:
        webhook = Webhook(webhook_url, wechat.token, wechat.encoding_aes_key, wechat.app_id)
    fake = FakeWeChat(
        app_id or wechat.app_id or "wxfake00000000001",
        app_secret or wechat.app_secret or "fake-app-secret",
        expires_in=expires_in,
        host=host,
        port=port,
        quiet=quiet,
        webhook=webhook,
        event_delay=event_delay,
    )
    for program in settings.section(MiniProgramSettings).programs:
        fake.add_miniprogram(program.app_id, program.app_secret)
    return fake


def start(fake: FakeWeChat) -> None:
    """Start the stand-in, or refuse cleanly when its port is taken (another demo running?)."""
    if fake.port:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((fake.host, fake.port))
            except OSError as exc:
                raise click.ClickException(
                    f"the WeChat stand-in cannot listen on {fake.host}:{fake.port}: {exc.strerror or exc} "
                    "(another demo running?)"
                ) from None
    fake.start()


def describe(fake: FakeWeChat) -> None:
    """What the stand-in tells whoever started it (on stderr; stdout carries its URL alone)."""
    click.echo(f"WeChat stand-in for app {fake.app_id} at {fake.url}", err=True)
    if fake.webhook is not None:
        click.echo(f"  job-finished events go to {fake.webhook.url}", err=True)
    else:
        click.echo("  no webhook: job-finished events are not sent (wechat.token is empty)", err=True)


@click.group("fake-wechat", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port to listen on (default: the port of wechat.api_base_url when it is a loopback address, "
    "else any free port; 0: any free port).",
)
@click.option(
    "--webhook",
    "webhook_url",
    default=None,
    help="citybot's webhook, where job-finished events go (default: http://127.0.0.1:$PORT/wechat, "
    "PORT defaulting to 8000).",
)
@click.option("--no-webhook", is_flag=True, help="Send no events to citybot.")
@click.option(
    "--event-delay", type=float, default=2.0, show_default=True, help="Seconds before a job-finished event."
)
@click.option(
    "--app-id", default=None, help="App id the fake accepts (default: wechat.app_id or a fake one)."
)
@click.option(
    "--app-secret",
    default=None,
    help="App secret the fake accepts (default: wechat.app_secret or a fake one).",
)
@click.option("--expires-in", type=int, default=7200, show_default=True, help="Token lifetime (s).")
@click.pass_context
def fake_wechat(
    ctx: click.Context,
    host: str,
    port: int | None,
    webhook_url: str | None,
    no_webhook: bool,
    event_delay: float,
    app_id: str | None,
    app_secret: str | None,
    expires_in: int,
) -> None:
    """The WeChat stand-in: serve it until interrupted (with no subcommand), or ask it for something."""
    if ctx.invoked_subcommand is None:
        env = ctx.find_object(Env)
        assert env is not None
        _serve(env, **ctx.params)


def _serve(
    env: Env,
    *,
    host: str,
    port: int | None,
    webhook_url: str | None,
    no_webhook: bool,
    event_delay: float,
    app_id: str | None,
    app_secret: str | None,
    expires_in: int,
) -> None:
    fake = stand_in(
        env.settings(),
        host=host,
        port=port,
        webhook_url=None if no_webhook else (webhook_url or default_webhook()),
        event_delay=event_delay,
        app_id=app_id,
        app_secret=app_secret,
        expires_in=expires_in,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    start(fake)
    with fake:
        click.echo(fake.url)
        describe(fake)
        click.echo(f"  point citybot at it: export CITYBOT_WECHAT_API_BASE_URL={fake.url}", err=True)
        click.echo("  press Ctrl-C to stop", err=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            click.echo("stopping", err=True)


@fake_wechat.command("serve")
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Serve the stand-in until interrupted (as with no subcommand; its options go before ``serve``)."""
    parent, env = ctx.parent, ctx.find_object(Env)
    assert parent is not None
    assert env is not None
    _serve(env, **parent.params)


@fake_wechat.command("login-code")
@click.option("--openid", default="demo-mini-resident", show_default=True, help="Who logs in.")
@click.option("--program", default=None, help="The mini program's name or app id (default: the only one).")
@click.option("--url", default=None, help="The running stand-in (default: wechat.api_base_url).")
@pass_env
def login_code(env: Env, openid: str, program: str | None, url: str | None) -> None:
    """Print a mini program's wx.login code, minted by the running stand-in (it works once, 5 min)."""
    settings = env.settings()
    programs = settings.section(MiniProgramSettings)
    chosen = programs.program(program)
    if chosen is None:
        names = ", ".join(p.name for p in programs.programs) or "none configured ([[miniprogram.programs]])"
        raise click.ClickException(f"which mini program? --program NAME; the configuration has: {names}")
    base = url or settings.section(WeChatSettings).api_base_url
    try:
        code = StandIn(base).login_code(chosen.app_id, openid)
    except StandInError as exc:
        raise click.ClickException(f"{exc} (is `make run` or `citybot demo` running?)") from None
    click.echo(code)
    click.echo(
        f"wx.login code of {openid} in {chosen.name}; exchange it within 5 minutes, once:\n"
        f"  curl -s -X POST http://127.0.0.1:{os.environ.get('PORT') or 8000}/api/v1/session "
        "-H 'Content-Type: application/json' "
        f"""-d '{{"code": "{code}", "program": "{chosen.name}"}}'""",
        err=True,
    )


@fake_wechat.command("photo")
@click.argument("output", type=click.Path(dir_okay=False, writable=True), default="demo-photo.jpg")
@click.option("--seed", type=int, default=1, show_default=True, help="Another seed, another picture.")
def photo(output: str, seed: int) -> None:
    """Write a demo photo (JPEG with its EXIF time) to OUTPUT, e.g. for the mini-program API."""
    Path(output).write_bytes(demo_photo(seed))
    click.echo(output)

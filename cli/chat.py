"""``citybot chat``: talk to a running citybot as WeChat would, for one resident.

Everything typed is sent as a text message, signed (and encrypted in safe or compatible mode)
with the token and keys of the configuration; commands send the other kinds of message.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
import requests

from bot.core.config import Settings
from bot.wechat.settings import WeChatSettings
from cli.env import Env, pass_env
from devtools.simulator import WeChatSimulator

if TYPE_CHECKING:
    from devtools.simulator import WeChatSimulator

HELP = """命令 / commands:
  /loc LAT LON [LABEL]   send a location message (GCJ-02, as WeChat's location picker)
  /gps LAT LON           send the automatic LOCATION report (WGS-84)
  /image PICURL [MEDIAID] send a photo
  /click KEY             click a menu button
  /sub  /unsub           follow / unfollow
  /event NAME [KEY]      any other event
  /help  /quit
anything else is sent as text"""


def http_transport(base_url: str, timeout: float = 10.0) -> Callable[[str, bytes], tuple[int, bytes]]:
    session = requests.Session()
    root = base_url.rstrip("/")
    if root.endswith("/wechat"):
        root = root[: -len("/wechat")]

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        response = session.post(root + path, data=body, headers={"Content-Type": "text/xml"}, timeout=timeout)
        return response.status_code, response.content

    return post


def _build(sim: WeChatSimulator, openid: str, line: str) -> str | None:
    if not line.startswith("/"):
        return sim.text(openid, line)
    parts = shlex.split(line)
    command, args = parts[0].lower(), parts[1:]
    if command == "/loc" and len(args) >= 2:
        return sim.location(openid, float(args[0]), float(args[1]), " ".join(args[2:]))
    if command == "/gps" and len(args) == 2:
        return sim.location_event(openid, float(args[0]), float(args[1]))
    if command == "/image" and args:
        return sim.image(openid, args[0], args[1] if len(args) > 1 else f"media-{abs(hash(args[0]))}")
    if command == "/click" and len(args) == 1:
        return sim.click(openid, args[0])
    if command == "/sub":
        return sim.event(openid, "subscribe")
    if command == "/unsub":
        return sim.event(openid, "unsubscribe")
    if command == "/event" and args:
        return sim.event(openid, args[0], args[1] if len(args) > 1 else None)
    return None


def run_chat(
    sim: WeChatSimulator, openid: str, lines: Callable[[], str | None], echo: Callable[[str], None]
) -> int:
    """Read lines until EOF or /quit; returns the number of messages sent."""
    sent = 0
    while (line := lines()) is not None:
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/help":
            echo(HELP)
            continue
        try:
            xml = _build(sim, openid, line)
        except ValueError as exc:
            echo(f"! {exc}")
            continue
        if xml is None:
            echo("! unknown command; /help lists them")
            continue
        try:
            reply = sim.send(xml)
        except requests.RequestException as exc:
            echo(f"! cannot reach the server: {exc}")
            continue
        sent += 1
        if reply.status != 200:
            echo(f"! HTTP {reply.status}: {reply.body.strip()}")
        elif reply.fields is None:
            echo("(no reply: success)")
        else:
            echo(reply.text or reply.body)
    return sent


def simulator_from(settings: Settings, url: str, mode: str | None) -> WeChatSimulator:
    wechat = settings.section(WeChatSettings)
    chosen = mode or ("safe" if wechat.safe_mode else "plain")
    return WeChatSimulator(
        http_transport(url),
        token=wechat.token,
        app_id=wechat.app_id,
        encoding_aes_key=wechat.encoding_aes_key,
        mode=chosen,
    )


@click.command("chat")
@click.option("--url", default="http://127.0.0.1:8000/wechat", show_default=True, help="The webhook URL.")
@click.option("--openid", default="demo-resident", show_default=True, help="Who you are.")
@click.option(
    "--mode",
    type=click.Choice(["plain", "compat", "safe"]),
    default=None,
    help="Message mode (default: safe when an EncodingAESKey is configured, else plain).",
)
@pass_env
def chat(env: Env, url: str, openid: str, mode: str | None) -> None:
    """Chat with a running citybot as a resident would, without a WeChat account."""
    settings = env.settings()
    if not settings.section(WeChatSettings).token:
        raise click.ClickException("wechat.token is empty in the configuration: nothing can be signed")
    sim = simulator_from(settings, url, mode)
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo(f"citybot chat → {url} as {openid}. /help lists commands, /quit leaves.")

    def read() -> str | None:
        try:
            return input("你> " if interactive else "")
        except EOFError:
            return None

    run_chat(sim, openid, read, lambda text: click.echo(text if not interactive else f"城管> {text}"))

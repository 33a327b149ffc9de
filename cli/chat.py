"""``citybot chat``: talk to a running citybot as WeChat would, for one resident.

Everything typed is sent as a text message, signed (and encrypted in safe or compatible mode)
with the token and keys of the configuration; commands send the other kinds of message. With the
project's WeChat stand-in running (``make run``), ``/image`` sends a photo as a phone would (a file,
a URL or, with nothing, a demo photo: the stand-in keeps it, so citybot downloads it), and the
customer-service and template messages citybot sends this resident are shown as they arrive.
"""

from __future__ import annotations

import itertools
import shlex
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import requests

from bot.core.config import Settings
from bot.wechat.settings import WeChatSettings
from cli.env import Env, pass_env
from cli.fake_wechat import loopback_port
from devtools.fake_wechat.client import StandIn, StandInError
from devtools.photos import content_type_of, demo_photo
from devtools.simulator import WeChatSimulator, http_transport

try:  # line editing, and what was typed so far when a message arrives meanwhile
    import readline
except ImportError:  # pragma: no cover - every supported platform has it
    readline = None  # type: ignore[assignment]

__all__ = [
    "HELP",
    "Inbox",
    "Photos",
    "Terminal",
    "chat",
    "http_transport",
    "poll",
    "run_chat",
    "simulator_from",
]

HELP = """命令 / commands:
  /loc LAT LON [LABEL]     send a location message (GCJ-02, as WeChat's location picker)
  /gps LAT LON             send the automatic LOCATION report (WGS-84)
  /image [FILE|URL]        send a photo (with nothing: a demo photo); needs the WeChat stand-in
  /image PICURL MEDIAID    send a photo message naming a MediaId citybot can already fetch
  /click KEY               click a menu button (LATEST_BROADCASTS: 最新发布, REPORT_PHOTO: 文明随手拍)
  /sub  /unsub             follow / unfollow
  /event NAME [KEY]        any other event
  /help  /quit
anything else is sent as text; customer-service messages appear as 【客服消息】 when they arrive"""


class Photos:
    """Photos for ``/image``: stored on the stand-in as WeChat stores what a phone sends."""

    def __init__(self, stand_in: StandIn | None) -> None:
        self.stand_in = stand_in
        self._seeds = itertools.count(1)

    def media(self, source: str | None) -> tuple[str, str]:
        """(PicUrl, MediaId) of a file, a URL or (None) a demo photo; ValueError when impossible."""
        if self.stand_in is None:
            raise ValueError("/image without a MediaId needs the WeChat stand-in (make run starts it)")
        if source is None:
            data = demo_photo(next(self._seeds))
        elif source.startswith(("http://", "https://")):
            try:
                response = requests.get(source, timeout=10)
                response.raise_for_status()
            except requests.RequestException as exc:
                raise ValueError(f"cannot fetch {source}: {exc}") from None
            data = response.content
        else:
            try:
                data = Path(source).expanduser().read_bytes()
            except OSError as exc:
                raise ValueError(f"cannot read {source}: {exc.strerror or exc}") from None
        try:
            media_id, pic_url = self.stand_in.upload(data, content_type_of(data))
        except StandInError as exc:
            raise ValueError(str(exc)) from None
        return pic_url, media_id


def _build(sim: WeChatSimulator, openid: str, line: str, photos: Photos) -> str | None:
    if not line.startswith("/"):
        return sim.text(openid, line)
    parts = shlex.split(line)
    command, args = parts[0].lower(), parts[1:]
    if command == "/loc" and len(args) >= 2:
        return sim.location(openid, float(args[0]), float(args[1]), " ".join(args[2:]))
    if command == "/gps" and len(args) == 2:
        return sim.location_event(openid, float(args[0]), float(args[1]))
    if command == "/image" and len(args) == 2:
        return sim.image(openid, args[0], args[1])
    if command == "/image" and len(args) <= 1:
        pic_url, media_id = photos.media(args[0] if args else None)
        return sim.image(openid, pic_url, media_id)
    if command == "/click" and len(args) == 1:
        return sim.click(openid, args[0])
    if command == "/sub":
        return sim.event(openid, "subscribe")
    if command == "/unsub":
        return sim.event(openid, "unsubscribe")
    if command == "/event" and args:
        return sim.event(openid, args[0], args[1] if len(args) > 1 else None)
    return None


def describe_message(message: dict[str, Any]) -> str:
    """A customer-service or template message as the resident's phone would show it."""
    body = message.get("body") or {}
    if message.get("kind") == "template":
        data = body.get("data") or {}
        lines = [str(item.get("value", "")) for item in data.values() if isinstance(item, dict)]
        if body.get("url"):
            lines.append(str(body["url"]))
        return "【模板消息】" + "\n".join(line for line in lines if line)
    msgtype = body.get("msgtype")
    content = body.get(msgtype) if isinstance(msgtype, str) else None
    content = content if isinstance(content, dict) else {}
    if msgtype == "text":
        text = str(content.get("content", ""))
    elif msgtype == "news":
        article = (content.get("articles") or [{}])[0]
        text = "\n".join(str(article.get(k) or "") for k in ("title", "description", "url")).strip()
    elif msgtype == "image":
        text = f"[图片 {content.get('media_id', '')}]"
    else:
        text = f"[{msgtype}]"
    return "【客服消息】" + text


class Inbox:
    """The messages citybot sends one resident, read from the stand-in: each shown once."""

    def __init__(self, stand_in: StandIn, openid: str) -> None:
        self.stand_in = stand_in
        self.openid = openid
        self._lock = threading.Lock()
        # what was sent before this chat started is history, not news
        self._after = stand_in.messages(openid, after=0)[1]

    def __call__(self) -> list[str]:
        with self._lock:
            try:
                messages, _last = self.stand_in.messages(self.openid, self._after)
            except StandInError:
                return []
            if messages:
                self._after = max(int(m["seq"]) for m in messages)
        return [describe_message(m) for m in messages]


def run_chat(
    sim: WeChatSimulator,
    openid: str,
    lines: Callable[[], str | None],
    echo: Callable[[str], None],
    *,
    photos: Photos | None = None,
    inbox: Callable[[], list[str]] | None = None,
) -> int:
    """Read lines until EOF or /quit; returns the number of messages sent. After each reply the
    messages that arrived meanwhile (``inbox``) are shown."""
    photos = photos or Photos(None)
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
            xml = _build(sim, openid, line, photos)
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
        for message in inbox() if inbox is not None else ():
            echo(message)
    return sent


def simulator_from(settings: Settings, url: str, mode: str | None) -> WeChatSimulator:
    wechat = settings.section(WeChatSettings)
    chosen = mode or ("safe" if wechat.safe_mode else "plain")
    return WeChatSimulator.over_http(
        url,
        token=wechat.token,
        app_id=wechat.app_id,
        encoding_aes_key=wechat.encoding_aes_key,
        mode=chosen,
    )


class Terminal:
    """Output for an interactive chat: a message that arrives while the resident types is printed
    above the prompt, and the prompt with what was typed so far comes back below it."""

    PROMPT = "你> "

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def echo(self, text: str) -> None:
        with self._lock:
            click.echo(f"城管> {text}")

    def announce(self, text: str) -> None:
        typed = readline.get_line_buffer() if readline is not None else ""
        with self._lock:
            sys.stdout.write(f"\r\033[K城管> {text}\n{self.PROMPT}{typed}")
            sys.stdout.flush()


def poll(
    inbox: Callable[[], list[str]], show: Callable[[str], None], stop: threading.Event, every: float = 1.0
) -> None:
    """Show what arrives in ``inbox`` every ``every`` seconds until ``stop`` (the chat's background)."""
    while not stop.wait(every):
        for message in inbox():
            show(message)


@click.command("chat")
@click.option("--url", default="http://127.0.0.1:8000/wechat", show_default=True, help="The webhook URL.")
@click.option("--openid", default="demo-resident", show_default=True, help="Who you are.")
@click.option(
    "--mode",
    type=click.Choice(["plain", "compat", "safe"]),
    default=None,
    help="Message mode (default: safe when an EncodingAESKey is configured, else plain).",
)
@click.option(
    "--wechat-url",
    default=None,
    help="The WeChat stand-in, for photos and customer-service messages (default: wechat.api_base_url).",
)
@pass_env
def chat(env: Env, url: str, openid: str, mode: str | None, wechat_url: str | None) -> None:
    """Chat with a running citybot as a resident would, without a WeChat account."""
    settings = env.settings()
    if not settings.section(WeChatSettings).token:
        raise click.ClickException("wechat.token is empty in the configuration: nothing can be signed")
    sim = simulator_from(settings, url, mode)
    base = wechat_url or settings.section(WeChatSettings).api_base_url
    candidate = StandIn(base)
    # only this machine can run the stand-in: WeChat's own address is never probed
    stand_in = candidate if loopback_port(base) is not None and candidate.is_running() else None
    inbox = Inbox(stand_in, openid) if stand_in is not None else None
    interactive = sys.stdin.isatty()
    terminal = Terminal()
    if interactive:
        click.echo(f"citybot chat → {url} as {openid}. /help lists commands, /quit leaves.")
        if stand_in is None:
            click.echo(
                "(no WeChat stand-in: /image needs a MediaId, customer-service messages are not shown)"
            )

    def read() -> str | None:
        try:
            return input(Terminal.PROMPT if interactive else "")
        except EOFError:
            return None

    stop = threading.Event()
    if interactive and inbox is not None:
        threading.Thread(target=poll, args=(inbox, terminal.announce, stop), daemon=True).start()
    try:
        run_chat(
            sim,
            openid,
            read,
            terminal.echo if interactive else click.echo,
            photos=Photos(stand_in),
            inbox=inbox,
        )
    finally:
        stop.set()

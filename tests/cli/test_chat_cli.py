"""``citybot chat`` against a live server over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from bot.chat.journal import JournalEntry
from bot.cli import cli
from bot.core import services
from bot.core.database import session_scope
from bot.wechat.service import api as wechat_api
from cli.chat import Inbox, Photos, Terminal, describe_message, poll, run_chat, simulator_from
from devtools import photos
from devtools.fake_wechat import FakeWeChat
from devtools.fake_wechat.client import StandIn
from tests.support.broadcasts import png
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


def test_chat_sends_photos_through_the_stand_in_and_shows_messages_as_they_arrive(
    make_app: Any, fake_wechat: FakeWeChat, tmp_path: Path
) -> None:
    app: Flask = make_app(**fake_wechat.settings_overrides())
    photo = tmp_path / "street.png"
    photo.write_bytes(png(5, 5))
    with serve(app) as url:
        sim = simulator_from(services.settings(app), f"{url}/wechat", None)
        stand_in = StandIn(fake_wechat.url)
        inbox = Inbox(stand_in, "cli-user")
        served = fake_wechat.pic_url(fake_wechat.upload_media(png(7, 7), "image/png"))  # a photo on the web
        script = iter(
            ["/image", f"/image {photo}", f"/image {served}", "/image /no/such/file.jpg", "帮助", "/quit"]
        )
        shown: list[str] = []

        def lines() -> str | None:
            line = next(script, None)
            if line == "帮助":  # meanwhile staff act, and citybot writes to the resident
                wechat_api(app).send_text("cli-user", "您的举报 SP-1 已采纳，积分 10 分已到账。")
                wechat_api(app).send_text("someone-else", "不是给你的")
            return line

        sent = run_chat(sim, "cli-user", lines, shown.append, photos=Photos(stand_in), inbox=inbox)
    assert sent == 4
    uploaded = [data for data, _type in fake_wechat._media.values()]
    assert len(uploaded) == 4
    assert photos.content_type_of(uploaded[1]) == "image/jpeg"  # the demo photo
    assert uploaded[2:] == [png(5, 5), png(7, 7)]  # a file, then the picture at a URL
    assert "! cannot read /no/such/file.jpg: No such file or directory" in shown
    # the resident's message, shown once, between the reply it followed and the next one
    notice = "【客服消息】您的举报 SP-1 已采纳，积分 10 分已到账。"
    assert shown.count(notice) == 1
    assert shown[-1] == notice  # right after the reply to the message it followed
    assert not shown[-2].startswith(("!", "【"))
    assert not [line for line in shown if "不是给你的" in line]
    with session_scope(app) as session:
        rows = list(session.scalars(select(JournalEntry).order_by(JournalEntry.id)))
    assert [r.msg_type for r in rows] == ["image", "image", "image", "text"]
    for row, media_id in zip(rows[:3], list(fake_wechat._media)[1:], strict=True):
        assert media_id in row.payload


def test_without_the_stand_in_a_photo_needs_its_media_id(make_app: Any, tmp_path: Path) -> None:
    app: Flask = make_app()
    with serve(app) as url:
        sim = simulator_from(services.settings(app), f"{url}/wechat", None)
        shown: list[str] = []
        script = iter(["/image", "/image http://mmbiz.qpic.cn/1 MEDIA-1"])
        sent = run_chat(sim, "cli-user", lambda: next(script, None), shown.append)
    assert sent == 1
    assert shown[0] == "! /image without a MediaId needs the WeChat stand-in (make run starts it)"


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            {"kind": "custom", "body": {"msgtype": "text", "text": {"content": "已受理"}}},
            "【客服消息】已受理",
        ),
        (
            {
                "kind": "custom",
                "body": {
                    "msgtype": "news",
                    "news": {"articles": [{"title": "最新发布", "url": "http://x/a"}]},
                },
            },
            "【客服消息】最新发布\n\nhttp://x/a",
        ),
        (
            {"kind": "custom", "body": {"msgtype": "image", "image": {"media_id": "M1"}}},
            "【客服消息】[图片 M1]",
        ),
        (
            {
                "kind": "template",
                "body": {
                    "template_id": "T",
                    "url": "http://x/r",
                    "data": {"first": {"value": "举报进度更新"}, "keyword1": {"value": "SP-1"}},
                },
            },
            "【模板消息】举报进度更新\nSP-1\nhttp://x/r",
        ),
    ],
)
def test_messages_are_shown_as_the_phone_shows_them(message: dict[str, Any], shown: str) -> None:
    assert describe_message(message) == shown


def test_an_interactive_chat_prints_arrivals_above_the_prompt(capsys: pytest.CaptureFixture[str]) -> None:
    arrivals = iter([["【客服消息】您的举报已采纳"], [], ["【模板消息】举报进度更新"]])
    stop = threading.Event()

    def inbox() -> list[str]:
        batch = next(arrivals, None)
        if batch is None:
            stop.set()
            return []
        return batch

    terminal = Terminal()
    poll(inbox, terminal.announce, stop, every=0.01)
    out = capsys.readouterr().out
    assert out.count("\r\033[K城管> ") == 2
    assert "城管> 【客服消息】您的举报已采纳\n你> " in out
    assert out.index("您的举报已采纳") < out.index("举报进度更新")

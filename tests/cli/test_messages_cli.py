"""``citybot messages``: list the journal and replay failed messages, delivering over the WeChat API."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from bot.app import FEATURES
from bot.chat.replies import Text
from bot.chat.routing import Dispatcher, Router
from bot.chat.services import ChatServices
from bot.cli import build, cli
from bot.core import services
from bot.core.feature import Feature
from devtools.fake_wechat import FakeWeChat
from tests.support.live import write_config
from tests.support.wechat import simulator_for
from tests.support.words import english_words

pytestmark = pytest.mark.integration

FLAKY_CALLS: list[str] = []
router = Router(__name__)


@router.text("flaky")
def flaky(msg: Any, ctx: Any) -> Text:
    FLAKY_CALLS.append(msg.openid)
    if len(FLAKY_CALLS) == 1:
        raise RuntimeError("database hiccup")
    return Text("这次成功了")


def test_retry_delivers_by_customer_service_message(
    make_app: Any, base_overrides: dict[str, Any], fake_wechat: FakeWeChat, tmp_path: Path, monkeypatch: Any
) -> None:
    FLAKY_CALLS.clear()
    wechat = {**base_overrides["wechat"], **fake_wechat.settings_overrides()["wechat"]}
    app: Flask = make_app(wechat=wechat)
    services.of(app).get(ChatServices).dispatcher = Dispatcher([router], flaky)
    sim = simulator_for(app)
    assert "抱歉" in (sim.send(sim.text("resident-9", "flaky")).text or "")

    config = write_config(str(tmp_path / "c.toml"), {**base_overrides, "wechat": wechat})
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", config, "messages", "list", "--status", "failed"])
    assert listed.exit_code == 0, listed.output
    assert " 失败 文字 " in listed.output
    assert "  错误：RuntimeError: database hiccup" in listed.output
    # the error is quoted as it was raised; everything around it is Chinese
    assert english_words(listed.output, "RuntimeError: database hiccup") == []

    # The CLI builds its own app from the file; give it the same routing as the test app.
    features = [*(replace(feature, routers=()) for feature in FEATURES), Feature("flaky", routers=[router])]
    replayed = runner.invoke(build(features, fallback=flaky), ["--config", config, "messages", "retry"])
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.splitlines()[-1] == "已重新处理 1 条消息，仍有 0 条失败"
    assert replayed.output.startswith("已处理 ")
    assert english_words(replayed.output) == []
    assert [(m["touser"], m["text"]["content"]) for m in fake_wechat.sent_messages] == [
        ("resident-9", "这次成功了")
    ]

    again = runner.invoke(cli, ["--config", config, "messages", "retry"])
    assert again.output == "已重新处理 0 条消息，仍有 0 条失败\n"
    assert len(fake_wechat.sent_messages) == 1

    recovered = runner.invoke(cli, ["--config", config, "messages", "recover"])
    assert recovered.exit_code == 0, recovered.output
    assert recovered.output == "重放暂存消息 0 条，接管过期租约 0 条，补发回复 0 条\n"
    none = runner.invoke(cli, ["--config", config, "messages", "list", "--status", "received"])
    assert none.output == "没有消息\n"

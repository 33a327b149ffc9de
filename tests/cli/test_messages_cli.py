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
    assert "failed" in listed.output
    assert "database hiccup" in listed.output

    # The CLI builds its own app from the file; give it the same routing as the test app.
    features = [*(replace(feature, routers=()) for feature in FEATURES), Feature("flaky", routers=[router])]
    replayed = runner.invoke(build(features, fallback=flaky), ["--config", config, "messages", "retry"])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 message(s), 0 still failing" in replayed.output
    assert [(m["touser"], m["text"]["content"]) for m in fake_wechat.sent_messages] == [
        ("resident-9", "这次成功了")
    ]

    again = runner.invoke(cli, ["--config", config, "messages", "retry"])
    assert "replayed 0 message(s)" in again.output
    assert len(fake_wechat.sent_messages) == 1

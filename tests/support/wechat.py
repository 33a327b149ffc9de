"""Test helpers that speak WeChat: a simulator bound to an app's test client, and sample loading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

from bot.core import services
from bot.wechat.service import WeChatServices
from devtools.simulator import WeChatSimulator
from tests.conftest import shared_path
from tests.support.reports import close_queue


def client_transport(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        response = client.post(path, data=body, content_type="text/xml")
        return response.status_code, response.data

    return post


def simulator_for(app: Flask, mode: str = "plain") -> WeChatSimulator:
    wechat = app.config["CITYBOT"].wechat
    return WeChatSimulator(
        client_transport(app),
        token=wechat.token,
        app_id=wechat.app_id,
        encoding_aes_key=wechat.encoding_aes_key,
        mode=mode,
    )


def sample_messages() -> list[Path]:
    folder = shared_path("wechat-samples", "messages")
    return sorted(folder.glob("*.xml"))


def crypto_vectors() -> list[dict[str, Any]]:
    return json.loads(shared_path("wechat-samples", "crypto.json").read_text(encoding="utf-8"))


def close_apps(apps: list[Flask]) -> None:
    """After a test: drop what each app left queued and close its WeChat API client."""
    for app in apps:
        close_queue(app)
        api = services.of(app).get(WeChatServices).api
        if api is not None:
            api.close()

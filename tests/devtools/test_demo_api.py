"""The mini-program API in the demo, as the README walks it without a WeChat account: a login code
from the stand-in, a session, a report with a photo, the resident's own list; and the demo's
configuration is the stand-in's."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from bot.app import load_settings
from bot.wechat.settings import WeChatSettings
from cli.fake_wechat import loopback_port, stand_in
from devtools.fake_wechat import FakeWeChat
from devtools.fake_wechat.client import StandIn
from devtools.photos import demo_photo
from miniprogram_api.settings import MiniProgramSettings
from tests.conftest import REPO
from tests.support.live import serve

pytestmark = pytest.mark.integration

PROGRAM = {"name": "demo", "app_id": "wxdemominiprogram", "app_secret": "demo-mini-secret"}


@pytest.fixture
def api(make_app: Callable[..., Flask], fake_wechat: FakeWeChat) -> Iterator[str]:
    fake_wechat.add_miniprogram(PROGRAM["app_id"], PROGRAM["app_secret"])
    app = make_app(**fake_wechat.settings_overrides(), miniprogram={"programs": [PROGRAM]})
    with serve(app) as base_url:
        yield f"{base_url}/api/v1"


def test_from_a_login_code_to_a_report(api: str, fake_wechat: FakeWeChat) -> None:
    code = StandIn(fake_wechat.url).login_code(PROGRAM["app_id"], "demo-mini-resident")
    session = requests.post(f"{api}/session", json={"code": code, "program": "demo"}, timeout=10)
    assert session.status_code == 201, session.text
    bearer = {"Authorization": f"Bearer {session.json()['token']}"}
    categories = requests.get(f"{api}/categories", headers=bearer, timeout=10).json()["categories"]
    category = categories[0]["code"]
    created = requests.post(
        f"{api}/reports",
        headers={**bearer, "Idempotency-Key": "demo-report-1"},
        data={
            "category": category,
            "lat": "31.2990",
            "lon": "120.5853",
            "datum": "gcj02",
            "description": "观前街人行道上摆摊",
            "address": "观前街",
        },
        files={"photos": ("demo-photo.jpg", demo_photo(), "image/jpeg")},
        timeout=20,
    )
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["number"].startswith("SP")
    assert [p["status"] for p in report["photos"]] == ["stored"]
    mine = requests.get(f"{api}/me/reports", headers=bearer, timeout=10).json()["reports"]
    assert [r["number"] for r in mine] == [report["number"]]
    again = requests.post(f"{api}/session", json={"code": code, "program": "demo"}, timeout=10)
    assert again.status_code == 401  # a wx.login code works once


def test_the_demo_configuration_is_the_stand_ins() -> None:
    settings = load_settings(REPO / "config.demo.toml", environ={})
    assert settings.demo
    assert loopback_port(settings.section(WeChatSettings).api_base_url) == 8100
    (program,) = settings.section(MiniProgramSettings).programs
    assert program.name == "demo"
    assert (REPO / settings.broadcasts.default_cover).is_file()
    assert settings.reports.template_id  # residents outside the window get a template, recorded too
    fake = stand_in(settings, port=0, webhook_url="http://127.0.0.1:8000/wechat")
    with fake:
        code = StandIn(fake.url).login_code(program.app_id, "someone")
        answer = requests.get(
            f"{fake.url}/sns/jscode2session",
            params={
                "appid": program.app_id,
                "secret": program.app_secret,
                "js_code": code,
                "grant_type": "authorization_code",
            },
            timeout=5,
        ).json()
    assert answer["openid"] == "someone"
    assert fake.webhook is not None
    assert (fake.app_id, fake.webhook.token) == (settings.wechat.app_id, settings.wechat.token)
    assert os.path.basename(settings.database_url) == "demo.db"
    assert Path(settings.database_url.removeprefix("sqlite:///")).parts[0] == "instance"

"""Fixtures for the reports domain: an app on each backend with fake WeChat media and messages, and
``citybot`` run against the same backends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

import bot
from bot.cli import cli
from bot.core import services
from devtools.fake_wechat import FakeWeChat
from reports.services import ReportsServices
from reports.settings import ReportsSettings
from tests.conftest import deep_merge
from tests.support.reports import FakeMedia, FakeSender, close_queue


@pytest.fixture
def media() -> FakeMedia:
    return FakeMedia()


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def make_reports_app(
    make_app: Callable[..., Flask], media: FakeMedia, sender: FakeSender
) -> Iterator[Callable[..., Flask]]:
    built: list[Flask] = []

    def factory(**reports: Any) -> Flask:
        settings = {"template_id": "TPL-STATUS", "retry_base_seconds": 30}
        settings.update(reports)
        app = make_app(reports=settings)
        services.of(app).get(ReportsServices).fetch_media = media
        services.of(app).get(ReportsServices).sender = sender
        built.append(app)
        return app

    yield factory
    for app in built:
        close_queue(app)


@pytest.fixture
def reports_app(make_reports_app: Callable[..., Flask]) -> Flask:
    return make_reports_app()


@pytest.fixture
def settings(reports_app: Flask) -> ReportsSettings:
    return reports_app.config["CITYBOT"].reports


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    scalars = [f"{key} = {json.dumps(value)}" for key, value in data.items() if not isinstance(value, dict)]
    lines = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(to_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines) + "\n"


@pytest.fixture
def run(
    base_overrides: dict[str, Any], fake_wechat: FakeWeChat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Invoke ``citybot`` with a config file for this test's backends and the fake WeChat."""
    config = deep_merge(base_overrides, fake_wechat.settings_overrides())
    config["reports"] = {"template_id": "TPL-STATUS"}
    path = tmp_path / "citybot.toml"
    path.write_text(to_toml(config), encoding="utf-8")
    built: list[Flask] = []
    real_create_app = bot.create_app

    def tracking_create_app(*args: Any, **kwargs: Any) -> Flask:
        app = real_create_app(*args, **kwargs)
        built.append(app)
        return app

    monkeypatch.setattr(bot, "create_app", tracking_create_app)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={"CITYBOT_CONFIG": str(path)}, catch_exceptions=False)

    yield invoke
    for app in built:
        close_queue(app)
        services.of(app).engine.dispose()

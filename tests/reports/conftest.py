"""Fixtures for the reports domain: an app on each backend with fake WeChat media and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from bot.config import ReportsSettings
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
        app.extensions["reports.fetch_media"] = media
        app.extensions["reports.sender"] = sender
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

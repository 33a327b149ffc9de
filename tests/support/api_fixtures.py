"""Fixtures for the mini-program API and Open311: an app on each backend, the fake WeChat with two
mini programs, and a client that logs residents in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.core import services
from devtools.fake_wechat import FakeWeChat
from reports.services import ReportsServices
from tests.support.reports import FakeMedia, FakeSender, close_queue

PROGRAMS = [
    {"name": "report", "app_id": "wxmp0000000report", "app_secret": "report-secret"},
    {"name": "sorting", "app_id": "wxmp000000sorting", "app_secret": "sorting-secret"},
]


@pytest.fixture
def mini_wechat(fake_wechat: FakeWeChat) -> FakeWeChat:
    for program in PROGRAMS:
        fake_wechat.add_miniprogram(program["app_id"], program["app_secret"])
    return fake_wechat


@pytest.fixture
def make_api_app(make_app: Callable[..., Flask], mini_wechat: FakeWeChat) -> Iterator[Callable[..., Flask]]:
    built: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        miniprogram = {"programs": PROGRAMS, **overrides.pop("miniprogram", {})}
        wechat = {**mini_wechat.settings_overrides()["wechat"], **overrides.pop("wechat", {})}
        reports = {"template_id": "TPL-STATUS", **overrides.pop("reports", {})}
        app = make_app(miniprogram=miniprogram, wechat=wechat, reports=reports, **overrides)
        services.of(app).get(ReportsServices).fetch_media = FakeMedia()
        services.of(app).get(ReportsServices).sender = FakeSender()
        built.append(app)
        return app

    yield factory
    for app in built:
        close_queue(app)


@pytest.fixture
def api_app(make_api_app: Callable[..., Flask]) -> Flask:
    return make_api_app()


@dataclass
class Resident:
    """A mini-program user with a token, calling the API through the test client."""

    client: FlaskClient
    openid: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(
            f"/api/v1{path}", headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.post(
            f"/api/v1{path}", headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.put(
            f"/api/v1{path}", headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs
        )


def log_in(client: FlaskClient, fake: FakeWeChat, openid: str, program: str = "report") -> Resident:
    app_id = next(p["app_id"] for p in PROGRAMS if p["name"] == program)
    response = client.post(
        "/api/v1/session", json={"code": fake.login_code(app_id, openid), "program": program}
    )
    assert response.status_code == 201, response.get_json()
    return Resident(client, openid, response.get_json()["token"])


@pytest.fixture
def login(api_app: Flask, mini_wechat: FakeWeChat) -> Callable[..., Resident]:
    def factory(openid: str = "o-mini-resident-1", program: str = "report") -> Resident:
        return log_in(api_app.test_client(), mini_wechat, openid, program)

    return factory


def error_of(response: TestResponse) -> dict[str, Any]:
    """The API's error object, after checking the shape every error must have."""
    body = response.get_json()
    assert response.mimetype == "application/json", response.data[:200]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]

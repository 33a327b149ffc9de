"""Console test helpers: staff factories and a test client that logs in and sends CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bot.core import services
from bot.core.database import session_scope
from reports.services import ReportsServices
from staff import models
from staff.roles import Role

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def add_staff(
    app: Flask,
    username: str,
    roles: frozenset[Role] | set[Role] = frozenset(),
    *,
    password: str = PASSWORD,
    display_name: str = "",
    active: bool = True,
) -> int:
    with session_scope(app) as session:
        member = models.add(session, username, password, frozenset(roles), display_name or username)
        member.active = active
        return member.id


class ConsoleClient:
    """A browser-like client: keeps cookies, reads the page's CSRF token and sends it with each POST."""

    def __init__(self, app: Flask, ip: str = "127.0.0.1") -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.ip = ip

    def _environ(self) -> dict[str, Any]:
        return {"REMOTE_ADDR": self.ip}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, environ_base=self._environ(), **kwargs)

    def token(self) -> str:
        page = self.get("/console/login")
        if page.status_code == 302:
            page = self.get("/console/")
        found = TOKEN.search(page.get_data(as_text=True))
        assert found is not None, "no CSRF token on the page"
        return found.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token())
        return self.client.post(path, data=form, environ_base=self._environ())

    def login(self, username: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/console/login", {"username": username, "password": password})

    def logged_in(self, username: str, password: str = PASSWORD) -> ConsoleClient:
        response = self.login(username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return self


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def with_fake_wechat(app: Flask) -> tuple[Any, Any]:
    """Fake WeChat media downloads and message sending for a console app; returns (media, sender)."""
    from tests.support.reports import FakeMedia, FakeSender

    media, sender = FakeMedia(), FakeSender()
    services.of(app).get(ReportsServices).fetch_media = media
    services.of(app).get(ReportsServices).sender = sender
    return media, sender

"""``/`` leads a newcomer somewhere useful; a server announces the in-process store once at start."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from bot import create_app

pytestmark = pytest.mark.integration


def test_the_home_page_links_to_what_a_newcomer_looks_for(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<title>城管服务号后台</title>" in html
    assert "演示模式" not in html
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', html))
    assert links == {
        "/console/": "管理后台",
        "/api/v1/openapi.json": "小程序接口说明",
        "/open311/v2/discovery.json": "公开举报数据（Open311）",
        "/readyz": "运行状态",
    }
    assert "<code>http://localhost/wechat</code>" in html
    for href in links:  # every link answers (the console sends a stranger to its login page)
        answer = client.get(href)
        assert answer.status_code in (200, 302), href
        if href == "/console/":
            assert "/console/login" in answer.headers["Location"]
    # no English word reaches the reader outside the addresses and names
    visible = re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S)
    words = set(re.findall(r"[A-Za-z]{3,}", visible)) - {"Open", "OpenAPI", "api", "localhost", "http"}
    assert words <= {"wechat", "make", "chat", "README", "URL"}, words


def test_the_home_page_style_is_allowed_by_its_policy(make_app: Callable[..., Flask]) -> None:
    page = make_app().test_client().get("/")
    style = re.search(r"<style>(.*?)</style>", page.get_data(as_text=True), flags=re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    policy = page.headers["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in policy
    assert policy.startswith("default-src 'none'")


def test_the_demo_says_how_to_chat(make_app: Callable[..., Flask]) -> None:
    html = make_app(demo=True).test_client().get("/").get_data(as_text=True)
    assert "演示模式：不需要微信账号。在另一个终端运行 make chat" in html


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_a_server_announces_the_in_process_store_once(
    base_overrides: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    def announcements() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "in-process store" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="citybot"):
        served = create_app(base_overrides)
        assert len(announcements()) == 1
        assert announcements()[0].levelno == logging.WARNING
        served.test_client().get("/healthz")
        served.test_client().get("/")
        assert len(announcements()) == 1
        create_app(base_overrides, announce_store=False)  # what the command line builds
        assert len(announcements()) == 1

"""Every /console URL answers an error with the console's page in Chinese (the catalogue's words):
unknown pages, wrong methods, refused permissions, unexpected failures; the JSON APIs keep theirs."""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask

from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration

ENGLISH = ("Not Found", "Method Not Allowed", "Internal Server Error", "Forbidden", "The requested URL")


def assert_console_page(body: str, title: str, code: int) -> None:
    assert f"<h1>{title}</h1>" in body
    assert f"错误代码 {code}" in body
    for english in ENGLISH:
        assert english not in body


@pytest.mark.parametrize("path", ["/console/no-such-page", "/console/datasets/no/such", "/console/x.php"])
def test_an_unknown_console_url_is_a_chinese_404(app: Flask, path: str) -> None:
    anonymous = ConsoleClient(app).client.get(path)
    assert anonymous.status_code == 404
    assert anonymous.mimetype == "text/html"
    assert_console_page(text(anonymous), "页面不存在", 404)
    assert "返回登录" in text(anonymous)
    add_staff(app, "root", {Role.ADMIN})
    signed_in = ConsoleClient(app).logged_in("root").get(path)
    assert signed_in.status_code == 404
    assert_console_page(text(signed_in), "页面不存在", 404)
    assert "返回工作台" in text(signed_in)  # it knows who is signed in
    assert "系统管理员" in text(signed_in)


def test_a_wrong_method_and_a_refused_permission_are_chinese(app: Flask) -> None:
    add_staff(app, "rev", {Role.REVIEWER})
    client = ConsoleClient(app).logged_in("rev")
    wrong = client.client.put("/console/datasets/")
    assert wrong.status_code == 405
    assert_console_page(text(wrong), "不支持的请求方式", 405)
    assert "GET" in wrong.headers.get("Allow", "")
    refused = client.get("/console/datasets/")
    assert refused.status_code == 403
    assert_console_page(text(refused), "没有权限", 403)


def test_an_unexpected_failure_is_the_console_500_page(app: Flask) -> None:
    broken = Blueprint("broken", __name__)

    @broken.get("/console/broken")
    def fail() -> str:
        raise RuntimeError("boom")

    app.register_blueprint(broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = ConsoleClient(app).client.get("/console/broken")
    assert response.status_code == 500
    assert_console_page(text(response), "系统出错", 500)
    assert "boom" not in text(response)


def test_a_failing_console_view_is_the_console_500_page(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    add_staff(app, "root", {Role.ADMIN})
    client = ConsoleClient(app).logged_in("root")

    def fail() -> str:
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "console.home.dashboard", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/console/")
    assert response.status_code == 500
    assert_console_page(text(response), "系统出错", 500)
    assert "返回工作台" in text(response)
    assert "boom" not in text(response)


def test_the_json_apis_keep_their_own_errors(app: Flask) -> None:
    client = app.test_client()
    api = client.get("/api/v1/no/such/route")
    assert (api.status_code, api.mimetype) == (404, "application/json")
    open311 = client.get("/open311/v2/no-such.json")
    assert open311.status_code == 404
    assert open311.mimetype == "application/json"

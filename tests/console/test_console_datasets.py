"""Facility datasets in the console: dry run with errors by line, publish, versions, roll back."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask

from bot.core.database import session_scope
from geodata.models import active_dataset
from staff.roles import Role
from tests.support.console import ConsoleClient, add_staff, text

pytestmark = pytest.mark.integration

HEADER = "name,lat,lon,address\n"
GOOD = HEADER + "观前街公厕,31.3080,120.6200,观前街1号\n平江路公厕,31.3150,120.6300,平江路2号\n"
DIRTY = (
    HEADER + "观前街公厕,31.3080,120.6200,观前街1号\n零点公厕,0,0,无\n颠倒公厕,120.6300,31.3150,平江路2号\n"
)


@pytest.fixture
def admin(make_app: Callable[..., Flask]) -> tuple[Flask, ConsoleClient]:
    app = make_app(geo={"service_area": [31.0, 120.3, 31.6, 121.1]})
    add_staff(app, "data", {Role.DATA_ADMIN})
    return app, ConsoleClient(app).logged_in("data")


def upload(client: ConsoleClient, body: str, name: str = "toilets.csv", **form: str) -> str:
    data = {"kind": "toilet", "datum": "wgs84", **form, "file": (io.BytesIO(body.encode("utf-8")), name)}
    response = client.post("/console/datasets/check", data)
    return text(response)


def publish(client: ConsoleClient, page: str) -> str:
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    response = client.post("/console/datasets/publish", {"token": token.group(1)})
    assert response.headers["Location"] == "/console/datasets/"
    return text(client.get("/console/datasets/"))


def test_dry_run_shows_errors_by_line_and_writes_nothing(admin: tuple[Flask, ConsoleClient]) -> None:
    app, client = admin
    page = upload(client, DIRTY)
    assert "发现 2 处错误，未作任何改动" in page
    problems = re.findall(r"<tr><td>(第 \d+ 行)</td><td>([^<]+)</td>", page)
    assert problems == [("第 3 行", "坐标为零"), ("第 4 行", "经纬度疑似颠倒")]
    assert 'name="token"' not in page  # nothing to publish
    with session_scope(app) as session:
        assert active_dataset(session, "toilet") is None


def test_an_unreadable_file_and_a_refused_roll_back_are_worded_in_chinese(
    admin: tuple[Flask, ConsoleClient],
) -> None:
    _app, client = admin
    page = upload(client, "name,address\n观前街公厕,观前街1号\n")
    assert "表头缺少列 lat, lon（现有列：name, address）。" in page
    refused = client.post("/console/datasets/toilet/rollback")
    assert "公共厕所没有当前版本，无法回退。" in text(client.get(refused.headers["Location"]))


def test_fix_then_publish_then_roll_back(admin: tuple[Flask, ConsoleClient]) -> None:
    app, client = admin
    checked = upload(client, GOOD)
    assert "共 2 条，全部通过检查" in checked
    listing = publish(client, checked)
    assert "公共厕所：已发布为新版本（版本 1，2 条）" in listing
    second = GOOD + "山塘街公厕,31.3200,120.6000,山塘街3号\n"
    listing = publish(client, upload(client, second, name="toilets-v2.csv"))
    assert "版本 2，3 条" in listing
    versions = re.findall(r'<tr(?: class="active-version")?><td>(\d+)</td><td>(使用中)?</td>', listing)
    assert versions == [("2", "使用中"), ("1", "")]
    again = publish(client, upload(client, second, name="toilets-v2.csv"))
    assert "与当前版本完全相同，未作改动" in again
    rolled = client.post("/console/datasets/toilet/rollback")
    assert "已回退到版本 1" in text(client.get(rolled.headers["Location"]))
    with session_scope(app) as session:
        active = active_dataset(session, "toilet")
        assert active is not None
        assert (active.version, active.row_count, active.loaded_by) == (1, 2, "data")


def test_uploads_are_checked_before_reading(make_app: Callable[..., Flask]) -> None:
    app = make_app(console={"max_upload_bytes": 2048})
    add_staff(app, "data", {Role.DATA_ADMIN})
    client = ConsoleClient(app).logged_in("data")
    big = HEADER + "".join(f"公厕{i},31.3{i:03d},120.6{i:03d},地址{i}\n" for i in range(200))
    too_big = client.post(
        "/console/datasets/check",
        {"kind": "toilet", "datum": "wgs84", "file": (io.BytesIO(big.encode()), "big.csv")},
    )
    assert too_big.status_code == 413
    assert "文件过大" in text(too_big)
    assert "只接受" in upload(client, GOOD, name="toilets.xlsx")
    assert "请选择设施类型和坐标系" in upload(client, GOOD, datum="")


def test_publishing_needs_your_own_fresh_upload(admin: tuple[Flask, ConsoleClient]) -> None:
    app, client = admin
    checked = upload(client, GOOD)
    add_staff(app, "data2", {Role.DATA_ADMIN})
    other = ConsoleClient(app).logged_in("data2")
    token = re.search(r'name="token" value="([^"]+)"', checked)
    assert token is not None
    response = other.post("/console/datasets/publish", {"token": token.group(1)})
    assert "已过期或不存在" in text(other.get(response.headers["Location"]))
    with session_scope(app) as session:
        assert active_dataset(session, "toilet") is None


def test_reviewers_see_no_datasets(admin: tuple[Flask, ConsoleClient]) -> None:
    app, _ = admin
    add_staff(app, "rev", {Role.REVIEWER})
    reviewer = ConsoleClient(app).logged_in("rev")
    assert reviewer.get("/console/datasets/").status_code == 403
    assert "设施数据" not in text(reviewer.get("/console/"))

"""Facility datasets in the console: dry run with errors by line, publish, versions, roll back."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from bot.core.database import session_scope
from geodata.models import Poi, active_dataset
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


def upload(client: ConsoleClient, body: str | bytes, name: str = "toilets.csv", **form: str) -> str:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    data = {"kind": "toilet", "datum": "wgs84", **form, "file": (io.BytesIO(raw), name)}
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
    problems = re.findall(r"<tr><td>(第 \d+ 行)</td><td>([^<]+)</td><td class=\"muted\">([^<]+)</td>", page)
    assert problems == [
        ("第 3 行", "坐标为零", "坐标为零（纬度 0.0，经度 0.0）。"),
        ("第 4 行", "经纬度疑似颠倒", "纬度和经度疑似填反了（纬度 120.63，经度 31.315）。"),
    ]
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


def test_a_gbk_file_from_excel_is_read_and_a_broken_one_refused_with_the_fix(
    admin: tuple[Flask, ConsoleClient],
) -> None:
    app, client = admin
    checked = upload(client, GOOD.encode("gbk"))
    assert "共 2 条，全部通过检查" in checked
    assert "已按 GBK/GB18030 编码读取文件。" in checked
    publish(client, checked)
    with session_scope(app) as session:
        active = active_dataset(session, "toilet")
        assert active is not None
        assert sorted(p.name for p in session.scalars(select(Poi).where(Poi.dataset_id == active.id))) == [
            "平江路公厕",
            "观前街公厕",
        ]
    refused = upload(client, HEADER.encode() + b"\xff\xfe,31.3,120.6,x\n")
    assert "整个文件" in refused
    assert "请在 Excel 中用“另存为”选择“CSV UTF-8（逗号分隔）”保存后重新上传" in refused


def test_rows_outside_the_service_area_are_named_in_chinese(admin: tuple[Flask, ConsoleClient]) -> None:
    _app, client = admin
    page = upload(client, HEADER + "东京公厕,35.6800,139.7600,东京\n")
    assert "不在服务区域内" in page
    assert "坐标（纬度 35.68，经度 139.76）不在服务区域内（纬度 31.0–31.6，经度 120.3–121.1）。" in page


def test_outside_rows_are_only_warned_when_the_setting_says_warn(make_app: Callable[..., Flask]) -> None:
    app = make_app(geo={"service_area": [31.0, 120.3, 31.6, 121.1], "outside_area": "warn"})
    add_staff(app, "data", {Role.DATA_ADMIN})
    client = ConsoleClient(app).logged_in("data")
    page = upload(client, GOOD + "东京公厕,35.6800,139.7600,东京\n")
    assert "共 3 条，全部通过检查（1 条提示）" in page
    assert "<h3>提示</h3>" in page
    assert "不在服务区域内" in page


def test_a_load_that_drops_most_rows_asks_for_a_confirmation(admin: tuple[Flask, ConsoleClient]) -> None:
    app, client = admin
    many = HEADER + "".join(f"公厕{i},31.3{i:02d},120.6{i:02d},地址{i}\n" for i in range(56))
    publish(client, upload(client, many))
    few = HEADER + "".join(f"公厕{i},31.3{i:02d},120.6{i:02d},地址{i}\n" for i in range(4))
    checked = upload(client, few, name="few.csv")
    assert "新文件只有 4 条，比当前版本（版本 1，56 条）少 52 条（93%）。请确认后再发布。" in checked
    assert 'name="confirm_shrink"' in checked
    token = re.search(r'name="token" value="([^"]+)"', checked)
    assert token is not None
    unconfirmed = client.post("/console/datasets/publish", {"token": token.group(1)})
    assert unconfirmed.status_code == 409
    assert "请确认后再发布" in text(unconfirmed)
    with session_scope(app) as session:
        active = active_dataset(session, "toilet")
        assert active is not None
        assert (active.version, active.row_count) == (1, 56)
    confirmed = client.post("/console/datasets/publish", {"token": token.group(1), "confirm_shrink": "1"})
    assert confirmed.headers["Location"] == "/console/datasets/"
    with session_scope(app) as session:
        active = active_dataset(session, "toilet")
        assert active is not None
        assert (active.version, active.row_count) == (2, 4)


def test_roll_back_names_and_returns_to_the_version_active_before(admin: tuple[Flask, ConsoleClient]) -> None:
    app, client = admin
    versions = [GOOD + f"新增公厕{n},31.32{n},120.60{n},地址\n" for n in range(3)]
    publish(client, upload(client, versions[0], name="v1.csv"))
    listing = publish(client, upload(client, versions[1], name="v2.csv"))
    assert "回退到上一版本（版本 1）" in listing
    client.post("/console/datasets/toilet/rollback")
    listing = publish(client, upload(client, versions[2], name="v3.csv"))
    assert "回退到上一版本（版本 1）" in listing  # not version 2, which was rolled back
    rolled = client.post("/console/datasets/toilet/rollback")
    page = text(client.get(rolled.headers["Location"]))
    assert "已回退到版本 1" in page
    assert "回退到上一版本" not in page  # nothing active before version 1
    with session_scope(app) as session:
        active = active_dataset(session, "toilet")
        assert active is not None
        assert active.version == 1

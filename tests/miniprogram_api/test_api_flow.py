"""A mini program's whole journey: session -> nearest -> report with 3 photos -> accepted with
``citybot report accept`` -> points visible; and the resident's phone binding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from bot.cli import cli
from bot.core import services
from geodata.demo import centre, load_demo
from reports.models import Notification, NotificationStatus, Report
from reports.services import ReportsServices
from tests.miniprogram_api.test_api_reports import upload
from tests.support import images
from tests.support.api_fixtures import Resident, error_of
from tests.support.live import cli_config
from tests.support.reports import add_staff, drain, unit

pytestmark = pytest.mark.integration


def test_session_nearest_report_accept_points(
    api_app: Flask, login: Callable[..., Resident], base_overrides: dict[str, Any], tmp_path: Path
) -> None:
    with unit(api_app) as session:
        load_demo(session)
    add_staff(api_app)
    resident = login("o-mini-journey")
    here = centre()

    nearby = resident.get(f"/places/nearest?kind=vendor&lat={here.lat}&lon={here.lon}&datum=gcj02")
    assert nearby.status_code == 200
    place = nearby.get_json()["places"][0]

    photos = (images.jpeg(11), images.jpeg(12), images.jpeg(13))
    created = upload(resident, *photos, lat=str(place["lat"]), lon=str(place["lon"]), address=place["name"])
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert len(report["photos"]) == 3

    before = resident.get("/me/points").get_json()
    assert before["balance"] == 0
    assert before["entries"] == []

    result = CliRunner().invoke(
        cli,
        [
            "--config",
            cli_config(str(tmp_path / "cli.toml"), base_overrides),
            "report",
            "accept",
            report["number"],
            "--actor",
            "rev-a",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    drain(api_app)

    shown = resident.get(f"/me/reports/{report['id']}").get_json()
    assert shown["status"] == "accepted"
    assert shown["status_text"] == "已采纳"
    assert shown["points"] == 10  # 占道经营 earns 10 points
    points = resident.get("/me/points").get_json()
    assert points["balance"] == 10
    assert [(e["kind"], e["points"], e["report_number"]) for e in points["entries"]] == [
        ("earn", 10, report["number"])
    ]
    assert points["entries"][0]["label"] == "举报采纳"
    # the service account cannot message a mini program's openid: the notice is recorded, not sent
    with unit(api_app) as session:
        notices = list(session.scalars(select(Notification).where(Notification.report_id == report["id"])))
        assert [n.status for n in notices] == [NotificationStatus.UNDELIVERABLE]
        assert session.get(Report, report["id"]) is not None
    assert services.of(api_app).get(ReportsServices).sender.texts == []


def test_phone_binding(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-mini-phone")
    assert resident.get("/me/points").get_json()["phone"] is None
    bound = resident.put("/me/phone", json={"phone": "+8613800138000"})
    assert bound.status_code == 200
    assert bound.get_json() == {"phone": "138****8000"}
    assert resident.get("/me/points").get_json()["phone"] == "138****8000"
    for phone in ("12345", "23800138000", "138 0013 8000", 13800138000):
        refused = resident.put("/me/phone", json={"phone": phone})
        assert (refused.status_code, error_of(refused)["code"]) == (422, "invalid_phone"), phone
    assert error_of(resident.put("/me/phone", data="13800138000"))["code"] == "unsupported_media_type"
    other = login("o-mini-other")
    assert other.get("/me/points").get_json()["phone"] is None

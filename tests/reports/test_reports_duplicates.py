"""Duplicate suggestions: same category nearby within the window, or the same / a similar photo."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from bot.core.geo import Datum
from reports import workflow
from reports.duplicates import find_candidates
from reports.models import RejectReason, Report, ReportStatus
from reports.photos import hamming, inspect_image
from reports.roles import staff_actor
from reports.settings import ReportsSettings
from staff.roles import Role
from tests.support import images
from tests.support.clock import T0
from tests.support.reports import FakeMedia, new_report, unit

pytestmark = pytest.mark.integration

BASE = (30.2614, 120.1431)  # WGS-84
REVIEWER = staff_actor("rev-a", Role.REVIEWER)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_320.0, point[1]


def east_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / (111_320.0 * math.cos(math.radians(point[0])))


def candidates(app: Flask, report_id: int) -> dict[str, set[str]]:
    with unit(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        found = find_candidates(session, report, app.config["CITYBOT"].reports)
        return {c.number: set(c.reasons) for c in found}


def number(app: Flask, report_id: int) -> str:
    with unit(app) as session:
        return session.get(Report, report_id).number  # type: ignore[union-attr]


def report_at(app: Flask, media: FakeMedia, where: tuple[float, float], **kwargs: object) -> int:
    kwargs.setdefault("now", T0)
    kwargs.setdefault("seeds", (len(media.files) + 11,))
    return new_report(app, media, where=where, datum=Datum.WGS84, **kwargs)  # type: ignore[arg-type]


def test_same_category_nearby_within_the_window(reports_app: Flask, media: FakeMedia) -> None:
    first = report_at(reports_app, media, BASE, openid="o-a")
    near = report_at(reports_app, media, east_of(BASE, 40), openid="o-b", now=T0 + timedelta(hours=5))
    with unit(reports_app) as session:
        stored = session.get(Report, near).duplicate_candidates  # type: ignore[union-attr]
    assert stored is not None
    assert stored[0]["number"] == number(reports_app, first)
    assert stored[0]["reasons"] == ["nearby"]
    assert stored[0]["distance_m"] == pytest.approx(40, abs=1)
    assert candidates(reports_app, first) == {number(reports_app, near): {"nearby"}}


@pytest.mark.parametrize(
    ("where", "later", "category"),
    [
        pytest.param(north_of(BASE, 60), timedelta(hours=1), "street_vending", id="too-far"),
        pytest.param(north_of(BASE, 10), timedelta(hours=25), "street_vending", id="too-late"),
        pytest.param(north_of(BASE, 10), timedelta(hours=1), "littering", id="other-category"),
    ],
)
def test_no_suggestion_outside_radius_window_or_category(
    reports_app: Flask, media: FakeMedia, where: tuple[float, float], later: timedelta, category: str
) -> None:
    report_at(reports_app, media, BASE, openid="o-a")
    second = report_at(reports_app, media, where, openid="o-b", now=T0 + later, category=category)
    assert candidates(reports_app, second) == {}
    with unit(reports_app) as session:
        assert session.get(Report, second).duplicate_candidates is None  # type: ignore[union-attr]


def test_radius_and_window_are_configurable(make_reports_app: Callable[..., Flask], media: FakeMedia) -> None:
    app = make_reports_app(duplicate_radius_m=100, duplicate_window_hours=48)
    report_at(app, media, BASE, openid="o-a")
    second = report_at(app, media, north_of(BASE, 80), openid="o-b", now=T0 + timedelta(hours=30))
    assert len(candidates(app, second)) == 1


def test_a_rejected_report_is_not_an_incident_to_duplicate(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    first = report_at(reports_app, media, BASE, openid="o-a")
    with unit(reports_app) as session:
        workflow.reject(session, first, REVIEWER, ReportStatus.SUBMITTED, RejectReason.NOT_A_VIOLATION)
    second = report_at(reports_app, media, north_of(BASE, 5), openid="o-b")
    assert candidates(reports_app, second) == {}


def test_same_photo_far_away_and_days_later(reports_app: Flask, media: FakeMedia) -> None:
    data = images.jpeg(42)
    first = report_at(reports_app, media, BASE, openid="o-a", photo_bytes=(data,))
    far = north_of(BASE, 5000)
    second = report_at(
        reports_app,
        media,
        far,
        openid="o-b",
        photo_bytes=(data,),
        now=T0 + timedelta(days=3),
        category="other",
    )
    with unit(reports_app) as session:
        stored = session.get(Report, second).duplicate_candidates  # type: ignore[union-attr]
    assert stored is not None
    assert stored[0]["number"] == number(reports_app, first)
    assert stored[0]["reasons"] == ["same_photo"]
    assert stored[0]["hamming"] == 0


def test_near_identical_photo_by_perceptual_hash(reports_app: Flask, media: FakeMedia) -> None:
    original = images.jpeg(42, size=(640, 480), quality=92)
    recompressed = images.jpeg(42, size=(600, 450), quality=55)  # resized and re-encoded: other bytes
    unrelated = images.jpeg(43)
    a, b, c = (inspect_image(blob, ZoneInfo("UTC"))[0].phash for blob in (original, recompressed, unrelated))
    assert hamming(a, b) <= 6 < hamming(a, c)

    first = report_at(reports_app, media, BASE, openid="o-a", photo_bytes=(original,))
    similar = report_at(
        reports_app, media, north_of(BASE, 3000), openid="o-b", photo_bytes=(recompressed,), category="other"
    )
    other = report_at(
        reports_app, media, north_of(BASE, 6000), openid="o-c", photo_bytes=(unrelated,), category="other"
    )
    assert candidates(reports_app, similar) == {number(reports_app, first): {"similar_photo"}}
    assert number(reports_app, first) not in candidates(reports_app, other)

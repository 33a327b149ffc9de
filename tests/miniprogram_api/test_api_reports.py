"""POST /api/v1/reports and the resident's own reports: photos checked like the chat's, the same
limits and duplicate hints, one report per Idempotency-Key, nobody else's report."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from urllib3 import encode_multipart_formdata

from bot.core import services
from bot.core.ratelimit import digest
from miniprogram_api import uploads
from miniprogram_api.auth import ApiUser
from miniprogram_api.models import IdempotencyKey
from reports import workflow
from reports.jobs import storage_for
from reports.models import Photo, PhotoStatus, Report, ReportStatus, Source, audit_of
from reports.roles import staff_actor
from staff.roles import Role
from tests.support import images
from tests.support.api_fixtures import Resident, error_of
from tests.support.live import serve
from tests.support.reports import unit

pytestmark = pytest.mark.integration

WEST_LAKE_GCJ = (30.2590, 120.1480)
GPS = (30.2614, 120.1431)


def multipart(*photos: bytes, **fields: Any) -> tuple[bytes, str]:
    """A multipart body built in memory (the test client would spool a large one to a file it
    never closes)."""
    values: dict[str, Any] = {
        "category": "street_vending",
        "lat": str(WEST_LAKE_GCJ[0]),
        "lon": str(WEST_LAKE_GCJ[1]),
        "datum": "gcj02",
        "description": "人行道上摆摊",
        **fields,
    }
    parts: list[tuple[str, Any]] = list(values.items())
    parts += [("photos", (f"photo{n}.jpg", photo, "image/jpeg")) for n, photo in enumerate(photos)]
    return encode_multipart_formdata(parts)


def upload(resident: Resident, *photos: bytes, key: str | None = None, **fields: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    body, content_type = multipart(*photos, **fields)
    return resident.post("/reports", data=body, headers=headers, content_type=content_type)


def count_reports(app: Flask) -> int:
    with unit(app) as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


def test_a_report_with_three_photos(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-mini-alice")
    photos = (images.jpeg(1, gps=GPS), images.png(2), images.webp(3))
    response = upload(resident, *photos)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("SP")
    assert body["status"] == "submitted"
    assert body["location"] == {"lat": WEST_LAKE_GCJ[0], "lon": WEST_LAKE_GCJ[1], "datum": "gcj02"}
    assert [p["status"] for p in body["photos"]] == ["stored"] * 3
    assert response.headers["Location"] == f"/api/v1/me/reports/{body['id']}"
    storage = storage_for(api_app)
    with unit(api_app) as session:
        report = session.get(Report, body["id"])
        assert report is not None
        assert report.source == Source.MINIPROGRAM
        assert report.openid == "o-mini-alice"
        [submitted] = audit_of(session, report.id)
        assert (submitted.actor, submitted.channel, submitted.to_status) == ("resident", "api", "submitted")
        assert abs(report.lat - 30.2614) < 0.01  # stored canonical WGS-84, converted from GCJ-02
        first = report.photos[0]
        assert first.exif_lat is not None
        assert first.exif_lon is not None
        assert abs(first.exif_lat - GPS[0]) < 1e-4
        assert abs(first.exif_lon - GPS[1]) < 1e-4
        assert first.sha256 is not None
        assert first.phash is not None
        assert storage.get(first.original_key or "", public=False) == photos[0]
        derivative = Image.open(io.BytesIO(storage.get(first.derivative_key or "", public=True)))
        assert derivative.format == "JPEG"
        assert len(derivative.getexif()) == 0  # EXIF read, then stripped from what is served
    again = resident.get(f"/me/reports/{body['id']}")
    assert again.status_code == 200
    assert again.get_json() == body


def test_refused_photos(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-mini-bob")
    executable = upload(resident, images.ELF_EXECUTABLE)  # sent as photo0.jpg
    assert (executable.status_code, error_of(executable)["code"]) == (415, "unsupported_photo_type")
    gif_js = upload(resident, images.jpeg(1), images.GIF_JS_POLYGLOT)
    assert (gif_js.status_code, error_of(gif_js)["code"]) == (415, "unsupported_photo_type")
    assert error_of(gif_js)["details"]["photo"] == 1
    jpeg_zip = upload(resident, images.jpeg(1) + images.zip_archive())
    assert (jpeg_zip.status_code, error_of(jpeg_zip)["code"]) == (422, "invalid_photo")
    assert "after the end" in error_of(jpeg_zip)["details"]["problem"]
    truncated = upload(resident, images.jpeg(1)[:2000])
    assert (truncated.status_code, error_of(truncated)["code"]) == (422, "invalid_photo")
    huge = upload(resident, images.noise_png(20))
    assert (huge.status_code, error_of(huge)["code"]) == (413, "photo_too_large")
    assert error_of(huge)["details"]["max_bytes"] == services.settings(api_app).reports.photo_max_bytes
    assert "10 MB" in error_of(huge)["message"]
    assert count_reports(api_app) == 0  # nothing refused left a report behind


def test_refused_forms(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-mini-carol")
    photo = images.jpeg(1)

    def code_of(response: Any) -> tuple[int, str]:
        return response.status_code, error_of(response)["code"]

    assert code_of(upload(resident)) == (422, "validation_failed")
    assert code_of(upload(resident, photo, photo)) == (422, "validation_failed")  # the same photo twice
    four = upload(resident, *(images.jpeg(n) for n in range(4)))
    assert code_of(four) == (422, "validation_failed")
    assert "at most 3" in error_of(four)["details"][0]["problem"]
    assert code_of(upload(resident, photo, category="nope")) == (422, "unknown_category")
    bad_lat = upload(resident, photo, lat="91")
    assert code_of(bad_lat) == (422, "validation_failed")
    assert error_of(bad_lat)["details"][0]["field"] == "lat"
    assert code_of(upload(resident, photo, lat="north")) == (422, "validation_failed")
    assert code_of(upload(resident, photo, datum="bd09")) == (422, "validation_failed")
    assert code_of(upload(resident, photo, surprise="x")) == (422, "validation_failed")
    as_json = resident.post("/reports", json={"category": "street_vending"})
    assert code_of(as_json) == (415, "unsupported_media_type")
    assert code_of(upload(resident, photo, key="has spaces")) == (422, "validation_failed")
    assert count_reports(api_app) == 0


def test_another_residents_report_is_not_found(api_app: Flask, login: Callable[..., Resident]) -> None:
    alice, mallory = login("o-mini-alice"), login("o-mini-mallory")
    created = upload(alice, images.jpeg(1)).get_json()
    stolen = mallory.get(f"/me/reports/{created['id']}")
    assert (stolen.status_code, error_of(stolen)["code"]) == (404, "not_found")
    missing = mallory.get("/me/reports/999999")
    assert error_of(missing) == error_of(stolen)  # indistinguishable from a report that does not exist
    assert error_of(mallory.get("/me/reports/99999999999"))["code"] == "not_found"
    assert mallory.get("/me/reports").get_json() == {"reports": []}
    assert [r["id"] for r in alice.get("/me/reports").get_json()["reports"]] == [created["id"]]


def test_a_retried_upload_creates_one_report(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-mini-dan")
    photos = (images.jpeg(1), images.jpeg(2))
    first = upload(resident, *photos, key="retry-0001")
    second = upload(resident, *photos, key="retry-0001")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count_reports(api_app) == 1
    # the database keeps the key when the store has forgotten it
    store = services.store(api_app)
    store.delete(f"mp:idem:done:{digest('o-mini-dan')}:{digest('retry-0001')}")
    third = upload(resident, *photos, key="retry-0001")
    assert third.get_json()["id"] == first.get_json()["id"]
    assert count_reports(api_app) == 1
    # the same key for a different report is refused; a new key makes a new report
    reused = upload(resident, images.jpeg(3), key="retry-0001")
    assert (reused.status_code, error_of(reused)["code"]) == (422, "idempotency_key_reused")
    assert upload(resident, images.jpeg(3), key="retry-0002").status_code == 201
    # keys belong to their resident: another one may use the same string
    other = login("o-mini-erin")
    assert upload(other, images.jpeg(4), key="retry-0001").get_json()["id"] != first.get_json()["id"]
    assert count_reports(api_app) == 3


def test_concurrent_retries_with_one_key_make_one_report(
    api_app: Flask, login: Callable[..., Resident]
) -> None:
    resident = login("o-mini-fay")
    photos = [images.jpeg(n) for n in (1, 2, 3)]
    results: list[requests.Response] = []
    with serve(api_app) as base:
        barrier = threading.Barrier(4)

        def send() -> None:
            files = [("photos", (f"p{n}.jpg", data, "image/jpeg")) for n, data in enumerate(photos)]
            fields = {"category": "clutter", "lat": "30.2590", "lon": "120.1480"}
            barrier.wait()
            results.append(
                requests.post(
                    f"{base}/api/v1/reports",
                    data=fields,
                    files=files,
                    headers={**resident.headers, "Idempotency-Key": "same-tap"},
                    timeout=30,
                )
            )

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r.status_code for r in results) == [201] * 4, [r.text for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert count_reports(api_app) == 1


def test_racing_past_the_store_still_makes_one_report(api_app: Flask) -> None:
    """Two requests that both miss the store meet the unique (openid, key) constraint."""
    user = ApiUser("o-mini-gus", "report")
    upload_ = uploads.parse_upload(
        {"category": "clutter", "lat": "30.259", "lon": "120.148"},
        [_file(images.jpeg(9))],
        max_photos=3,
        max_bytes=10 * 1024 * 1024,
    )
    created: list[uploads.Created] = []
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        with api_app.app_context():
            created.append(uploads._create(api_app, user, upload_, "raced-key"))

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(created) == 2
    assert len({c.report_id for c in created}) == 1
    assert sorted(c.replayed for c in created) == [False, True]
    with unit(api_app) as session:
        assert session.scalar(select(func.count(IdempotencyKey.id))) == 1
    assert count_reports(api_app) == 1


def _file(data: bytes) -> Any:
    from werkzeug.datastructures import FileStorage

    return FileStorage(io.BytesIO(data), filename="p.jpg")


def test_the_chats_limits_and_duplicate_hints_apply(
    make_api_app: Callable[..., Flask], mini_wechat: Any
) -> None:
    from tests.support.api_fixtures import log_in

    app = make_api_app(reports={"reports_per_hour": 2})
    alice = log_in(app.test_client(), mini_wechat, "o-mini-hal")
    bob = log_in(app.test_client(), mini_wechat, "o-mini-ivy")
    photo = images.jpeg(5)
    first = upload(alice, photo).get_json()
    second = upload(bob, photo, description="同一张照片").get_json()
    with unit(app) as session:
        flagged = session.get(Report, second["id"])
        assert flagged is not None
        assert flagged.duplicate_candidates
        reasons = flagged.duplicate_candidates[0]["reasons"]
        assert flagged.duplicate_candidates[0]["report_id"] == first["id"]
        assert "same_photo" in reasons
        assert "nearby" in reasons
        assert all(p.status == PhotoStatus.STORED for p in session.scalars(select(Photo)))
    assert upload(alice, images.jpeg(6)).status_code == 201
    limited = upload(alice, images.jpeg(7))
    assert (limited.status_code, error_of(limited)["code"]) == (429, "report_limit_hour")
    assert error_of(limited)["details"] == {"limit": 2, "window": "hour"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert error_of(limited)["message"] == "您在一小时内提交的举报已达上限（2 条），请稍后再试。"


def test_the_description_is_stored_as_written_and_a_rejection_says_why(
    api_app: Flask, login: Callable[..., Resident]
) -> None:
    resident = login("o-mini-dora")
    written = "人行道上摆摊，占道严重！（早高峰）"
    created = upload(resident, images.jpeg(7), description=written)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["description"] == written
    assert body["reason"] is None
    with unit(api_app) as session:
        report = session.get(Report, body["id"])
        assert report is not None
        assert report.description == written  # full-width punctuation stays full-width
        workflow.reject(
            session,
            report.id,
            staff_actor("rev-a", Role.REVIEWER),
            ReportStatus.SUBMITTED,
            "insufficient_info",
        )
    shown = resident.get(f"/me/reports/{body['id']}").get_json()
    assert (shown["status"], shown["status_text"]) == ("rejected", "未采纳")
    assert (shown["reason_code"], shown["reason"]) == ("insufficient_info", "信息不完整，无法核实。")
    [listed] = resident.get("/me/reports").get_json()["reports"]
    assert listed["reason"] == "信息不完整，无法核实。"

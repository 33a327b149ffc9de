"""Photos: type sniffing, EXIF, stripped derivatives, and the download job with retries."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import ExifTags, Image
from sqlalchemy import select, update

from bot.core import jobs
from bot.core.clock import utcnow
from reports.jobs import storage_for
from reports.models import Photo, PhotoStatus
from reports.photos import PhotoRejectedError, inspect_image, process_photo, sniff, stripped_derivative
from reports.settings import ReportsSettings
from tests.support import images
from tests.support.clock import T0
from tests.support.reports import FakeMedia, new_report, unit

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
GPS = (30.2614, 120.1431)  # WGS-84, as cameras record it


def only_photo(app: Flask) -> Photo:
    with unit(app) as session:
        photo = session.scalars(select(Photo)).one()
        session.expunge(photo)
        return photo


def test_sniff_by_magic_bytes() -> None:
    assert sniff(images.jpeg(1)) == "image/jpeg"
    assert sniff(images.png(1)) == "image/png"
    assert sniff(images.webp(1)) == "image/webp"
    assert sniff(b"GIF89a....") is None
    assert sniff(b"<html>not an image</html>") is None


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # JPEG magic, no image
        b"RIFF\x00\x00\x00\x00WEBPVP8 junk",
        b"plain text",
    ],
)
def test_unreadable_bytes_are_rejected(data: bytes) -> None:
    with pytest.raises(PhotoRejectedError):
        inspect_image(data, SHANGHAI)


def test_exif_time_and_gps_are_read_and_orientation_applied() -> None:
    taken = datetime(2026, 11, 27, 9, 30, 15)
    data = images.jpeg(7, size=(640, 480), gps=GPS, taken=taken, orientation=6)
    facts, upright = inspect_image(data, SHANGHAI)
    assert facts.content_type == "image/jpeg"
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert len(facts.phash) == 16
    assert facts.taken_at == taken.replace(tzinfo=SHANGHAI)
    assert facts.lat == pytest.approx(GPS[0], abs=1e-5)
    assert facts.lon == pytest.approx(GPS[1], abs=1e-5)
    assert (facts.width, facts.height) == (480, 640)  # rotated upright
    assert upright.size == (480, 640)


def test_southern_and_western_coordinates_are_negative() -> None:
    facts, _ = inspect_image(images.jpeg(2, gps=(-33.8688, -70.6693)), SHANGHAI)
    assert facts.lat == pytest.approx(-33.8688, abs=1e-5)
    assert facts.lon == pytest.approx(-70.6693, abs=1e-5)


def test_derivative_carries_no_metadata() -> None:
    data = images.jpeg(3, size=(2400, 1200), gps=GPS, taken=datetime(2026, 1, 1), orientation=8)
    _, upright = inspect_image(data, SHANGHAI)
    derivative = stripped_derivative(upright, max_px=1600)
    image = Image.open(io.BytesIO(derivative))
    assert image.format == "JPEG"
    assert max(image.size) == 1600
    assert image.size == (800, 1600)  # orientation 8 turned it upright before scaling
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert b"TestCam" not in derivative
    assert b"Exif" not in derivative


def test_png_with_alpha_becomes_an_opaque_jpeg() -> None:
    _, upright = inspect_image(images.png(4, alpha=True), SHANGHAI)
    image = Image.open(io.BytesIO(stripped_derivative(upright, 1600)))
    assert image.mode == "RGB"


def test_download_stores_original_privately_and_a_stripped_derivative(
    reports_app: Flask, media: FakeMedia
) -> None:
    data = images.jpeg(5, gps=GPS, taken=datetime(2026, 11, 27, 9, 0))
    new_report(reports_app, media, photo_bytes=(data,))
    photo = only_photo(reports_app)
    assert photo.status == PhotoStatus.STORED
    assert photo.attempts == 1
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.exif_lat == pytest.approx(GPS[0], abs=1e-5)
    assert photo.exif_lon == pytest.approx(GPS[1], abs=1e-5)
    assert photo.content_type == "image/jpeg"
    assert photo.size_bytes == len(data)
    storage = storage_for(reports_app)
    assert photo.original_key is not None
    assert photo.derivative_key is not None
    assert storage.get(photo.original_key, public=False) == data
    assert not storage.exists(photo.original_key, public=True)
    derivative = storage.get(photo.derivative_key, public=True)
    opened = Image.open(io.BytesIO(derivative))
    assert len(opened.getexif()) == 0
    assert opened.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    assert b"TestCam" not in derivative


def test_a_failed_download_is_recorded_then_retried_and_succeeds(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    media.fail_next("media-1")
    before = utcnow()
    new_report(reports_app, media)
    photo = only_photo(reports_app)
    assert photo.status == PhotoStatus.RETRYING
    assert photo.attempts == 1
    assert photo.last_error is not None
    assert "ConnectionError" in photo.last_error
    assert photo.next_attempt_at is not None
    delay = photo.next_attempt_at - before
    assert timedelta(seconds=settings.retry_base_seconds - 5) < delay < timedelta(seconds=60)
    # Not due yet: the sweep leaves it alone.
    jobs.run_due(reports_app)
    assert only_photo(reports_app).attempts == 1
    with unit(reports_app) as session:
        session.execute(update(Photo).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    jobs.run_due(reports_app)
    photo = only_photo(reports_app)
    assert photo.status == PhotoStatus.STORED
    assert photo.attempts == 2
    assert photo.last_error is None
    assert media.calls == ["media-1", "media-1"]


def test_backoff_grows_and_gives_up_after_max_attempts(
    make_reports_app: Callable[..., Flask], media: FakeMedia
) -> None:
    app = make_reports_app(download_max_attempts=3, retry_base_seconds=10)
    settings: ReportsSettings = app.config["CITYBOT"].reports
    media.fail_next("media-1", times=10)
    new_report(app, media, now=T0)
    waits = []
    with unit(app) as session:
        photo_id = session.scalars(select(Photo.id)).one()
        for _ in range(2):
            photo = session.get(Photo, photo_id)
            assert photo is not None
            assert photo.next_attempt_at is not None
            when = photo.next_attempt_at
            process_photo(session, storage_for(app), photo_id, media, settings=settings, now=when)
            waits.append(when)
        photo = session.get(Photo, photo_id)
        assert photo is not None
        assert photo.status == PhotoStatus.FAILED
        assert photo.attempts == 3
        assert photo.next_attempt_at is None
        assert "ConnectionError" in (photo.last_error or "")
    assert waits[1] - waits[0] == timedelta(seconds=20)  # 10 s, then 20 s


def test_media_past_its_validity_is_given_up_with_a_clear_status(
    reports_app: Flask, media: FakeMedia, settings: ReportsSettings
) -> None:
    media.fail_next("media-1")
    received = T0 - timedelta(hours=71, minutes=58)
    new_report(reports_app, media, now=T0, photos_received_at=received)
    photo = only_photo(reports_app)
    # the backoff would reach past the 72 h validity: no pointless attempt is planned
    assert photo.status == PhotoStatus.EXPIRED
    assert "validity" in (photo.last_error or "")
    with unit(reports_app) as session:
        late = session.scalars(select(Photo)).one()
        late.status = PhotoStatus.PENDING
        processed = process_photo(
            session,
            storage_for(reports_app),
            late.id,
            media,
            settings=settings,
            now=received + timedelta(hours=73),
        )
        assert processed is not None
        assert processed.status == PhotoStatus.EXPIRED
        assert processed.last_error == "media validity ended before it could be downloaded"
    assert media.calls == ["media-1"]


def test_not_an_image_is_invalid_and_not_retried(reports_app: Flask, media: FakeMedia) -> None:
    new_report(reports_app, media, photo_bytes=(b"<html>error page</html>",))
    photo = only_photo(reports_app)
    assert photo.status == PhotoStatus.INVALID
    assert photo.next_attempt_at is None
    assert "not a JPEG" in (photo.last_error or "")


def test_oversized_download_is_invalid(make_reports_app: Callable[..., Flask], media: FakeMedia) -> None:
    app = make_reports_app(photo_max_bytes=2048)
    new_report(app, media, photo_bytes=(images.jpeg(1, size=(800, 600)),))
    photo = only_photo(app)
    assert photo.status == PhotoStatus.INVALID
    assert "exceeds" in (photo.last_error or "")


def test_old_exif_time_is_flagged(reports_app: Flask, media: FakeMedia) -> None:
    received = utcnow()
    old = (received - timedelta(days=10)).astimezone(SHANGHAI).replace(tzinfo=None)
    fresh = (received - timedelta(hours=1)).astimezone(SHANGHAI).replace(tzinfo=None)
    new_report(reports_app, media, photo_bytes=(images.jpeg(1, taken=old), images.jpeg(2, taken=fresh)))
    with unit(reports_app) as session:
        flags = [p.exif_too_old for p in session.scalars(select(Photo).order_by(Photo.position))]
    assert flags == [True, False]

"""Fakes and helpers for the reports domain: WeChat media and messages, report factories."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from bot.core import jobs, services
from bot.core.database import session_scope
from bot.core.geo import Datum, GeoPoint
from bot.wechat.errors import CustomerServiceQuotaError, OutsideServiceWindowError
from reports.intake import PhotoRef, submit_report
from reports.models import PhotoStatus, Report, category_by_code
from staff import models as staff_models
from staff.roles import parse_roles
from tests.support import images
from tests.support.clock import at

STAFF = {
    "rev-a": "reviewer",
    "rev-b": "reviewer",
    "officer-a": "rewards_officer",
    "officer-b": "rewards_officer",
    "boss": "admin",
}


def add_staff(app: Flask, accounts: Mapping[str, str] = STAFF) -> None:
    """Staff accounts (username -> comma-separated roles) with a throwaway password."""
    with unit(app) as session:
        for username, roles in accounts.items():
            staff_models.add(session, username, "correct-horse-battery", parse_roles(roles))


# West Lake, Hangzhou, as a location message gives it (GCJ-02).
WEST_LAKE_GCJ = (30.2590, 120.1480)


class FakeMedia:
    """Stands in for the API client's ``download_media``: serves bytes, fails on request."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.failures: dict[str, int] = {}
        self.calls: list[str] = []

    def add(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> str:
        self.files[media_id] = (data, content_type)
        return media_id

    def fail_next(self, media_id: str, times: int = 1) -> None:
        self.failures[media_id] = times

    def __call__(self, media_id: str) -> tuple[bytes, str]:
        self.calls.append(media_id)
        if self.failures.get(media_id, 0) > 0:
            self.failures[media_id] -= 1
            raise ConnectionError("simulated network failure")
        if media_id not in self.files:
            raise LookupError(f"40007 invalid media_id {media_id}")
        return self.files[media_id]


class FakeSender:
    """Records messages; ``text_error`` / ``template_error`` make the next sends fail."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        self.templates: list[tuple[str, str, Mapping[str, Any], str | None]] = []
        self.text_error: Exception | None = None
        self.template_error: Exception | None = None

    def send_text(self, openid: str, content: str) -> dict[str, Any]:
        if self.text_error is not None:
            raise self.text_error
        self.texts.append((openid, content))
        return {"errcode": 0}

    def send_template(
        self, openid: str, template_id: str, data: Mapping[str, Any], url: str | None = None
    ) -> dict[str, Any]:
        if self.template_error is not None:
            raise self.template_error
        self.templates.append((openid, template_id, data, url))
        return {"errcode": 0, "msgid": len(self.templates)}


def outside_window() -> Exception:
    return OutsideServiceWindowError(45015, "response out of time limit or subscription is canceled")


def over_quota() -> Exception:
    return CustomerServiceQuotaError(45047, "out of response count limit")


@contextmanager
def unit(app: Flask) -> Iterator[Session]:
    """One committed unit of work, as a CLI command or job has."""
    with app.app_context(), session_scope(app) as session:
        yield session


def close_queue(app: Flask) -> None:
    """Drop what a test app left queued: RQ jobs in Redis, inline jobs waiting on timers."""
    queue = jobs.queue(app)
    if isinstance(queue, jobs.RQQueue):
        scheduled = queue.queue.scheduled_job_registry
        for job_id in scheduled.get_job_ids():
            scheduled.remove(job_id, delete_job=True)
        queue.queue.delete(delete_jobs=True)
        # RQ's registries of this queue (finished, failed, scheduled ...) carry its prefixed name
        leftovers = list(queue.connection.scan_iter(match=f"rq:*{queue.name}*", count=500))
        if leftovers:
            queue.connection.delete(*leftovers)
    queue.close()


def drain(app: Flask) -> None:
    """Run queued jobs: wait for the inline thread; RQ jobs run here in a burst worker."""
    queue = jobs.queue(app)
    if isinstance(queue, jobs.RQQueue):
        with app.app_context():
            queue.work(burst=True)
    else:
        assert isinstance(queue, jobs.InlineQueue)
        assert queue.drain(timeout=30), "inline jobs did not finish"


def new_report(
    app: Flask,
    media: FakeMedia,
    *,
    openid: str = "o-resident-1",
    category: str = "street_vending",
    where: tuple[float, float] = WEST_LAKE_GCJ,
    datum: Datum = Datum.GCJ02,
    seeds: tuple[int, ...] = (1,),
    photo_bytes: tuple[bytes, ...] | None = None,
    now: datetime | None = None,
    description: str = "",
    photos_received_at: datetime | None = None,
) -> int:
    """Submit a report in its own unit of work, its photos processed at once; returns its id.

    With ``now``, the app's clock stands at ``now`` for the submission and its photo jobs alike;
    the photos were received at ``photos_received_at`` (default: ``now``).
    """
    received = photos_received_at or now
    with at(now):
        return _new_report(
            app, media, openid, category, where, datum, seeds, photo_bytes, now, received, description
        )


def _new_report(
    app: Flask,
    media: FakeMedia,
    openid: str,
    category: str,
    where: tuple[float, float],
    datum: Datum,
    seeds: tuple[int, ...],
    photo_bytes: tuple[bytes, ...] | None,
    now: datetime | None,
    received: datetime | None,
    description: str,
) -> int:
    blobs = photo_bytes if photo_bytes is not None else tuple(images.jpeg(seed) for seed in seeds)
    refs = []
    for blob in blobs:
        media_id = f"media-{len(media.files) + 1}"
        media.add(media_id, blob)
        refs.append(
            PhotoRef(media_id=media_id, pic_url=f"http://mmbiz.example/{media_id}", received_at=received)
        )
    with unit(app) as session:
        found = category_by_code(session, category)
        assert found is not None
        report: Report = submit_report(
            session,
            services.store(app),
            services.settings(app).reports,
            openid=openid,
            category=found,
            point=GeoPoint(where[0], where[1], datum),
            photos=refs,
            address="西湖边",
            description=description,
            now=now,
        )
        report_id = report.id
    drain(app)
    return report_id


def make_unready(
    app: Flask, report_id: int, status: PhotoStatus = PhotoStatus.PENDING, *, first: int = 1
) -> None:
    """Put the first ``first`` photos of a report back to ``status`` with no derivative, as if their
    download had not happened (pending, retrying) or had failed (failed, expired, invalid)."""
    with unit(app) as session:
        report = session.get(Report, report_id)
        assert report is not None
        for photo in report.photos[:first]:
            photo.status, photo.derivative_key = status, None

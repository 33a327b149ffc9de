"""Submitting a report: checks, a public number, photo rows, the first audit entry, duplicate hints.

Chat photos are recorded at once by MediaId and PicUrl; a job downloads them after the commit.
Uploaded photos (the mini-program API) arrive as bytes, already checked by ``photos.prepare``: they
are stored within the submission, through the same ``photos.store_prepared`` the download job uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy.orm import Session

from bot.core import numbering
from bot.core.clock import utcnow
from bot.core.errors import Codes
from bot.core.geo import Datum, GeoPoint
from bot.core.jobs import defer
from bot.core.residents import get_or_create
from bot.core.store import Store
from reports import duplicates, limits
from reports.errors import ReportsError
from reports.models import Category, Photo, PhotoStatus, Report, ReportCounter, ReportStatus, Source
from reports.photos import PreparedPhoto, store_prepared
from reports.roles import RESIDENT
from reports.settings import ReportsSettings
from reports.storage import Storage
from reports.workflow import record

MAX_DESCRIPTION = 500
MAX_ADDRESS = 255


class IntakeError(ReportsError, ValueError):
    """The report cannot be submitted as given."""

    codes: ClassVar[Codes] = {
        "category_inactive": ("category",),
        "no_photo": (),
        "too_many_photos": ("max",),
        "same_photo": (),
        "bad_coordinates": (),
        "no_storage": (),
    }


@dataclass(frozen=True)
class PhotoRef:
    """A photo of a report: a WeChat MediaId to download later, or ``prepared`` uploaded bytes
    (then ``media_id`` is only a name unique within the report, such as ``upload:<sha256>``)."""

    media_id: str
    pic_url: str = ""
    received_at: datetime | None = None
    prepared: PreparedPhoto | None = None

    @classmethod
    def upload(cls, prepared: PreparedPhoto, received_at: datetime | None = None) -> PhotoRef:
        return cls(f"upload:{prepared.facts.sha256[:48]}", "", received_at, prepared)


def next_number(session: Session, settings: ReportsSettings, now: datetime) -> str:
    """``SP20261127-0001``: prefix, local date, sequence of the day (safe under concurrency)."""
    return numbering.next_number(session, ReportCounter, settings.number_prefix, settings.timezone, now)


def submit_report(
    session: Session,
    store: Store,
    settings: ReportsSettings,
    *,
    openid: str,
    category: Category,
    point: GeoPoint,
    photos: Sequence[PhotoRef],
    address: str = "",
    description: str = "",
    source: Source = Source.CHAT,
    now: datetime | None = None,
    storage: Storage | None = None,
) -> Report:
    """Create a submitted report; raises RateLimitedError or IntakeError before writing anything.

    ``storage`` is needed when photos carry prepared bytes; a storage failure raises OSError and
    the caller rolls back.
    """
    now = now or utcnow()
    if not category.active:
        raise IntakeError(
            "category_inactive", f"category {category.code} is not active", category=category.name
        )
    if not photos:
        raise IntakeError("no_photo", "a report needs at least one photo")
    if len(photos) > settings.max_photos:
        raise IntakeError("too_many_photos", f"at most {settings.max_photos} photos", max=settings.max_photos)
    if len({photo.media_id for photo in photos}) != len(photos):
        raise IntakeError("same_photo", "the same photo was given twice")
    if not (-90 <= point.lat <= 90 and -180 <= point.lon <= 180):
        raise IntakeError("bad_coordinates", "coordinates out of range")
    if storage is None and any(ref.prepared is not None for ref in photos):
        raise IntakeError("no_storage", "uploaded photos need a storage")
    limits.consume(store, openid, settings, now)

    canonical = point.to(Datum.WGS84)
    get_or_create(session, openid)
    report = Report(
        number=next_number(session, settings, now),
        openid=openid,
        category_id=category.id,
        status=ReportStatus.SUBMITTED,
        source=source,
        lat=canonical.lat,
        lon=canonical.lon,
        given_datum=str(point.datum),
        given_lat=point.lat,
        given_lon=point.lon,
        address=address.strip()[:MAX_ADDRESS],
        description=description.strip()[:MAX_DESCRIPTION],
        created_at=now,
        updated_at=now,
        review_due_at=now + timedelta(hours=category.review_hours),
        acceptances=0,
    )
    session.add(report)
    session.flush()
    for position, ref in enumerate(photos):
        photo = Photo(
            report_id=report.id,
            position=position,
            media_id=ref.media_id,
            pic_url=ref.pic_url,
            received_at=ref.received_at or now,
            status=PhotoStatus.PENDING,
            attempts=0,
        )
        session.add(photo)
    session.flush()
    record(session, report, RESIDENT, None, ReportStatus.SUBMITTED, now=now)
    for photo, ref in zip(report.photos, photos, strict=True):
        if ref.prepared is not None:
            assert storage is not None
            store_prepared(session, storage, photo, ref.prepared, settings, now)
        else:
            defer(session, "reports.jobs.download_photo", photo.id)
    duplicates.flag_duplicates(session, report.id, settings)
    return report

"""``POST /api/v1/reports``: a 文明随手拍 report uploaded by the mini program.

The same intake as the chat (``reports.intake.submit_report``: limits, numbering, audit, duplicate
hints), with photos that arrive as bytes: each is size-capped and type-sniffed by its magic bytes
when the request is read; then, in this order, the resident's report limits are checked, every
photo's header is screened without decoding (structure, hidden archives, pixel count:
``reports.photos.screen``), and only then is each decoded within the budget and verified by Pillow
(``reports.photos.prepare``), and stored through ``reports.photos.store_prepared`` (EXIF read,
original kept privately, a stripped derivative public), exactly as a photo downloaded from WeChat.

An ``Idempotency-Key`` header makes a retried upload create one report: the first request claims
the key in the store, a concurrent retry waits for its outcome, and the key is written with the
report in one transaction under a unique (openid, key) constraint, so even two requests that both
miss the store create one report. A key reused for a different request is refused (422).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from bot.core import services
from bot.core.clock import utcnow
from bot.core.database import sessionmaker_for
from bot.core.geo import CoordinateError, Datum, GeoPoint
from bot.core.ratelimit import digest
from miniprogram_api.auth import ApiUser
from miniprogram_api.errors import ApiError
from miniprogram_api.models import IdempotencyKey, find_key
from miniprogram_api.schemas import IDEMPOTENCY_PATTERN, PHOTO_TYPES, ReportFields
from miniprogram_api.settings import MiniProgramSettings
from reports import limits
from reports.imageformat import sniff
from reports.intake import IntakeError, PhotoRef, submit_report
from reports.jobs import storage_for
from reports.limits import RateLimitedError
from reports.models import Report, Source, category_by_code
from reports.photos import PhotoRejectedError, PhotoTooLargeError, prepare, screen
from reports.settings import ReportsSettings

T = TypeVar("T")
IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_PATTERN)
WAIT_FOR_FIRST = 10.0  # seconds a concurrent retry waits for the first request's outcome


@dataclass(frozen=True)
class Upload:
    form: ReportFields
    photos: list[bytes]
    fingerprint: str


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "problem": error["msg"]}
        for error in exc.errors()
    ]


def _read_photo(file: FileStorage, index: int, max_bytes: int) -> bytes:
    data = file.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(
            "photo_too_large",
            {"photo": index, "max_bytes": max_bytes},
            message_values={"max_mb": max(1, max_bytes // (1024 * 1024))},
        )
    if sniff(data) is None:
        raise ApiError("unsupported_photo_type", {"photo": index, "accepted": list(PHOTO_TYPES)})
    return data


def parse_upload(
    fields: dict[str, str], files: list[FileStorage], *, max_photos: int, max_bytes: int
) -> Upload:
    """Check the form and the photos' size and type (nothing decoded yet)."""
    try:
        form = ReportFields.model_validate(fields)
    except ValidationError as exc:
        raise ApiError("validation_failed", validation_details(exc)) from None
    if not files:
        raise ApiError(
            "validation_failed", [{"field": "photos", "problem": "at least one photo is required"}]
        )
    if len(files) > max_photos:
        raise ApiError("validation_failed", [{"field": "photos", "problem": f"at most {max_photos} photos"}])
    photos = [_read_photo(file, index, max_bytes) for index, file in enumerate(files)]
    digests = [hashlib.sha256(data).hexdigest() for data in photos]
    if len(set(digests)) != len(digests):
        raise ApiError(
            "validation_failed", [{"field": "photos", "problem": "the same photo was given twice"}]
        )
    request_digest = json.dumps([form.model_dump(mode="json"), digests], sort_keys=True, ensure_ascii=False)
    return Upload(form, photos, hashlib.sha256(request_digest.encode()).hexdigest())


@dataclass(frozen=True)
class Created:
    report_id: int
    replayed: bool


def _result_key(user: ApiUser, key: str) -> str:
    return f"mp:idem:done:{digest(user.openid)}:{digest(key)}"


def _claim_key(user: ApiUser, key: str) -> str:
    return f"mp:idem:claim:{digest(user.openid)}:{digest(key)}"


def _replay(stored: dict[str, Any], fingerprint: str) -> Created:
    if stored.get("fingerprint") != fingerprint:
        raise ApiError("idempotency_key_reused")
    return Created(int(stored["report_id"]), True)


def create_report(app: Flask, user: ApiUser, upload: Upload, idempotency_key: str | None) -> Created:
    """Create the report once per idempotency key; returns its id and whether this was a replay."""
    if idempotency_key is None:
        return _create(app, user, upload, None)
    if not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ApiError(
            "validation_failed",
            [{"field": "Idempotency-Key", "problem": "1 to 128 visible ASCII characters"}],
        )
    store = services.store(app)
    ttl = services.settings(app).section(MiniProgramSettings).idempotency_ttl
    done = _result_key(user, idempotency_key)
    stored = store.get_json(done)
    if stored is not None:
        return _replay(stored, upload.fingerprint)
    token = secrets.token_hex(8)
    claim = _claim_key(user, idempotency_key)
    if not store.add(claim, token, ttl=60):
        waited = store.wait_for(done, WAIT_FOR_FIRST, poll=0.05)
        if waited is None:
            raise ApiError("idempotency_in_progress", headers={"Retry-After": "1"})
        return _replay(json.loads(waited), upload.fingerprint)
    try:
        created = _create(app, user, upload, idempotency_key)
        store.set_json(done, {"report_id": created.report_id, "fingerprint": upload.fingerprint}, ttl)
        return created
    finally:
        store.delete_if_equals(claim, token)


def _existing(session: Session, user: ApiUser, key: str, fingerprint: str) -> Created | None:
    found = find_key(session, user.openid, key)
    if found is None:
        return None
    return _replay({"report_id": found.report_id, "fingerprint": found.fingerprint}, fingerprint)


def _create(app: Flask, user: ApiUser, upload: Upload, key: str | None) -> Created:
    settings = services.settings(app)
    now = utcnow()
    with sessionmaker_for(app)() as session:
        if key is not None:
            replay = _existing(session, user, key, upload.fingerprint)
            if replay is not None:
                return replay
        category = category_by_code(session, upload.form.category)
        if category is None or not category.active:
            raise ApiError("unknown_category", {"field": "category", "value": upload.form.category})
        try:
            # A resident past their report limit costs no decoding (submit_report counts the report).
            limits.check(services.store(app), user.openid, settings.section(ReportsSettings), now)
        except RateLimitedError as exc:
            raise _limited(exc, settings.section(ReportsSettings), now) from None
        # Every photo's header first (size, structure, hidden data, pixels), then the decoding.
        headers = [
            _photo_step(screen, index, data, settings.section(ReportsSettings))
            for index, data in enumerate(upload.photos)
        ]
        prepared = [
            _photo_step(prepare, index, data, settings.section(ReportsSettings), header)
            for index, (data, header) in enumerate(zip(upload.photos, headers, strict=True))
        ]
        try:
            report = submit_report(
                session,
                services.store(app),
                settings.section(ReportsSettings),
                openid=user.openid,
                category=category,
                point=GeoPoint(upload.form.lat, upload.form.lon, Datum(upload.form.datum)),
                photos=[PhotoRef.upload(photo, now) for photo in prepared],
                address=upload.form.address,
                description=upload.form.description,
                source=Source.MINIPROGRAM,
                now=now,
                storage=storage_for(app),
            )
        except RateLimitedError as exc:
            raise _limited(exc, settings.section(ReportsSettings), now) from None
        except IntakeError as exc:
            problem = {"field": "(report)", "problem": str(exc), "code": exc.key}
            raise ApiError("validation_failed", [problem], refusal=exc) from None
        except CoordinateError as exc:
            raise ApiError("validation_failed", [{"field": "(report)", "problem": str(exc)}]) from None
        if key is not None:
            session.add(
                IdempotencyKey(
                    openid=user.openid,
                    key=key,
                    fingerprint=upload.fingerprint,
                    report_id=report.id,
                    created_at=now,
                )
            )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            if key is None:
                raise
            replay = _existing(session, user, key, upload.fingerprint)
            if replay is None:
                raise
            return replay
        return Created(report.id, False)


def _limited(exc: RateLimitedError, settings: ReportsSettings, now: datetime) -> ApiError:
    return ApiError(
        f"report_limit_{exc.window}",
        {"limit": exc.limit, "window": exc.window},
        headers={"Retry-After": str(limits.retry_after(exc.window, settings, now))},
        message_values={"limit": exc.limit},
        refusal=exc,
    )


def _photo_step(step: Callable[..., T], index: int, data: bytes, *args: Any) -> T:
    """Run ``screen`` or ``prepare`` on photo ``index``; a refusal becomes the API's error."""
    try:
        return step(data, *args)
    except PhotoTooLargeError:
        max_bytes = args[0].photo_max_bytes
        raise ApiError(
            "photo_too_large",
            {"photo": index, "max_bytes": max_bytes},
            message_values={"max_mb": max(1, max_bytes // (1024 * 1024))},
        ) from None
    except PhotoRejectedError as exc:
        raise ApiError("invalid_photo", {"photo": index, "problem": str(exc)}) from None


def report_of(session: Session, user: ApiUser, report_id: int) -> Report | None:
    """The user's own report, or None (someone else's is as absent as a missing one)."""
    report = session.get(Report, report_id)
    if report is None or report.openid != user.openid:
        return None
    return report

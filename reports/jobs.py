"""Jobs of the reports domain (run by ``bot.core.jobs``): download a photo, deliver a notice, sweep.

These are boundaries like the CLI: each opens its own unit of work in the current app.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from bot.core import services
from bot.core.database import session_scope
from bot.core.jobs import defer
from reports import duplicates, notify
from reports.models import PhotoStatus
from reports.notify import Sender
from reports.photos import Fetch, due_photos, process_photo
from reports.services import ReportsServices
from reports.settings import ReportsSettings
from reports.storage import Storage

log = logging.getLogger("citybot.reports.jobs")


def _part(app: Flask) -> ReportsServices:
    return services.of(app).get(ReportsServices)


def storage_for(app: Flask) -> Storage:
    return _part(app).storage


def media_fetcher(app: Flask) -> Fetch:
    """``media_id -> (bytes, content_type)``: the app's WeChat API client unless one is wired in."""
    return _part(app).fetch_media or _part(app).wechat().download_media


def sender_for(app: Flask) -> Sender:
    """``send_text`` / ``send_template``: the app's WeChat API client unless one is wired in."""
    return _part(app).sender or _part(app).wechat()


def download_photo(photo_id: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = services.settings(app).section(ReportsSettings)
    with session_scope(app) as session:
        photo = process_photo(session, storage_for(app), photo_id, media_fetcher(app), settings=settings)
        if photo is None:
            return
        if photo.status == PhotoStatus.STORED:
            duplicates.flag_duplicates(session, photo.report_id, settings)
        elif photo.status == PhotoStatus.RETRYING:
            defer(session, download_photo, photo_id, at=photo.next_attempt_at)


def deliver_notification(notification_id: int) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = services.settings(app).section(ReportsSettings)
    with session_scope(app) as session:
        notification = notify.deliver(
            session, notification_id, sender_for(app), settings=settings, texts=services.texts(app)
        )
        if notification is not None and notification.next_attempt_at is not None:
            defer(session, deliver_notification, notification_id, at=notification.next_attempt_at)


def run_due(app: Flask) -> int:
    """Photos and notices whose (re)try is due; each in its own unit of work. Returns how many."""
    with session_scope(app) as session:
        photo_ids = due_photos(session)
        notification_ids = notify.due_notifications(session)
    done = 0
    for job, ids in ((download_photo, photo_ids), (deliver_notification, notification_ids)):
        for item in ids:
            try:
                job(item)
                done += 1
            except Exception:
                log.exception("%s(%s) failed", job.__name__, item)
    return done

"""Jobs of the broadcasts domain (run by ``bot.core.jobs`` after the unit of work commits).

- ``announce``: tell the staff who may act on a draft now (customer-service text messages);
- ``fetch_cover``: keep the bytes of a cover photo sent in the chat, whose media id expires in 3 days.

Each is a boundary like a CLI command: it opens its own unit of work in the current app.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Flask, current_app

from bot.core import services
from bot.core.database import session_scope
from broadcasts import drafts, notify
from broadcasts.models import Cover, Draft
from broadcasts.remote import BroadcastAPI
from broadcasts.services import BroadcastsServices
from broadcasts.settings import BroadcastSettings
from staff.models import Staff

log = logging.getLogger("citybot.broadcasts.jobs")


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def api_for(app: Flask) -> BroadcastAPI:
    """The app's WeChat API client unless one is wired in (``BroadcastsServices.api``)."""
    part = services.of(app).get(BroadcastsServices)
    return part.api or part.wechat()


def announce(draft_id: int, status: str, actor_id: int | None) -> int:
    """Notify whoever the draft now waits for, unless it has moved on since; how many were told."""
    app = _app()
    if not services.settings(app).section(BroadcastSettings).notify_reviewers:
        return 0
    with session_scope(app) as session:
        draft = session.get(Draft, draft_id)
        if draft is None or draft.status.value != status:
            return 0
        actor = session.get(Staff, actor_id) if actor_id is not None else None
        notices = notify.after_change(session, draft, services.texts(app), actor=actor)
    return notify.deliver(api_for(app), notices) if notices else 0


def fetch_cover(draft_id: int, media_id: str) -> bool:
    """Download a chat cover while its media id is valid; publishing fetches it if this failed."""
    app = _app()
    with session_scope(app) as session:
        draft = session.get(Draft, draft_id)
        if draft is None or draft.cover_media_id != media_id or draft.cover is not None:
            return False
        try:
            data, content_type = api_for(app).download_media(media_id)
            content_type = drafts.sniff_image(data)
        except Exception as exc:
            log.warning("could not fetch the cover %s of draft %s: %s", media_id, draft_id, exc)
            return False
        draft.cover = Cover(content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest())
        return True

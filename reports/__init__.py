"""文明随手拍: photo reports of uncivil street behaviour, their review, duplicates, rewards and notices.

Domain code only: functions take a ``session`` (and the store, storage or a sender where needed)
and never commit. The chat handlers, the command line and the console call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports.settings import ReportsSettings

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Photo storage, in ``services.of(app).reports`` (reports.services.ReportsServices). The jobs
    talk to WeChat through the app's API client (``services.api``); another client can be wired in
    (tests, a proxy) through:

    - ``services.of(app).reports.fetch_media``: ``media_id -> (bytes, content_type)``
    - ``services.of(app).reports.sender``: an object with ``send_text`` and ``send_template``
    """
    from bot.core import services
    from reports.photos import configure_pillow
    from reports.services import ReportsServices
    from reports.storage import make_storage

    container = services.of(app)
    configure_pillow(container.settings.section(ReportsSettings))
    container.reports = ReportsServices(storage=make_storage(container.settings))

"""文明随手拍: photo reports of uncivil street behaviour, their review, duplicates, rewards and notices.

Domain code only: functions take a ``session`` (and the store, storage or a sender where needed)
and never commit. The chat handlers, the command line and the console call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Photo storage. The jobs talk to WeChat through the app's API client (``services.api``);
    another client can be wired in (tests, a proxy) through:

    - ``app.extensions["reports.fetch_media"]``: ``media_id -> (bytes, content_type)``
    - ``app.extensions["reports.sender"]``: an object with ``send_text`` and ``send_template``
    """
    from reports.photos import configure_pillow
    from reports.storage import make_storage

    settings = app.config["CITYBOT"]
    configure_pillow(settings.reports)
    app.extensions["reports.storage"] = make_storage(settings)
    app.extensions.setdefault("reports.fetch_media", None)
    app.extensions.setdefault("reports.sender", None)

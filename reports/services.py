"""The reports feature's services, one part of the app's container:
``services.of(app).get(ReportsServices)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from bot.core import services
from reports.notify import Sender
from reports.photos import Fetch, configure_pillow
from reports.settings import ReportsSettings
from reports.storage import Storage, make_storage


class WeChatPort(Sender, Protocol):
    """What the reports jobs need of the messaging platform."""

    def download_media(self, media_id: str) -> tuple[bytes, str]: ...


@dataclass(eq=False)
class ReportsServices:
    """Photo storage, and the platform the jobs talk to.

    ``wechat`` gives the app's client (wired by the composition root). ``fetch_media``
    (``media_id -> (bytes, content_type)``) and ``sender`` (``send_text`` / ``send_template``)
    stay None in production; a test or a proxy sets them to be used instead.
    """

    storage: Storage
    wechat: Callable[[], WeChatPort]
    fetch_media: Fetch | None = None
    sender: Sender | None = None


def init_app(app: Flask, wechat: Callable[[Flask], WeChatPort]) -> None:
    container = services.of(app)
    configure_pillow(container.settings.section(ReportsSettings))
    container.put(ReportsServices(storage=make_storage(container.settings), wechat=lambda: wechat(app)))

"""The reports feature's services, held by the app's container as ``services.of(app).reports``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.notify import Sender
    from reports.photos import Fetch
    from reports.storage import Storage


@dataclass(eq=False)
class ReportsServices:
    """Photo storage, and the WeChat calls the jobs make when another client is wired in.

    ``fetch_media`` (``media_id -> (bytes, content_type)``) and ``sender`` (``send_text`` /
    ``send_template``) stay None in production: the jobs then use the app's API client.
    """

    storage: Storage
    fetch_media: Fetch | None = None
    sender: Sender | None = None

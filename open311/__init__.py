"""A read-only Open311 GeoReport v2 API over public reports (``/open311/v2``), in JSON and XML.

Only reports past review (accepted, resolved, closed) are public, and only fields that identify
nobody: the category as the service, the public report number, open/closed, a location rounded to
about 100 m (WGS-84), and the dates. Never photos, descriptions, addresses or who reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from open311 import views

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    if app.config["CITYBOT"].open311.enabled:
        views.init_app(app)

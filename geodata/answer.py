"""The whole answer to "the nearest <kind> to here", configured by the ``[geo]`` settings.

Adapters (the chat handlers, the mini-program API) call this with their session, texts and clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.geo import GeoPoint
from bot.core.texts import Texts
from geodata.format import ReplyStyle, format_nearest
from geodata.index import IndexCache
from geodata.kinds import PoiKind
from geodata.links import NavProvider
from geodata.nearest import NearestResult, nearest
from geodata.settings import GeoSettings


def search(
    session: Session,
    kind: PoiKind,
    origin: GeoPoint,
    geo: GeoSettings,
    now: datetime,
    *,
    cache: IndexCache | None = None,
) -> NearestResult:
    result = nearest(
        session,
        kind,
        origin,
        limit=geo.results,
        radius_m=geo.radius_m,
        now=now,
        cache=cache,
        timezone=geo.timezone,
        holiday_country=geo.holiday_country,
        walking_speed=geo.walking_speed,
        walking_detour=geo.walking_detour,
        max_distance_m=geo.max_distance_m,
    )
    return replace(result, outside_area=not in_service_area(geo, result.origin))


def in_service_area(geo: GeoSettings, point: GeoPoint) -> bool:
    """Whether a WGS-84 point is inside ``[geo] service_area`` (always, when none is set)."""
    if geo.service_area is None:
        return True
    south, west, north, east = geo.service_area
    return south <= point.lat <= north and west <= point.lon <= east


def reply_style(geo: GeoSettings, kind: PoiKind) -> ReplyStyle:
    label = geo.kinds().label(kind)
    return ReplyStyle(
        label=label,
        provider=NavProvider(geo.navigation),
        app=geo.navigation_app,
        walking_max_m=geo.walking_max_m,
        area=geo.area_name,
    )


def answer_text(
    session: Session,
    kind: PoiKind,
    origin: GeoPoint,
    geo: GeoSettings,
    texts: Texts,
    now: datetime,
    *,
    cache: IndexCache | None = None,
) -> str:
    """The text reply (≤ 2048 bytes) for the nearest facilities of ``kind`` around ``origin``."""
    result = search(session, kind, origin, geo, now, cache=cache)
    return format_nearest(result, texts, reply_style(geo, kind))

"""Where a resident is: the last location they sent, remembered in the Store for a while.

The point is stored in the canonical datum (WGS-84), converted once when it is remembered, so every
reader gets the same coordinates whatever sent them (a GCJ-02 location message, the WGS-84 LOCATION
event, a mini program).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.clock import utcnow
from bot.core.geo import CANONICAL, GeoPoint
from bot.core.store import Store

KEY_PREFIX = "geo:origin:"


@dataclass(frozen=True, slots=True)
class RememberedOrigin:
    point: GeoPoint  # canonical WGS-84
    label: str | None
    source: str  # what told us: "location_message", "location_event", "location_select", ...
    remembered_at: datetime  # aware UTC


def _key(openid: str) -> str:
    return KEY_PREFIX + openid


def remember(
    store: Store,
    openid: str,
    point: GeoPoint,
    ttl: int,
    *,
    label: str | None = None,
    source: str,
    now: datetime | None = None,
) -> None:
    """Remember ``point`` for ``ttl`` seconds, replacing whatever was remembered before."""
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    canonical = point.to(CANONICAL)
    at = (now or utcnow()).astimezone(UTC)
    store.set_json(
        _key(openid),
        {
            "lat": canonical.lat,
            "lon": canonical.lon,
            "label": label or None,
            "source": source,
            "at": at.isoformat(),
        },
        ttl,
    )


def recall(store: Store, openid: str) -> RememberedOrigin | None:
    """The remembered origin, or None when there is none (never sent, expired or unreadable)."""
    try:
        data: Any = store.get_json(_key(openid))
    except ValueError:  # not JSON: written by something else
        return None
    if not isinstance(data, dict):
        return None
    try:
        point = GeoPoint(data["lat"], data["lon"], CANONICAL)
        remembered_at = datetime.fromisoformat(data["at"])
    except (KeyError, TypeError, ValueError):  # CoordinateError is a ValueError
        return None
    return RememberedOrigin(
        point=point, label=data.get("label"), source=str(data.get("source", "")), remembered_at=remembered_at
    )


def forget(store: Store, openid: str) -> bool:
    return store.delete(_key(openid))

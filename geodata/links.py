"""Navigation links that open a walking route in a map app (or its web page inside WeChat).

Each provider declares the datum it expects and the builder converts to it, so callers pass any
``GeoPoint``. Both providers here want GCJ-02.

- Amap URI API, ``/navigation``: ``to=lon,lat,name``, ``mode=walk``, ``coordinate=gaode`` (GCJ-02),
  ``src`` names the calling app, ``callnative=1`` opens the app when it is installed.
- Tencent Maps URI API, ``/uri/v1/routeplan``: ``type=walk``, ``tocoord=lat,lng`` (note the order),
  ``referer`` names the calling app (the key's application name).

Without a ``from`` point both apps start from the phone's own position, which is what a resident
walking there wants; pass ``origin`` to pin the start instead.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote, urlencode

from bot.core.geo import Datum, GeoPoint

NAME_IN_LINK_MAX = 20  # characters; each Chinese character costs 9 bytes once percent-encoded


class NavProvider(StrEnum):
    AMAP = "amap"
    TENCENT = "tencent"

    @property
    def datum(self) -> Datum:
        return Datum.GCJ02


def _short(name: str) -> str:
    # Amap separates lon,lat,name with commas: a comma inside the name would shift the fields.
    cleaned = " ".join(name.replace(",", " ").replace("，", " ").split())
    return cleaned[:NAME_IN_LINK_MAX]


def _coord(value: float) -> str:
    return f"{value:.6f}"


def amap_url(dest: GeoPoint, name: str, *, app: str, origin: GeoPoint | None = None) -> str:
    to = dest.to(NavProvider.AMAP.datum)
    params = {"to": f"{_coord(to.lon)},{_coord(to.lat)},{_short(name)}"}
    if origin is not None:
        start = origin.to(NavProvider.AMAP.datum)
        params["from"] = f"{_coord(start.lon)},{_coord(start.lat)}"
    params |= {"mode": "walk", "coordinate": "gaode", "callnative": "1", "src": app}
    return "https://uri.amap.com/navigation?" + urlencode(params, quote_via=quote, safe=",")


def tencent_url(dest: GeoPoint, name: str, *, app: str, origin: GeoPoint | None = None) -> str:
    to = dest.to(NavProvider.TENCENT.datum)
    params = {"type": "walk", "to": _short(name), "tocoord": f"{_coord(to.lat)},{_coord(to.lon)}"}
    if origin is not None:
        start = origin.to(NavProvider.TENCENT.datum)
        params |= {"from": "我的位置", "fromcoord": f"{_coord(start.lat)},{_coord(start.lon)}"}
    params["referer"] = app
    return "https://apis.map.qq.com/uri/v1/routeplan?" + urlencode(params, quote_via=quote, safe=",")


def navigation_url(
    provider: NavProvider | str, dest: GeoPoint, name: str, *, app: str, origin: GeoPoint | None = None
) -> str:
    builder = amap_url if NavProvider(provider) is NavProvider.AMAP else tencent_url
    return builder(dest, name, app=app, origin=origin)

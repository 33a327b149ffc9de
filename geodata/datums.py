"""Map datums: WGS-84 (GPS, GeoJSON, the LOCATION event), GCJ-02 (Amap, Tencent, the location
message) and BD-09 (Baidu).

Stored coordinates are WGS-84 (``CANONICAL``). Every input declares its datum and is converted once,
on the way in; every output (navigation links) converts to its target's datum on the way out.

The conversions are prcoords' (CC0), with its iterative ("bored") inverses for GCJ-02 -> WGS-84 and
BD-09 -> GCJ-02, which agree with the forward transform to well under a centimetre.

Where the offset applies. GCJ-02 is a mainland-China obfuscation; elsewhere the three datums
coincide. prcoords decides "in China" with a rough bounding box that also covers Taiwan, so this
module cuts Taiwan (the main island and Penghu) out of that box: Taipei's coordinates are the same
in every datum. Hong Kong and Macau stay inside, because their land border with Shenzhen and Zhuhai
is too close for a box, and mainland cities there must never lose their offset. Neighbouring
countries that fall inside the box are never in a service area, which the loaders check.

``convert_arrays`` is the same arithmetic vectorised with numpy, for loading a million rows; tests
hold it equal to prcoords point by point.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import prcoords

from bot.core.geo import CHINA_BOX, NOT_OFFSET, Datum

FloatArray = npt.NDArray[np.float64]


# -- vectorised ------------------------------------------------------------------------------------


def offset_mask(lat: FloatArray, lon: FloatArray) -> npt.NDArray[np.bool_]:
    """``in_offset_region`` for arrays."""
    lat_min, lat_max, lon_min, lon_max = CHINA_BOX
    mask = (lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)
    for s, n, w, e in NOT_OFFSET:
        mask &= ~((lat >= s) & (lat <= n) & (lon >= w) & (lon <= e))
    return mask


def _np_wgs_gcj(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    """prcoords.wgs_gcj without the region check, for arrays."""
    x, y = lon - 105.0, lat - 35.0
    pi = math.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = 2 * np.sin(x * 6 * pi) + 2 * np.sin(x * 2 * pi)
    d_lat_m = (
        -100
        + 2 * x
        + 3 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + (common + 2 * np.sin(y * pi) + 4 * np.sin(y / 3 * pi)) * 20 / 3
        + (16 * np.sin(y / 12 * pi) + 32 * np.sin(y / 30 * pi)) * 20 / 3
    )
    d_lon_m = (
        300
        + x
        + 2 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + (common + 2 * np.sin(x * pi) + 4 * np.sin(x / 3 * pi)) * 20 / 3
        + (15 * np.sin(x / 12 * pi) + 30 * np.sin(x / 30 * pi)) * 20 / 3
    )
    rad_lat = np.radians(lat)
    magic = 1 - prcoords.GCJ_EE * np.sin(rad_lat) ** 2
    lat_deg_arclen = np.radians((prcoords.GCJ_A * (1 - prcoords.GCJ_EE)) / magic**1.5)
    lon_deg_arclen = np.radians(prcoords.GCJ_A * np.cos(rad_lat) / np.sqrt(magic))
    return lat + d_lat_m / lat_deg_arclen, lon + d_lon_m / lon_deg_arclen


def _np_gcj_bd(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    r = np.hypot(lon, lat) + 0.00002 * np.sin(np.radians(lat) * 3000)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(np.radians(lon) * 3000)
    return r * np.sin(theta) + prcoords.BD_DLAT, r * np.cos(theta) + prcoords.BD_DLON


def _np_bd_gcj_rough(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    x, y = lon - prcoords.BD_DLON, lat - prcoords.BD_DLAT
    r = np.hypot(x, y) - 0.00002 * np.sin(np.radians(y) * 3000)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(np.radians(x) * 3000)
    return r * np.sin(theta), r * np.cos(theta)


def _np_invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    start: tuple[FloatArray, FloatArray],
    lat: FloatArray,
    lon: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Fixed-point iteration as in prcoords' ``_bored``, run until every point has converged."""
    guess_lat, guess_lon = start
    for _ in range(10):
        got_lat, got_lon = forward(guess_lat, guess_lon)
        d_lat, d_lon = got_lat - lat, got_lon - lon
        guess_lat, guess_lon = guess_lat - d_lat, guess_lon - d_lon
        if float(np.max(np.hypot(d_lat, d_lon), initial=0.0)) < 1e-9:
            break
    return guess_lat, guess_lon


def _np_gcj_wgs(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    f_lat, f_lon = _np_wgs_gcj(lat, lon)
    rough = (lat - (f_lat - lat), lon - (f_lon - lon))
    return _np_invert(_np_wgs_gcj, rough, lat, lon)


def _np_bd_gcj(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _np_invert(_np_gcj_bd, _np_bd_gcj_rough(lat, lon), lat, lon)


def convert_arrays(
    lat: npt.ArrayLike, lon: npt.ArrayLike, source: Datum, target: Datum
) -> tuple[FloatArray, FloatArray]:
    """``convert`` for arrays of in-range coordinates; points outside mainland China pass unchanged."""
    source, target = Datum(source), Datum(target)
    lat_in = np.asarray(lat, dtype=np.float64)
    lon_in = np.asarray(lon, dtype=np.float64)
    out_lat, out_lon = lat_in.copy(), lon_in.copy()
    if source == target or lat_in.size == 0:
        return out_lat, out_lon
    mask = offset_mask(lat_in, lon_in)
    if not mask.any():
        return out_lat, out_lon
    a, b = lat_in[mask], lon_in[mask]
    if source == Datum.WGS84:
        a, b = _np_wgs_gcj(a, b)
    elif source == Datum.BD09:
        a, b = _np_bd_gcj(a, b)
    if target == Datum.WGS84:
        a, b = _np_gcj_wgs(a, b)
    elif target == Datum.BD09:
        a, b = _np_gcj_bd(a, b)
    out_lat[mask], out_lon[mask] = a, b
    return out_lat, out_lon

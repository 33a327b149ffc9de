"""Nearest search on both database backends, checked against a brute-force geodesic ranking."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from geographiclib.geodesic import Geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.database import session_scope
from bot.core.geo import Datum, GeoPoint
from geodata import models
from geodata.datasets import load_dataset, rollback
from geodata.demo import centre, load_demo
from geodata.hours import OpenStatus
from geodata.index import IndexCache
from geodata.kinds import PoiKind
from geodata.models import Poi
from geodata.nearest import NearestResult, nearest

pytestmark = pytest.mark.contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
JULY_NOON = datetime(2025, 7, 15, 12, 0, tzinfo=SHANGHAI)
DECEMBER_NOON = datetime(2025, 12, 15, 12, 0, tzinfo=SHANGHAI)


def in_season(poi: Poi, day: date) -> bool:
    """Independent reading of the season columns (MM-DD every year, or YYYY-MM-DD)."""
    if not poi.season_start or not poi.season_end:
        return True
    if len(poi.season_start) == 10:
        return date.fromisoformat(poi.season_start) <= day <= date.fromisoformat(poi.season_end)
    here = f"{day.month:02d}-{day.day:02d}"
    start, end = poi.season_start, poi.season_end
    return start <= here <= end if start <= end else (here >= start or here <= end)


def brute_force(
    session: Session, kind: PoiKind, origin: GeoPoint, *, limit: int, radius_m: float, day: date
) -> list[tuple[int, float]]:
    """Every active row measured with geographiclib, ranked, the same rules applied."""
    dataset_id = models.active_dataset_id(session, kind)
    here = origin.to(Datum.WGS84)
    measured = sorted(
        (Geodesic.WGS84.Inverse(here.lat, here.lon, poi.lat, poi.lon)["s12"], poi.source_line, poi.id)
        for poi in session.scalars(select(Poi).where(Poi.dataset_id == dataset_id))
        if in_season(poi, day)
    )
    inside = [m for m in measured if m[0] <= radius_m]
    chosen = inside[:limit] if inside else measured[:1]
    return [(poi_id, distance) for distance, _line, poi_id in chosen]


def shown(result: NearestResult) -> list[tuple[int, float]]:
    return [(e.poi_id, e.distance_m) for e in result.entries]


def assert_same_ranking(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    assert [poi_id for poi_id, _ in got] == [poi_id for poi_id, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert a == pytest.approx(b, abs=0.01)


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    with session_scope(app) as session:
        assert all(result.ok for result in load_demo(session))
    return app


def test_matches_brute_force_around_the_demo_city(demo_app: Flask) -> None:
    rng = random.Random(5)
    middle = centre()
    cache = IndexCache()
    with session_scope(demo_app) as session:
        for kind in PoiKind:
            for _ in range(25):
                origin = GeoPoint(
                    middle.lat + rng.uniform(-0.05, 0.05), middle.lon + rng.uniform(-0.05, 0.05), Datum.WGS84
                )
                limit, radius = rng.choice([1, 3, 5, 10]), rng.choice([300.0, 800.0, 2000.0])
                got = nearest(session, kind, origin, limit=limit, radius_m=radius, now=JULY_NOON, cache=cache)
                want = brute_force(session, kind, origin, limit=limit, radius_m=radius, day=JULY_NOON.date())
                assert_same_ranking(shown(got), want)
                assert all(e.within_radius == (e.distance_m <= radius) for e in got.entries)


def test_nothing_within_radius_gives_the_nearest_beyond(demo_app: Flask) -> None:
    far = GeoPoint(centre().lat + 0.2, centre().lon, Datum.WGS84)  # about 22 km north
    with session_scope(demo_app) as session:
        result = nearest(
            session, PoiKind.TOILET, far, limit=5, radius_m=2000, now=JULY_NOON, cache=IndexCache()
        )
        want = brute_force(session, PoiKind.TOILET, far, limit=5, radius_m=2000, day=JULY_NOON.date())
    assert result.beyond_radius
    assert len(result.entries) == 1
    assert not result.entries[0].within_radius
    assert result.entries[0].distance_m > 15_000
    assert_same_ranking(shown(result), want)


def test_no_dataset(app: Flask) -> None:
    with session_scope(app) as session:
        result = nearest(
            session, PoiKind.BIKE, centre(), limit=5, radius_m=2000, now=JULY_NOON, cache=IndexCache()
        )
    assert not result.has_dataset
    assert result.entries == ()
    assert not result.beyond_radius


def test_seasonal_stalls_only_in_season(demo_app: Flask) -> None:
    cache = IndexCache()
    with session_scope(demo_app) as session:
        july = nearest(
            session, PoiKind.WATERMELON, centre(), limit=50, radius_m=50_000, now=JULY_NOON, cache=cache
        )
        june = datetime(2025, 6, 10, 12, tzinfo=SHANGHAI)  # only the stalls opening on 06-01 are out
        early = nearest(
            session, PoiKind.WATERMELON, centre(), limit=50, radius_m=50_000, now=june, cache=cache
        )
        december = nearest(
            session, PoiKind.WATERMELON, centre(), limit=5, radius_m=2000, now=DECEMBER_NOON, cache=cache
        )
        all_rows = {p.id: p for p in session.scalars(select(Poi))}
        want_june = brute_force(
            session, PoiKind.WATERMELON, centre(), limit=50, radius_m=50_000, day=june.date()
        )
    assert len(july.entries) == 40  # every demo stall is in season in mid-July
    assert 0 < len(early.entries) < 40
    assert all(all_rows[e.poi_id].season_start == "06-01" for e in early.entries)
    assert_same_ranking(shown(early), want_june)
    assert december.has_dataset
    assert not december.in_season
    assert december.entries == ()


def test_dated_and_year_end_seasons(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "stalls.csv"
    path.write_text(
        "name,lat,lon,season_start,season_end\n"
        "冬摊,31.300,120.600,11-15,02-15\n"  # across the new year
        "展摊,31.301,120.600,2025-07-01,2025-07-31\n"  # one July only
        "常摊,31.302,120.600,,\n",
        encoding="utf-8",
    )
    with session_scope(app) as session:
        assert load_dataset(session, PoiKind.WATERMELON, path, Datum.WGS84, dry_run=False).ok
    cache = IndexCache()
    here = GeoPoint(31.300, 120.600, Datum.WGS84)

    def names(when: datetime) -> list[str]:
        with session_scope(app) as session:
            result = nearest(session, PoiKind.WATERMELON, here, limit=5, radius_m=1000, now=when, cache=cache)
            return [e.name for e in result.entries]

    assert names(datetime(2025, 1, 10, 12, tzinfo=SHANGHAI)) == ["冬摊", "常摊"]
    assert names(datetime(2025, 7, 10, 12, tzinfo=SHANGHAI)) == ["展摊", "常摊"]
    assert names(datetime(2026, 7, 10, 12, tzinfo=SHANGHAI)) == ["常摊"]
    # The local date decides: 2025-11-14 16:30 UTC is already 2025-11-15 in Shanghai.
    assert names(datetime(2025, 11, 14, 16, 30, tzinfo=UTC)) == ["冬摊", "常摊"]


def test_entries_carry_status_walking_time_and_capacity(demo_app: Flask) -> None:
    with session_scope(demo_app) as session:
        result = nearest(
            session,
            PoiKind.BIKE,
            centre(),
            limit=5,
            radius_m=2000,
            now=JULY_NOON,
            cache=IndexCache(),
            walking_speed=50.0,
            walking_detour=1.0,
        )
        rows = {
            p.id: p
            for p in session.scalars(select(Poi).where(Poi.id.in_([e.poi_id for e in result.entries])))
        }
    assert len(result.entries) == 5
    distances = [e.distance_m for e in result.entries]
    assert distances == sorted(distances)
    for e in result.entries:
        row = rows[e.poi_id]
        assert e.walking_minutes == max(1, math.ceil(e.distance_m / 50.0))
        assert row.capacity is not None
        assert e.capacity == row.capacity
        assert e.opening_hours == row.opening_hours
        assert e.status is OpenStatus.OPEN  # noon: every demo bike station is open
        assert e.point.datum is Datum.WGS84
        assert (e.point.lat, e.point.lon) == (row.lat, row.lon)


def test_same_place_in_any_datum_gives_the_same_answer(demo_app: Flask) -> None:
    place = GeoPoint(centre().lat + 0.004, centre().lon - 0.003, Datum.WGS84)
    cache = IndexCache()
    with session_scope(demo_app) as session:
        answers = {
            datum: shown(
                nearest(
                    session,
                    PoiKind.TOILET,
                    place.to(datum),
                    limit=5,
                    radius_m=2000,
                    now=JULY_NOON,
                    cache=cache,
                )
            )
            for datum in Datum
        }
    ids = {tuple(poi_id for poi_id, _ in found) for found in answers.values()}
    assert len(ids) == 1
    for found in answers.values():
        assert_same_ranking(found, answers[Datum.WGS84])


def test_workers_pick_up_new_versions_without_restart(app: Flask, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("name,lat,lon\n旧站,31.300,120.600\n", encoding="utf-8")
    second = tmp_path / "b.csv"
    second.write_text("name,lat,lon\n新站,31.3001,120.6001\n", encoding="utf-8")
    cache = IndexCache()  # one worker's cache, kept across requests
    here = GeoPoint(31.3, 120.6, Datum.WGS84)

    def ask() -> list[str]:
        with session_scope(app) as session:
            result = nearest(session, PoiKind.TOILET, here, limit=5, radius_m=500, now=JULY_NOON, cache=cache)
            return [e.name for e in result.entries]

    with session_scope(app) as session:
        load_dataset(session, PoiKind.TOILET, first, Datum.WGS84, dry_run=False)
    assert ask() == ["旧站"]
    assert ask() == ["旧站"]
    assert cache.builds == 1  # the second query reused the index
    with session_scope(app) as session:  # another process loads a new version
        load_dataset(session, PoiKind.TOILET, second, Datum.WGS84, dry_run=False)
    assert ask() == ["新站"]
    assert cache.builds == 2
    with session_scope(app) as session:
        rollback(session, PoiKind.TOILET)
    assert ask() == ["旧站"]
    assert cache.builds == 3


def test_bad_arguments(demo_app: Flask) -> None:
    with session_scope(demo_app) as session:
        with pytest.raises(ValueError, match="limit"):
            nearest(session, PoiKind.BIKE, centre(), limit=0, radius_m=2000, now=JULY_NOON)
        with pytest.raises(ValueError, match="aware"):
            nearest(session, PoiKind.BIKE, centre(), limit=5, radius_m=2000, now=datetime(2025, 7, 15, 12))

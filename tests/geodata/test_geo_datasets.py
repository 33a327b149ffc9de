"""Dataset versions on both database backends: all-or-nothing, idempotent, atomic switch, rollback."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from geopy.distance import geodesic
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.app import load_texts
from bot.core.database import session_scope, sessionmaker_for
from bot.core.errors import render
from bot.core.geo import Datum, GeoPoint
from geodata import models
from geodata.datasets import (
    LoadStatus,
    RollbackError,
    list_versions,
    load_dataset,
    rollback,
    rollback_target,
)
from geodata.kinds import PoiKind
from geodata.loaders import ErrorCode, Rules, ServiceArea
from geodata.models import Poi, PoiActivation, PoiDataset

pytestmark = pytest.mark.contract

HEADER = "name,lat,lon,address,opening_hours\n"
AREA = Rules(area=ServiceArea(30.7, 119.9, 32.1, 121.4))


def csv_file(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def version_one(tmp_path: Path) -> Path:
    return csv_file(tmp_path, "v1.csv", ["甲站,31.300,120.600,一路,24/7", "乙站,31.310,120.610,二路,"])


def version_two(tmp_path: Path) -> Path:
    return csv_file(
        tmp_path, "v2.csv", ["丙站,31.320,120.620,,", "丁站,31.330,120.630,,", "戊站,31.34,120.64,,"]
    )


def active_names(app: Flask, kind: PoiKind) -> list[str]:
    """What a reader sees, through its own plain engine (the app's SQLite engine takes the write lock
    at BEGIN, which would make a concurrent reader wait instead of showing what it sees)."""
    engine = create_engine(app.config["CITYBOT"].database_url)
    try:
        with Session(engine) as session:
            dataset_id = models.active_dataset_id(session, kind)
            if dataset_id is None:
                return []
            return sorted(session.scalars(select(Poi.name).where(Poi.dataset_id == dataset_id)))
    finally:
        engine.dispose()


def counts(app: Flask) -> tuple[int, int]:
    with session_scope(app) as session:
        return (
            session.scalar(select(func.count()).select_from(PoiDataset)) or 0,
            session.scalar(select(func.count()).select_from(Poi)) or 0,
        )


def test_load_converts_and_stores_rows(app: Flask, tmp_path: Path) -> None:
    with session_scope(app) as session:
        result = load_dataset(
            session,
            PoiKind.TOILET,
            version_one(tmp_path),
            Datum.GCJ02,
            dry_run=False,
            rules=AREA,
            loaded_by="t",
        )
    assert result.status is LoadStatus.LOADED
    assert (result.version, result.row_count) == (1, 2)
    with session_scope(app) as session:
        (dataset,) = list_versions(session)
        assert (dataset.kind, dataset.datum, dataset.source_name, dataset.loaded_by) == (
            "toilet",
            "gcj02",
            "v1.csv",
            "t",
        )
        assert dataset.active
        assert dataset.row_count == 2
        assert len(dataset.checksum) == 64
        assert dataset.loaded_at.tzinfo is not None
        first = session.scalars(select(Poi).where(Poi.name == "甲站")).one()
        expected = GeoPoint(31.300, 120.600, Datum.GCJ02).to(Datum.WGS84)
        assert geodesic((first.lat, first.lon), (expected.lat, expected.lon)).meters < 0.05
        assert (first.address, first.opening_hours, first.source_line) == ("一路", "24/7", 2)


def test_loading_the_same_file_again_changes_nothing(app: Flask, tmp_path: Path) -> None:
    path = version_one(tmp_path)
    for expected in (LoadStatus.LOADED, LoadStatus.UNCHANGED, LoadStatus.UNCHANGED):
        with session_scope(app) as session:
            result = load_dataset(session, PoiKind.TOILET, path, Datum.WGS84, dry_run=False)
        assert result.status is expected
        assert result.version == 1
    assert counts(app) == (1, 2)
    # A copy under another name is the same content: still nothing to do.
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(path.read_bytes())
    with session_scope(app) as session:
        assert (
            load_dataset(session, PoiKind.TOILET, copy, Datum.WGS84, dry_run=False).status
            is LoadStatus.UNCHANGED
        )
    # The same bytes declared in another datum are different coordinates: a new version.
    with session_scope(app) as session:
        again = load_dataset(session, PoiKind.TOILET, path, Datum.GCJ02, dry_run=False)
    assert (again.status, again.version) == (LoadStatus.LOADED, 2)


def test_any_error_writes_nothing(app: Flask, tmp_path: Path) -> None:
    with session_scope(app) as session:
        load_dataset(session, PoiKind.TOILET, version_one(tmp_path), Datum.WGS84, dry_run=False)
    rows = [f"站{i},31.3{i:02d},120.6{i:02d},," for i in range(50)] + ["坏站,0,0,,"]
    bad = csv_file(tmp_path, "bad.csv", rows)
    with session_scope(app) as session:
        result = load_dataset(session, PoiKind.TOILET, bad, Datum.WGS84, dry_run=False)
    assert result.status is LoadStatus.INVALID
    assert not result.ok
    assert [(p.where, p.code) for p in result.errors] == [(52, ErrorCode.ZERO)]
    assert counts(app) == (1, 2)
    assert active_names(app, PoiKind.TOILET) == ["乙站", "甲站"]


def test_dry_run_validates_without_writing(app: Flask, tmp_path: Path) -> None:
    with session_scope(app) as session:
        result = load_dataset(session, PoiKind.TOILET, version_one(tmp_path), Datum.WGS84, dry_run=True)
    assert (result.status, result.row_count, result.ok) == (LoadStatus.CHECKED, 2, True)
    assert counts(app) == (0, 0)


def test_new_version_switches_in_one_step(app: Flask, tmp_path: Path) -> None:
    with session_scope(app) as session:
        load_dataset(session, PoiKind.TOILET, version_one(tmp_path), Datum.WGS84, dry_run=False)
    make_session = sessionmaker_for(app)
    writer = make_session()
    try:
        result = load_dataset(writer, PoiKind.TOILET, version_two(tmp_path), Datum.WGS84, dry_run=False)
        assert result.status is LoadStatus.LOADED
        writer.flush()
        # Before the commit a reader still sees version 1 and only its rows.
        assert active_names(app, PoiKind.TOILET) == ["乙站", "甲站"]
        writer.commit()
    finally:
        writer.close()
    assert active_names(app, PoiKind.TOILET) == ["丁站", "丙站", "戊站"]
    with session_scope(app) as session:
        assert [(d.version, d.active) for d in list_versions(session, PoiKind.TOILET)] == [
            (1, False),
            (2, True),
        ]


def test_database_allows_one_active_version_per_kind(app: Flask, tmp_path: Path) -> None:
    with session_scope(app) as session:
        load_dataset(session, PoiKind.TOILET, version_one(tmp_path), Datum.WGS84, dry_run=False)
        load_dataset(session, PoiKind.TOILET, version_two(tmp_path), Datum.WGS84, dry_run=False)
    with pytest.raises(IntegrityError), session_scope(app) as session:
        session.execute(update(PoiDataset).values(active=True))
    # Other kinds are independent.
    with session_scope(app) as session:
        load_dataset(session, PoiKind.BIKE, version_one(tmp_path), Datum.WGS84, dry_run=False)
    assert active_names(app, PoiKind.BIKE) == ["乙站", "甲站"]
    assert active_names(app, PoiKind.TOILET) == ["丁站", "丙站", "戊站"]


def test_rollback_and_reactivation(app: Flask, tmp_path: Path) -> None:
    one, two = version_one(tmp_path), version_two(tmp_path)
    with session_scope(app) as session:
        with pytest.raises(RollbackError, match="no active version"):
            rollback(session, PoiKind.TOILET)
        load_dataset(session, PoiKind.TOILET, one, Datum.WGS84, dry_run=False)
        with pytest.raises(RollbackError, match="first"):
            rollback(session, PoiKind.TOILET)
        load_dataset(session, PoiKind.TOILET, two, Datum.WGS84, dry_run=False)
    with session_scope(app) as session:
        restored = rollback(session, PoiKind.TOILET)
        assert restored.version == 1
    assert active_names(app, PoiKind.TOILET) == ["乙站", "甲站"]
    # Loading version 2's file again brings back version 2 instead of copying its rows.
    with session_scope(app) as session:
        result = load_dataset(session, PoiKind.TOILET, two, Datum.WGS84, dry_run=False)
    assert (result.status, result.version) == (LoadStatus.REACTIVATED, 2)
    assert counts(app) == (2, 5)
    assert active_names(app, PoiKind.TOILET) == ["丁站", "丙站", "戊站"]


def test_rollback_returns_to_the_version_active_before_not_the_previous_number(
    app: Flask, tmp_path: Path
) -> None:
    one, two = version_one(tmp_path), version_two(tmp_path)
    three = csv_file(tmp_path, "v3.csv", ["己站,31.350,120.650,,", "庚站,31.360,120.660,,"])
    with session_scope(app) as session:
        load_dataset(session, PoiKind.TOILET, one, Datum.WGS84, dry_run=False, loaded_by="a")
        load_dataset(session, PoiKind.TOILET, two, Datum.WGS84, dry_run=False, loaded_by="a")
        assert rollback(session, PoiKind.TOILET).version == 1  # version 2 was bad
        loaded = load_dataset(session, PoiKind.TOILET, three, Datum.WGS84, dry_run=False, loaded_by="a")
        assert loaded.version == 3
    with session_scope(app) as session:
        assert rollback_target(session, PoiKind.TOILET).version == 1  # type: ignore[union-attr]
        assert rollback(session, PoiKind.TOILET).version == 1  # not 2, the version rolled back before
    assert active_names(app, PoiKind.TOILET) == ["乙站", "甲站"]
    with session_scope(app) as session:
        assert rollback_target(session, PoiKind.TOILET) is None
        with pytest.raises(RollbackError) as refused:
            rollback(session, PoiKind.TOILET)
        assert refused.value.code == "first_version"
        history = session.scalars(select(PoiActivation).order_by(PoiActivation.id)).all()
        by_version = {d.id: d.version for d in list_versions(session, PoiKind.TOILET)}
        shown = [(by_version[a.dataset_id], a.undone_at is not None, a.activated_by) for a in history]
        assert shown == [(1, False, "a"), (2, True, "a"), (3, True, "a")]
    # Reloading version 3's bytes is an activation of its own: a rollback then returns to version 1.
    with session_scope(app) as session:
        again = load_dataset(session, PoiKind.TOILET, three, Datum.WGS84, dry_run=False)
        assert (again.status, again.version) == (LoadStatus.REACTIVATED, 3)
        assert rollback(session, PoiKind.TOILET).version == 1


def test_a_load_that_drops_most_rows_waits_for_a_confirmation(app: Flask, tmp_path: Path) -> None:
    many = csv_file(tmp_path, "many.csv", [f"站{i},31.{300 + i},120.{600 + i},," for i in range(10)])
    few = csv_file(tmp_path, "few.csv", ["甲站,31.300,120.600,,", "乙站,31.310,120.610,,"])
    rules = Rules(max_drop_share=0.5)
    with session_scope(app) as session:
        load_dataset(session, PoiKind.BIKE, many, Datum.WGS84, dry_run=False, rules=rules)
    with session_scope(app) as session:
        checked = load_dataset(session, PoiKind.BIKE, few, Datum.WGS84, dry_run=True, rules=rules)
        waiting = load_dataset(session, PoiKind.BIKE, few, Datum.WGS84, dry_run=False, rules=rules)
    for result in (checked, waiting):
        assert result.status is LoadStatus.NEEDS_CONFIRMATION
        assert (result.row_count, result.active_rows, result.active_version, result.dropped) == (2, 10, 1, 8)
    assert render(load_texts(), waiting.shrink_notice()) == (
        "新文件只有 2 条，比当前版本（版本 1，10 条）少 8 条（80%）。请确认后再发布。"
    )
    assert counts(app) == (1, 10)
    with session_scope(app) as session:  # dropping half is below the threshold: no question
        half = csv_file(tmp_path, "half.csv", [f"站{i},31.{300 + i},120.{600 + i},," for i in range(5)])
        assert load_dataset(session, PoiKind.BIKE, half, Datum.WGS84, dry_run=True, rules=rules).status == (
            LoadStatus.CHECKED
        )
        confirmed = load_dataset(
            session, PoiKind.BIKE, few, Datum.WGS84, dry_run=False, rules=rules, confirm_shrink=True
        )
    assert (confirmed.status, confirmed.version) == (LoadStatus.LOADED, 2)
    assert active_names(app, PoiKind.BIKE) == ["乙站", "甲站"]


class Pipe(io.RawIOBase):
    """A stream that cannot seek, like standard input."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_streams_and_geojson(app: Flask, tmp_path: Path) -> None:
    geojson = (
        '{"type":"FeatureCollection","features":['
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[120.6,31.3]},"properties":{"name":"甲"}},'
        '{"type":"Feature","geometry":{"type":"Point","coordinates":[120.7,31.4]},"properties":{"name":"乙"}}]}'
    ).encode()
    stream: Callable[[], io.BufferedReader] = lambda: io.BufferedReader(Pipe(geojson))  # noqa: E731
    assert not stream().seekable()
    with session_scope(app) as session:
        result = load_dataset(
            session, PoiKind.VENDOR, stream(), Datum.WGS84, dry_run=False, source_name="pipe"
        )
    assert (result.status, result.row_count, result.source_name) == (LoadStatus.LOADED, 2, "pipe")
    with session_scope(app) as session:
        assert (
            load_dataset(session, PoiKind.VENDOR, stream(), Datum.WGS84, dry_run=False).status
            is LoadStatus.UNCHANGED
        )
        rows = session.execute(select(Poi.name, Poi.source_line).order_by(Poi.source_line)).all()
    assert [tuple(r) for r in rows] == [("甲", 0), ("乙", 1)]

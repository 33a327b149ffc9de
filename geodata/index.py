"""In-memory nearest-neighbour indexes: one scipy cKDTree per kind, over unit-sphere xyz.

Each process keeps the index of each kind's active dataset version (``IndexCache``). Built before
gunicorn forks (``warm``), it is shared copy-on-write by the workers.

Freshness: every query first asks the database for the kind's active dataset id (one row from the
partial unique index ``uq_poi_datasets_one_active``; well under a millisecond) and rebuilds the
index when the id differs from the one it was built from. We check the database rather than a
version counter in the Store because the database is the truth and the check runs in the same
transaction as the row lookups that follow: a counter could say "new" before the load's
transaction commits, or miss a bump when a commit succeeds and the bump fails, and either would
pair an index with rows of another version. The query needs the database anyway (names and
addresses of the few shown rows), so the check adds one tiny statement, not a round trip to
another service. A worker therefore picks up ``citybot poi load`` or ``rollback`` on its next
query, without a restart.

Seasonal rows (``season_start``/``season_end``) are filtered by a second, smaller tree of the
rows in season on the local date, built once per day per kind.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata import models
from geodata.loaders import parse_season
from geodata.models import Poi
from geodata.spatial import to_xyz

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Searchable:
    """A tree and the POI ids of its points, in tree order."""

    tree: cKDTree | None
    ids: IntArray

    def __len__(self) -> int:
        return len(self.ids)


def _season_code(text: str | None) -> tuple[int, int]:
    """(kind, code): kind 0 none, 1 every year (MMDD), 2 dated (YYYYMMDD)."""
    if not text:
        return 0, 0
    parsed = parse_season(text)
    if parsed is None:  # the loader refuses these; treat a hand-edited row as never in season
        return 2, 0
    recurring, day = parsed
    return (1, day.month * 100 + day.day) if recurring else (2, day.year * 10000 + day.month * 100 + day.day)


@dataclass(frozen=True)
class Seasons:
    """Per point, in tree order: season kind (0 none, 1 every year, 2 dated) and bounds."""

    kind: npt.NDArray[np.int8]
    start: IntArray
    end: IntArray
    xyz: npt.NDArray[np.float64]  # the points, to build the tree of those in season

    def mask(self, day: date) -> npt.NDArray[np.bool_]:
        md = day.month * 100 + day.day
        ymd = day.year * 10000 + md
        start, end = self.start, self.end
        recurring = np.where(start <= end, (start <= md) & (md <= end), (md >= start) | (md <= end))
        dated = (start <= ymd) & (ymd <= end)
        return np.where(self.kind == 0, True, np.where(self.kind == 1, recurring, dated))

    def next_start(self, day: date) -> date | None:
        """The first day after ``day`` on which a season starts (every-year seasons start again next
        year); None when no season starts again."""
        found: list[date] = []
        for kind, start in zip(self.kind.tolist(), self.start.tolist(), strict=True):
            if kind == 1:
                month, mday = divmod(start, 100)
                for year in (day.year, day.year + 1):
                    try:
                        candidate = date(year, month, mday)
                    except ValueError:  # 02-29 outside a leap year
                        continue
                    if candidate > day:
                        found.append(candidate)
                        break
            elif kind == 2 and start > 0:
                year, rest = divmod(start, 10000)
                candidate = date(year, *divmod(rest, 100))
                if candidate > day:
                    found.append(candidate)
        return min(found, default=None)


@dataclass
class KindIndex:
    kind: str
    dataset_id: int
    all: Searchable
    seasons: Seasons | None = None  # None: no row of the dataset has a season
    _daily: dict[date, Searchable] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def searchable(self, day: date) -> Searchable:
        """The points that can be shown on ``day``: all of them, or those in season."""
        if self.seasons is None:
            return self.all
        with self._lock:
            found = self._daily.get(day)
            if found is None:
                mask = self.seasons.mask(day)
                ids = self.all.ids[mask]
                found = Searchable(cKDTree(self.seasons.xyz[mask]) if len(ids) else None, ids)
                self._daily = {day: found}  # yesterday's tree is dropped
            return found


BUILD_CHUNK = 50_000


def build(session: Session, kind: str, dataset_id: int) -> KindIndex:
    """Read the dataset's points in chunks (a server-side cursor on PostgreSQL) into numpy arrays."""
    # Core rows on the session's connection: no ORM work per row; streamed from the server.
    result = session.connection().execute(
        select(Poi.id, Poi.lat, Poi.lon, Poi.season_start, Poi.season_end)
        .where(Poi.dataset_id == dataset_id)
        .order_by(Poi.id)
        .execution_options(stream_results=True, max_row_buffer=BUILD_CHUNK)
    )
    id_parts: list[npt.NDArray[np.int64]] = []
    lat_parts: list[npt.NDArray[np.float64]] = []
    lon_parts: list[npt.NDArray[np.float64]] = []
    seasonal: dict[int, tuple[str | None, str | None]] = {}
    offset = 0
    for chunk in result.partitions(BUILD_CHUNK):
        columns = list(zip(*chunk, strict=True))
        id_parts.append(np.array(columns[0], dtype=np.int64))
        lat_parts.append(np.array(columns[1], dtype=np.float64))
        lon_parts.append(np.array(columns[2], dtype=np.float64))
        for position, (start, end) in enumerate(zip(columns[3], columns[4], strict=True), start=offset):
            if start or end:
                seasonal[position] = (start, end)
        offset += len(chunk)
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
    lats = np.concatenate(lat_parts) if lat_parts else np.zeros(0)
    lons = np.concatenate(lon_parts) if lon_parts else np.zeros(0)
    xyz = to_xyz(lats, lons)
    index = KindIndex(kind, dataset_id, Searchable(cKDTree(xyz) if len(ids) else None, ids))
    if seasonal:
        n = len(ids)
        kinds, starts, ends = np.zeros(n, np.int8), np.zeros(n, np.int64), np.zeros(n, np.int64)
        for position, (start, end) in seasonal.items():
            kind_start, starts[position] = _season_code(start)
            kind_end, ends[position] = _season_code(end)
            kinds[position] = kind_start
            if kind_start != kind_end:  # mixed bounds (the loader refuses them): never in season
                kinds[position], ends[position] = 2, -1
        index.seasons = Seasons(kinds, starts, ends, xyz)
    return index


def _database(session: Session) -> str:
    """Which database a session talks to: dataset ids are only unique within one."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


class IndexCache:
    """Per-process indexes by database and kind, rebuilt when the kind's active dataset changes."""

    def __init__(self) -> None:
        self._indexes: dict[tuple[str, str], KindIndex] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.builds = 0  # how many indexes this cache has built (for tests and metrics)

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, session: Session, kind: str) -> KindIndex | None:
        """The index of the kind's active dataset, or None when the kind has none."""
        key = (_database(session), str(kind))
        dataset_id = models.active_dataset_id(session, key[1])
        if dataset_id is None:
            self._indexes.pop(key, None)
            return None
        current = self._indexes.get(key)
        if current is not None and current.dataset_id == dataset_id:
            return current
        with self._lock_for(key):
            current = self._indexes.get(key)
            if current is None or current.dataset_id != dataset_id:
                current = build(session, key[1], dataset_id)
                self._indexes[key] = current
                self.builds += 1
            return current

    def warm(self, session: Session, kinds: list[str]) -> None:
        """Build every kind's index now (before forking workers)."""
        for kind in kinds:
            self.get(session, kind)

    def clear(self) -> None:
        self._indexes.clear()


DEFAULT_CACHE = IndexCache()

"""Loading facility datasets: validated, all-or-nothing, versioned, atomic for readers, idempotent.

``load_dataset`` runs inside the caller's unit of work and never commits:

1. hash the bytes; the same kind, bytes and declared datum as the active version changes nothing;
2. read once to validate every row (``loaders.scan``); any error and nothing is written;
3. read again and insert the rows in chunks under a new, inactive version;
4. switch the kind's active version to the new one (``models.activate``).

Readers ask for the active version per query, so they see the switch when the caller commits, and
in the same transaction that holds the rows (see ``geodata.index``). ``rollback`` activates the
version before the active one; loading bytes that an inactive version already holds reactivates it
(after validating again, since the rules may have changed) instead of copying its rows.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, ClassVar, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.errors import Codes
from bot.core.geo import Datum
from geodata import models
from geodata.errors import GeodataError
from geodata.kinds import PoiKind
from geodata.loaders import (
    FileFormat,
    Problem,
    Progress,
    Rules,
    detect_format,
    rows,
    scan,
)
from geodata.models import Poi, PoiDataset

INSERT_CHUNK = 10_000


class LoadStatus(StrEnum):
    LOADED = "loaded"  # a new version is active
    REACTIVATED = "reactivated"  # an earlier version with the same bytes is active again
    UNCHANGED = "unchanged"  # the active version already holds these bytes
    CHECKED = "checked"  # dry run: valid, nothing written
    INVALID = "invalid"  # errors: nothing written


@dataclass
class LoadResult:
    kind: PoiKind
    status: LoadStatus
    source_name: str
    checksum: str
    datum: Datum
    fmt: FileFormat | None = None
    row_count: int = 0
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    dataset_id: int | None = None
    version: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is not LoadStatus.INVALID

    def settle(self, status: LoadStatus, dataset: PoiDataset) -> LoadResult:
        self.status, self.dataset_id, self.version = status, dataset.id, dataset.version
        return self


class RollbackError(GeodataError):
    """There is no earlier version to go back to."""

    codes: ClassVar[Codes] = {"no_active_version": ("kind",), "first_version": ("kind", "version")}


Source = str | os.PathLike[str] | IO[bytes]


@contextmanager
def _opened(source: Source) -> Iterator[tuple[IO[bytes], str]]:
    """A seekable binary stream and a name for it; a non-seekable stream is spooled to disk."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as stream:
            yield stream, path.name
        return
    name = Path(str(getattr(source, "name", "") or "<stream>")).name
    if source.seekable():
        yield source, name
        return
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        shutil.copyfileobj(source, spool)
        spool.seek(0)
        yield spool, name


def _sha256(stream: IO[bytes]) -> str:
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()


def load_dataset(
    session: Session,
    kind: PoiKind,
    source: Source,
    datum: Datum,
    *,
    dry_run: bool,
    progress: Progress | None = None,
    rules: Rules | None = None,
    source_name: str | None = None,
    loaded_by: str = "",
) -> LoadResult:
    """Validate ``source`` and, unless ``dry_run``, make it the active version of ``kind``."""
    kind, datum = PoiKind(kind), Datum(datum)
    rules = rules or Rules()
    with _opened(source) as (stream, name):
        name = source_name or name
        checksum = _sha256(stream)
        result = LoadResult(kind, LoadStatus.INVALID, source_name=name, checksum=checksum, datum=datum)
        active = models.active_dataset(session, kind)
        if active is not None and (active.checksum, active.datum) == (checksum, datum.value):
            result.row_count = active.row_count
            return result.settle(LoadStatus.UNCHANGED, active)
        existing = models.find_version(session, kind, checksum, datum)
        start = stream.tell()
        fmt = detect_format(stream)
        found = scan(stream, fmt, datum, rules, progress)
        result.fmt = fmt
        result.row_count = found.count
        result.errors, result.error_count, result.warnings = found.errors, found.error_count, found.warnings
        if not found.ok:
            return result
        if dry_run:
            result.status = LoadStatus.CHECKED
            return result
        if existing is not None:
            models.activate(session, existing)
            return result.settle(LoadStatus.REACTIVATED, existing)
        dataset = PoiDataset(
            kind=kind.value,
            version=models.next_version(session, kind),
            datum=datum.value,
            source_name=name[:255],
            checksum=checksum,
            row_count=found.count,
            loaded_at=utcnow(),
            loaded_by=loaded_by[:64],
            active=False,
        )
        session.add(dataset)
        session.flush()
        stream.seek(start)
        _insert_rows(session, dataset.id, rows(stream, found), found.count, progress)
        models.activate(session, dataset)
        return result.settle(LoadStatus.LOADED, dataset)


@contextmanager
def _large_cache(session: Session) -> Iterator[None]:
    """On SQLite, a 256 MB page cache while inserting: a big transaction spills far less often.

    (PostgreSQL needs nothing of the kind; its buffers are the server's.)
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(text("PRAGMA cache_size")).scalar()
    session.execute(text("PRAGMA cache_size = -262144"))
    try:
        yield
    finally:
        session.execute(text(f"PRAGMA cache_size = {int(before or -2000)}"))


def _insert_rows(
    session: Session,
    dataset_id: int,
    source_rows: Iterator[dict[str, object]],
    total: int,
    progress: Progress | None,
) -> None:
    statement = insert(cast(Table, Poi.__table__))  # a mapped class's table; typed as any FromClause
    chunk: list[dict[str, object]] = []
    done = 0
    with _large_cache(session):
        for row in source_rows:
            row["dataset_id"] = dataset_id
            chunk.append(row)
            if len(chunk) >= INSERT_CHUNK:
                session.execute(statement, chunk)
                done += len(chunk)
                chunk = []
                if progress:
                    progress("insert", done, total)
        if chunk:
            session.execute(statement, chunk)
            done += len(chunk)
    if progress:
        progress("insert", done, total)


def list_versions(session: Session, kind: PoiKind | None = None) -> list[PoiDataset]:
    return models.versions(session, kind)


def rollback(session: Session, kind: PoiKind) -> PoiDataset:
    """Activate the version before the active one (by version number) and return it."""
    kind = PoiKind(kind)
    current = models.active_dataset(session, kind)
    if current is None:
        raise RollbackError("no_active_version", f"{kind} has no active version", kind=kind.label)
    earlier = [d for d in models.versions(session, kind) if d.version < current.version]
    if not earlier:
        raise RollbackError(
            "first_version",
            f"{kind} version {current.version} is the first one",
            kind=kind.label,
            version=current.version,
        )
    previous = earlier[-1]
    models.activate(session, previous)
    return previous

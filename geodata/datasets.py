"""Loading facility datasets: validated, all-or-nothing, versioned, atomic for readers, idempotent.

``load_dataset`` runs inside the caller's unit of work and never commits:

1. hash the bytes; the same kind, bytes and declared datum as the active version changes nothing;
2. read once to validate every row (``loaders.scan``); any error and nothing is written;
   a file that would drop more than ``Rules.max_drop_share`` of the active version's rows is not
   written either unless the caller confirms it (``confirm_shrink``);
3. read again and insert the rows in chunks under a new, inactive version;
4. switch the kind's active version to the new one (``models.activate``).

Readers ask for the active version per query, so they see the switch when the caller commits, and
in the same transaction that holds the rows (see ``geodata.index``). ``rollback`` returns to the
version that was active before the current one (the activation history, ``models.undo_activation``);
loading bytes that an inactive version already holds reactivates it
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
from bot.core.errors import Codes, Label
from bot.core.geo import Datum
from geodata import models
from geodata.errors import GeodataError
from geodata.kinds import PoiKind
from geodata.loaders import (
    Encoding,
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
    NEEDS_CONFIRMATION = "needs_confirmation"  # valid, but drops many rows: nothing written

    @property
    def label(self) -> Label:
        return Label(f"geodata.load_status.{self.value}")


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
    encoding: Encoding | None = None
    active_version: int | None = None  # the version active when the file was checked
    active_rows: int = 0

    @property
    def ok(self) -> bool:
        """Valid (a dry run, a load, or a load waiting for its confirmation)."""
        return self.status is not LoadStatus.INVALID

    @property
    def dropped(self) -> int:
        """How many rows fewer than the active version."""
        return max(self.active_rows - self.row_count, 0) if self.active_version is not None else 0

    def shrinks(self, max_drop_share: float) -> bool:
        """Whether the file drops more than ``max_drop_share`` of the active version's rows."""
        return self.active_rows > 0 and self.dropped / self.active_rows > max_drop_share

    def shrink_notice(self) -> GeodataError:
        """The sentence saying how many rows a shrinking load drops (``geodata.errors.shrink``)."""
        share = round(100 * self.dropped / self.active_rows) if self.active_rows else 0
        return ShrinkNotice(
            "shrink",
            f"{self.row_count} rows replace {self.active_rows} of version {self.active_version}",
            rows=self.row_count,
            version=self.active_version,
            active_rows=self.active_rows,
            dropped=self.dropped,
            share=share,
        )

    def settle(self, status: LoadStatus, dataset: PoiDataset) -> LoadResult:
        self.status, self.dataset_id, self.version = status, dataset.id, dataset.version
        return self


class RollbackError(GeodataError):
    """There is no earlier version to go back to."""

    codes: ClassVar[Codes] = {"no_active_version": ("kind",), "first_version": ("kind", "version")}


class ShrinkNotice(GeodataError):  # noqa: N818 (a sentence with values, never raised)
    """A valid file that would drop most of the active version's rows: loaded only when confirmed."""

    codes: ClassVar[Codes] = {"shrink": ("rows", "version", "active_rows", "dropped", "share")}


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
    confirm_shrink: bool = False,
) -> LoadResult:
    """Validate ``source`` and, unless ``dry_run``, make it the active version of ``kind``.

    A valid file that drops more than ``rules.max_drop_share`` of the active version's rows is
    loaded only with ``confirm_shrink``; otherwise the status is ``NEEDS_CONFIRMATION`` and nothing
    is written (a dry run reports the same, so the caller can ask before publishing).
    """
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
        result.fmt, result.encoding = fmt, found.encoding
        result.row_count = found.count
        result.errors, result.error_count, result.warnings = found.errors, found.error_count, found.warnings
        if active is not None:
            result.active_version, result.active_rows = active.version, active.row_count
        if not found.ok:
            return result
        if result.shrinks(rules.max_drop_share) and not confirm_shrink:
            result.status = LoadStatus.NEEDS_CONFIRMATION
            return result
        if dry_run:
            result.status = LoadStatus.CHECKED
            return result
        if existing is not None:
            models.activate(session, existing, by=loaded_by)
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
        models.activate(session, dataset, by=loaded_by)
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
    """Return to the version that was active before the current one, and return it."""
    kind = PoiKind(kind)
    current = models.active_dataset(session, kind)
    if current is None:
        raise RollbackError("no_active_version", f"{kind} has no active version", kind=kind.label)
    previous = models.undo_activation(session, current)
    if previous is None:
        raise RollbackError(
            "first_version",
            f"{kind} version {current.version} is the first one",
            kind=kind.label,
            version=current.version,
        )
    return previous


def rollback_target(session: Session, kind: PoiKind) -> PoiDataset | None:
    """The version a rollback would return to, if any (for a button that names it)."""
    current = models.active_dataset(session, PoiKind(kind))
    return None if current is None else models.previously_active(session, current)

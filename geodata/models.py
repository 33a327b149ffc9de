"""Facility datasets and their rows, with the named queries that read them.

Every load of a kind is a new ``PoiDataset`` version with its own rows; exactly one version per kind
is active (a partial unique index says so on both SQLite and PostgreSQL). Switching versions is two
UPDATEs in the loader's transaction, so readers see the old rows or the new ones, never a mix.
Coordinates are canonical WGS-84 whatever datum the source declared (kept in ``datum``).

``kind`` is a plain string (the PoiKind value), so a new kind needs no migration.

Every switch is also written to ``poi_activations``, the kind's activation history. Rolling back
undoes the latest activation that is not yet undone and returns to the version that was active
before it: after v1, v2, a rollback (v1 again), then v3, a rollback returns to v1, not to v2, the
version just rolled back.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base

NAME_MAX = 100
ADDRESS_MAX = 200
HOURS_MAX = 255
EXTERNAL_ID_MAX = 64
NOTES_MAX = 1000


class PoiDataset(Base):
    __tablename__ = "poi_datasets"
    __table_args__ = (UniqueConstraint("kind", "version", name="uq_poi_datasets_kind_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    datum: Mapped[str] = mapped_column(String(8))  # as declared by the source
    source_name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file's bytes
    row_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class PoiActivation(Base):
    """One switch of a kind's active version; ``undone_at`` is set when a rollback undid it."""

    __tablename__ = "poi_activations"
    __table_args__ = (Index("ix_poi_activations_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("poi_datasets.id", ondelete="CASCADE"))
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_by: Mapped[str] = mapped_column(String(64), default="")
    undone_at: Mapped[datetime | None]


class Poi(Base):
    __tablename__ = "pois"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("poi_datasets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), default="")
    lat: Mapped[float]  # WGS-84
    lon: Mapped[float]  # WGS-84
    opening_hours: Mapped[str | None] = mapped_column(String(HOURS_MAX))
    season_start: Mapped[str | None] = mapped_column(String(10))  # MM-DD (every year) or YYYY-MM-DD
    season_end: Mapped[str | None] = mapped_column(String(10))
    capacity: Mapped[int | None]
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX))
    notes: Mapped[str | None] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)  # line (CSV) or feature index (GeoJSON)


# At most one active version per kind; also the index behind ``active_dataset_id``.
Index(
    "uq_poi_datasets_one_active",
    PoiDataset.kind,
    unique=True,
    sqlite_where=text("active = 1"),  # how SQLAlchemy renders the boolean test on SQLite
    postgresql_where=text("active"),
)


# -- named queries ---------------------------------------------------------------------------------


def active_dataset(session: Session, kind: str) -> PoiDataset | None:
    return session.scalars(
        select(PoiDataset).where(PoiDataset.kind == str(kind), PoiDataset.active)
    ).one_or_none()


def active_dataset_id(session: Session, kind: str) -> int | None:
    """The cheap freshness check run per query: one row from the partial unique index."""
    return session.scalar(select(PoiDataset.id).where(PoiDataset.kind == str(kind), PoiDataset.active))


def versions(session: Session, kind: str | None = None) -> list[PoiDataset]:
    query = select(PoiDataset).order_by(PoiDataset.kind, PoiDataset.version)
    if kind is not None:
        query = query.where(PoiDataset.kind == str(kind))
    return list(session.scalars(query))


def find_version(session: Session, kind: str, checksum: str, datum: str) -> PoiDataset | None:
    """The newest version of ``kind`` loaded from the same bytes declared in the same datum."""
    return session.scalars(
        select(PoiDataset)
        .where(PoiDataset.kind == str(kind), PoiDataset.checksum == checksum, PoiDataset.datum == str(datum))
        .order_by(PoiDataset.version.desc())
        .limit(1)
    ).first()


def next_version(session: Session, kind: str) -> int:
    highest = session.scalar(select(func.max(PoiDataset.version)).where(PoiDataset.kind == str(kind)))
    return (highest or 0) + 1


def activate(session: Session, dataset: PoiDataset, *, by: str = "") -> None:
    """Make ``dataset`` the active version of its kind, in the caller's transaction, and write the
    switch to the activation history."""
    _switch(session, dataset)
    session.add(
        PoiActivation(kind=dataset.kind, dataset_id=dataset.id, activated_at=utcnow(), activated_by=by[:64])
    )
    session.flush()


def _history(session: Session, kind: str) -> list[PoiActivation]:
    """The kind's activations not undone, newest first."""
    query = (
        select(PoiActivation)
        .where(PoiActivation.kind == str(kind), PoiActivation.undone_at.is_(None))
        .order_by(PoiActivation.id.desc())
    )
    return list(session.scalars(query))


def previously_active(session: Session, current: PoiDataset) -> PoiDataset | None:
    """The version that was active before ``current`` became active (by the history), if any."""
    for entry in _history(session, current.kind):
        if entry.dataset_id != current.id:
            return session.get(PoiDataset, entry.dataset_id)
    return None


def undo_activation(session: Session, current: PoiDataset) -> PoiDataset | None:
    """Undo the latest activations of ``current`` and make the version active before them active
    again (no new activation: the earlier one is restored); None, changing nothing, if there is none."""
    history = _history(session, current.kind)
    undone = list(itertools.takewhile(lambda entry: entry.dataset_id == current.id, history))
    if len(undone) == len(history):
        return None
    previous = session.get(PoiDataset, history[len(undone)].dataset_id)
    if previous is None:
        return None
    now = utcnow()
    for entry in undone:
        entry.undone_at = now
    _switch(session, previous)
    return previous


def _switch(session: Session, dataset: PoiDataset) -> None:
    """Deactivate first, then activate: the one-active index is checked per statement."""
    session.flush()
    session.execute(
        update(PoiDataset)
        .where(PoiDataset.kind == dataset.kind, PoiDataset.active, PoiDataset.id != dataset.id)
        .values(active=False)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(PoiDataset)
        .where(PoiDataset.id == dataset.id)
        .values(active=True)
        .execution_options(synchronize_session="fetch")
    )


def deactivate_kind(session: Session, kind: str) -> None:
    session.execute(
        update(PoiDataset)
        .where(PoiDataset.kind == str(kind), PoiDataset.active)
        .values(active=False)
        .execution_options(synchronize_session="fetch")
    )


class ShownPoi(NamedTuple):
    id: int
    name: str
    address: str
    lat: float
    lon: float
    opening_hours: str | None
    capacity: int | None
    source_line: int
    season_start: str | None
    season_end: str | None


def shown_pois(session: Session, ids: list[int]) -> list[ShownPoi]:
    """The columns a reply shows, for a few rows (plain rows: no ORM identity map on the hot path)."""
    if not ids:
        return []
    query = select(*(getattr(Poi, column) for column in ShownPoi._fields)).where(Poi.id.in_(ids))
    return [ShownPoi(*row) for row in session.execute(query)]

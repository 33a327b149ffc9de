"""The sorting table: items (name, category, note) and the terms they are found by.

A term is a normalised name or alias (``waste.lookup.normalise``); terms are unique, so one word
never leads to two bins. A load replaces the whole table in one transaction.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from bot.core.database import Base
from waste.categories import WasteCategory


class WasteItem(Base):
    __tablename__ = "waste_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")

    terms: Mapped[list[WasteTerm]] = relationship(back_populates="item", cascade="all, delete-orphan")

    @property
    def waste_category(self) -> WasteCategory:
        return WasteCategory(self.category)


class WasteTerm(Base):
    __tablename__ = "waste_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("waste_items.id", ondelete="CASCADE"), index=True)

    item: Mapped[WasteItem] = relationship(back_populates="terms")


def table_version(session: Session) -> tuple[int, int]:
    """(term count, highest term id): changes whenever the table is reloaded."""
    count, highest = session.execute(select(func.count(WasteTerm.id), func.max(WasteTerm.id))).one()
    return int(count or 0), int(highest or 0)


def all_terms(session: Session) -> list[tuple[str, int]]:
    return [(term, item_id) for term, item_id in session.execute(select(WasteTerm.term, WasteTerm.item_id))]


def items_by_id(session: Session, ids: list[int]) -> dict[int, WasteItem]:
    if not ids:
        return {}
    return {item.id: item for item in session.scalars(select(WasteItem).where(WasteItem.id.in_(ids)))}

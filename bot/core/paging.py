"""One page of a long list, counted and cut in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(
    session: Session, query: Select[T], *, page: int, per_page: int, order_by: Sequence[Any]
) -> Page[T]:
    """Page ``page`` (from 1, clamped to the last) of ``query`` in ``order_by`` order."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, -(-total // per_page) or 1))
    items = session.scalars(query.order_by(*order_by).offset((page - 1) * per_page).limit(per_page))
    return Page(list(items), total, page, per_page)

"""Finding an item in the sorting table from what a resident typed.

Queries and terms are compared in one normal form: NFKC (full-width letters and digits become
ASCII), traditional characters converted to simplified (OpenCC ``t2s``), case folded, and spaces and
punctuation removed, so ``廢 電池``, ``废电池`` and ``废电池。`` are the same query.

An exact term wins. Otherwise rapidfuzz's ``WRatio`` scores every term (it rewards a term contained
in the query, as in ``用过的电池`` -> ``电池``, and tolerates a missing or extra character); the best
item is the answer when it scores at least ``min_score`` and no item of another category scores
within ``AMBIGUITY_MARGIN`` of it (``骨头`` could be 大骨头 or 鸡骨头, which go in different bins:
the resident is shown both instead of a guess). Below ``guess_score`` nothing is offered at all:
one shared character (火星石头 and 烟头) is no reason to name an item.

The related items shown with an answer go in the same bin as the answer and score at least
``related_score``: an answer never lists an item of another bin as if it were alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from opencc import OpenCC
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from waste.models import WasteItem, all_terms, items_by_id, table_version
from waste.settings import WasteSettings

AMBIGUITY_MARGIN = 5.0
SUGGESTION_FLOOR = 50.0
MAX_QUERY = 64

_STRIP = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


_convert_lock = threading.Lock()


def normalise(text: str) -> str:
    """The comparable form of an item name or a query."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    with _convert_lock:
        simplified = _converter().convert(folded)
    return _STRIP.sub("", simplified)[:MAX_QUERY]


@dataclass(frozen=True)
class Sorted:
    """The answer to a query: the item (None when nothing matched clearly) and other likely items."""

    query: str
    item: WasteItem | None
    score: float
    exact: bool
    suggestions: list[WasteItem] = field(default_factory=list)


@dataclass(frozen=True)
class _Terms:
    version: tuple[int, int]
    terms: list[str]
    item_ids: list[int]
    by_term: dict[str, int]


_cache: dict[str, _Terms] = {}
_cache_lock = threading.Lock()


def _terms(session: Session) -> _Terms:
    """The table's terms, cached per database until the table is reloaded (checked every call)."""
    bind = str(session.get_bind().engine.url)
    version = table_version(session)
    with _cache_lock:
        cached = _cache.get(bind)
        if cached is not None and cached.version == version:
            return cached
    pairs = all_terms(session)
    fresh = _Terms(version, [term for term, _ in pairs], [item_id for _, item_id in pairs], dict(pairs))
    with _cache_lock:
        _cache[bind] = fresh
    return fresh


def find(session: Session, query: str, settings: WasteSettings) -> Sorted:
    """Which bin ``query`` goes in, with the bureau's thresholds (``[waste]``)."""
    return lookup(
        session,
        query,
        min_score=settings.min_score,
        suggestions=settings.suggestions,
        guess_score=settings.guess_score,
        related_score=settings.related_score,
    )


def lookup(
    session: Session,
    query: str,
    *,
    min_score: float = 72.0,
    suggestions: int = 3,
    guess_score: float = 70.0,
    related_score: float = 60.0,
) -> Sorted:
    """Which bin ``query`` goes in."""
    key = normalise(query)
    if not key:
        return Sorted(query, None, 0.0, False)
    table = _terms(session)
    if not table.terms:
        return Sorted(query, None, 0.0, False)
    found = process.extract(
        key, table.terms, scorer=fuzz.WRatio, limit=max(10, suggestions + 5), score_cutoff=SUGGESTION_FLOOR
    )
    exact_item = table.by_term.get(key)
    best_by_item: dict[int, float] = {} if exact_item is None else {exact_item: 100.0}
    for _term, score, index in found:
        item_id = table.item_ids[index]
        if score > best_by_item.get(item_id, -1.0):
            best_by_item[item_id] = float(score)
    ranked = sorted(best_by_item.items(), key=lambda pair: (pair[0] != exact_item, -pair[1]))
    items = items_by_id(session, [item_id for item_id, _ in ranked])

    def related(answer: WasteItem) -> list[WasteItem]:
        alike = [
            items[i]
            for i, score in ranked
            if i != answer.id and score >= related_score and items[i].category == answer.category
        ]
        return alike[:suggestions]

    if exact_item is not None:
        return Sorted(query, items[exact_item], 100.0, True, related(items[exact_item]))
    if not ranked:
        return Sorted(query, None, 0.0, False)
    best_id, best_score = ranked[0]
    best = items[best_id]
    rivals = [
        items[i]
        for i, score in ranked[1:]
        if score >= best_score - AMBIGUITY_MARGIN and items[i].category != best.category
    ]
    if best_score >= min_score and not rivals:
        return Sorted(query, best, best_score, False, related(best))
    if best_score < guess_score:
        return Sorted(query, None, best_score, False)
    close = [items[i] for i, score in ranked if score >= guess_score][: max(suggestions, 1)]
    return Sorted(query, None, best_score, False, close)

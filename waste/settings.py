"""The ``[waste]`` section of 垃圾分类."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class WasteSettings(Section):
    """垃圾分类: item lookups, scored 0-100 (waste/lookup.py)."""

    min_score: float = Field(72.0, ge=0, le=100)  # a near match answers from this score
    guess_score: float = Field(70.0, ge=0, le=100)  # below it an unclear query gets no "可能是"
    related_score: float = Field(60.0, ge=0, le=100)  # 同类物品 (same bin only) from this score
    suggestions: int = Field(3, ge=0, le=10)  # at most this many related items or guesses

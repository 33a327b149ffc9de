"""The ``[waste]`` section of 垃圾分类."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class WasteSettings(Section):
    """垃圾分类: item lookups. A near match needs at least this score (0-100)."""

    min_score: float = Field(72.0, ge=0, le=100)
    suggestions: int = Field(3, ge=0, le=10)

"""The ``[geo]`` section of 一键查找."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.config import Section, time_zone
from geodata.kinds import KindCatalogue, PoiKind

Bounds = tuple[float, float, float, float]


class GeoSettings(Section):
    """一键查找: nearest facilities. Coordinates here are WGS-84."""

    results: int = Field(5, ge=1, le=10)  # N nearest shown
    radius_m: float = Field(2000.0, gt=0, le=50_000)
    # Beyond this straight-line distance nothing is "nearby": the answer says so instead of a walk.
    max_distance_m: float = Field(20_000.0, gt=0, le=1_000_000)
    # Above this straight-line distance the walking time is not shown: riding or transport is advised.
    walking_max_m: float = Field(3000.0, gt=0, le=100_000)
    origin_ttl: int = Field(1800, ge=60)  # seconds a sent location is remembered
    # [south, west, north, east]; rows outside are rejected by the loaders. Empty: no area check.
    service_area: Bounds | None = None
    area_name: str = Field("", max_length=32)  # the city or district the service area is, e.g. 苏州市
    navigation: Literal["amap", "tencent"] = "amap"
    navigation_app: str = Field("citybot", min_length=1, max_length=64)  # Amap src / Tencent referer
    walking_speed: float = Field(75.0, gt=0)  # metres per minute
    walking_detour: float = Field(1.3, ge=1.0, le=3.0)  # street distance / straight-line distance
    timezone: str = "Asia/Shanghai"
    holiday_country: str = "CN"  # public holidays for "PH" in opening hours; empty: from coordinates
    duplicate_radius_m: float = Field(10.0, ge=0, le=1000)
    keywords: dict[str, str] = Field(default_factory=dict)  # kind -> keyword, e.g. {toilet = "3"}
    # kind -> the words a resident may type for it instead of the keyword (replacing the defaults
    # in geodata/kinds.py); traditional forms and 附近的…/…在哪 are understood as well.
    words: dict[str, list[str]] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)  # kind -> label

    # Rows outside service_area: "refuse" (the file is refused) or "warn" (loaded, with a warning).
    outside_area: Literal["refuse", "warn"] = "refuse"
    # A load that drops more than this share of the active version's rows (56 rows replaced by 4)
    # needs a confirmation: `citybot poi load --confirm-shrink`, a tick in the console. 1: never asks.
    max_drop_share: float = Field(0.5, ge=0, le=1)

    @field_validator("service_area")
    @classmethod
    def _area(cls, value: Bounds | None) -> Bounds | None:
        if value is None:
            return None
        south, west, north, east = value
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError("must be [south, west, north, east] with south < north and west < east")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("must be an ISO 3166 two-letter country code, or empty")
        return value.upper()

    @field_validator("keywords", "labels")
    @classmethod
    def _per_kind(cls, value: dict[str, str]) -> dict[str, str]:
        known = {kind.value for kind in PoiKind}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown kinds {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if any(not text.strip() for text in value.values()):
            raise ValueError("must not be empty")
        return {kind: text.strip() for kind, text in value.items()}

    @field_validator("words")
    @classmethod
    def _words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        cls._per_kind({kind: "-" for kind in value})
        if any(not word.strip() for words in value.values() for word in words):
            raise ValueError("a word must not be empty")
        return {kind: [word.strip() for word in words] for kind, words in value.items()}

    @model_validator(mode="after")
    def _distinct_keywords(self) -> GeoSettings:
        keywords = [self.keywords.get(kind.value, kind.keyword) for kind in PoiKind]
        if len(set(keywords)) != len(keywords):
            raise ValueError("keywords: two kinds share a keyword")
        try:
            self.kinds()
        except ValueError as exc:
            raise ValueError(f"words: {exc}") from None
        if self.max_distance_m < self.radius_m:
            raise ValueError("max_distance_m must be at least radius_m")
        return self

    def kinds(self) -> KindCatalogue:
        """The kinds as this bureau configured them (keywords, words and labels)."""
        return KindCatalogue.build(
            self.keywords, self.labels, {kind: tuple(words) for kind, words in self.words.items()}
        )

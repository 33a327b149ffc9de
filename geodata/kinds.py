"""Facility kinds: a closed vocabulary whose keyword, label and attributes are data on the enum.

A fifth kind is one member here plus a dataset (``citybot poi load NEWKIND FILE``): the tables store
the kind by its value, the router reads the keywords from the catalogue, the reply reads the label,
the menu derives the kind's button key (``menu.keys.nearby_key``) and the mini-program API and its
OpenAPI document take the enum (tests/geodata/test_new_kind.py proves it). Only the bureau's
menu file chooses where, if anywhere, the new button goes.
A bureau renames or re-keys a kind in the ``[geo]`` settings (``keywords``, ``labels``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING


class PoiKind(StrEnum):
    # value, keyword, label, seasonal (shown only in season), shows_capacity (e.g. bike docks)
    BIKE = ("bike", "1", "公共自行车站点", False, True)
    VENDOR = ("vendor", "2", "便民疏导点", False, False)
    TOILET = ("toilet", "3", "公共厕所", False, False)
    WATERMELON = ("watermelon", "4", "西瓜零售点", True, False)

    keyword: str
    label: str
    seasonal: bool
    shows_capacity: bool

    if TYPE_CHECKING:
        # Once the class is built, ``PoiKind(value)`` is Enum's lookup by value (ValueError for an
        # unknown one); the five-argument __new__ below only builds the members.
        def __new__(cls, value: str) -> PoiKind: ...

    else:

        def __new__(
            cls, value: str, keyword: str, label: str, seasonal: bool, shows_capacity: bool
        ) -> PoiKind:
            member = str.__new__(cls, value)
            member._value_ = value
            member.keyword = keyword
            member.label = label
            member.seasonal = seasonal
            member.shows_capacity = shows_capacity
            return member

    @classmethod
    def parse(cls, text: str) -> PoiKind:
        """A kind from its value (``toilet``) or its default keyword (``3``); ValueError otherwise."""
        text = text.strip().lower()
        for kind in cls:
            if text in (kind.value, kind.keyword):
                return kind
        raise ValueError(f"unknown kind {text!r}; known: {', '.join(k.value for k in cls)}")


def normalise_keyword(text: str) -> str:
    """The form in which keywords are compared: NFKC (full-width digits become ASCII), stripped."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class KindCatalogue:
    """The kinds as this bureau configured them: keyword -> kind and kind -> label."""

    by_keyword: Mapping[str, PoiKind]
    labels: Mapping[PoiKind, str]

    @classmethod
    def build(
        cls, keywords: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
    ) -> KindCatalogue:
        keywords = keywords or {}
        labels = labels or {}
        by_keyword: dict[str, PoiKind] = {}
        for kind in PoiKind:
            keyword = normalise_keyword(keywords.get(kind.value, kind.keyword))
            if keyword in by_keyword:
                raise ValueError(f"keyword {keyword!r} is used by {by_keyword[keyword]} and {kind}")
            by_keyword[keyword] = kind
        return cls(
            by_keyword=MappingProxyType(by_keyword),
            labels=MappingProxyType({kind: labels.get(kind.value, kind.label) for kind in PoiKind}),
        )

    def kind_for(self, text: str | None) -> PoiKind | None:
        if not text:
            return None
        return self.by_keyword.get(normalise_keyword(text))

    def keyword(self, kind: PoiKind) -> str:
        return next(keyword for keyword, known in self.by_keyword.items() if known is kind)

    def label(self, kind: PoiKind) -> str:
        return self.labels[kind]

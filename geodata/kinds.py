"""Facility kinds: a closed vocabulary whose keyword, label and attributes are data on the enum.

A fifth kind is one member here plus a dataset (``citybot poi load NEWKIND FILE``): the tables store
the kind by its value, the router reads the keywords from the catalogue, the reply reads the label,
the menu derives the kind's button key (``menu.keys.nearby_key``) and the mini-program API and its
OpenAPI document take the enum (tests/geodata/test_new_kind.py proves it). Only the bureau's
menu file chooses where, if anywhere, the new button goes.
A bureau renames or re-keys a kind in the ``[geo]`` settings (``keywords``, ``labels``).

Besides its keyword (a digit, listed after a location), each kind has words a resident would type
(厕所, 洗手间, 单车, 西瓜 ...; ``PoiKind.words``, replaced per kind by ``[geo] words``). A word is
understood in traditional characters (廁所, 自行車; OpenCC) and inside the usual question
(附近的厕所, 厕所在哪里?), so ``KindCatalogue.phrases`` lists every such form for the chat's word
route and ``kind_for`` reads any of them back.
"""

from __future__ import annotations

import itertools
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from opencc import OpenCC


class PoiKind(StrEnum):
    # value, keyword, label, seasonal (shown only in season), shows_capacity (e.g. bike docks),
    # and optionally the words residents type for it (simplified; the label is always one)
    BIKE = ("bike", "1", "公共自行车站点", False, True, ("自行车", "单车", "公共自行车", "租车点"))
    VENDOR = ("vendor", "2", "便民疏导点", False, False, ("疏导点", "摊点", "便民摊点", "夜市", "早市"))
    TOILET = ("toilet", "3", "公共厕所", False, False, ("厕所", "公厕", "洗手间", "卫生间", "WC"))
    WATERMELON = ("watermelon", "4", "西瓜零售点", True, False, ("西瓜", "西瓜摊", "买西瓜"))

    keyword: str
    label: str
    seasonal: bool
    shows_capacity: bool
    words: tuple[str, ...]

    if TYPE_CHECKING:
        # Once the class is built, ``PoiKind(value)`` is Enum's lookup by value (ValueError for an
        # unknown one); the five- or six-argument __new__ below only builds the members.
        def __new__(cls, value: str) -> PoiKind: ...

    else:

        def __new__(
            cls,
            value: str,
            keyword: str,
            label: str,
            seasonal: bool,
            shows_capacity: bool,
            words: tuple[str, ...] = (),
        ) -> PoiKind:
            member = str.__new__(cls, value)
            member._value_ = value
            member.keyword = keyword
            member.label = label
            member.seasonal = seasonal
            member.shows_capacity = shows_capacity
            member.words = words
            return member

    @classmethod
    def parse(cls, text: str) -> PoiKind:
        """A kind from its value (``toilet``) or its default keyword (``3``); ValueError otherwise."""
        text = text.strip().lower()
        for kind in cls:
            if text in (kind.value, kind.keyword):
                return kind
        raise ValueError(f"unknown kind {text!r}; known: {', '.join(k.value for k in cls)}")


# What may stand around a kind's word: 附近的厕所, 哪里有厕所, 厕所在哪里, and a final question mark.
PREFIXES = ("", "附近的", "附近", "最近的", "哪里有", "找")
SUFFIXES = ("", "在哪", "在哪里", "在哪儿")
ENDINGS = ("", "?")
# The traditional spellings a word is also listed in (OpenCC: standard, Taiwan, Hong Kong).
_SCRIPTS = ("s2t", "s2tw", "s2hk")
_ENDING = re.compile(r"[\s?!。.!~～]+$")
_convert_lock = threading.Lock()


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def _convert(config: str, text: str) -> str:
    with _convert_lock:  # OpenCC converters are not documented as thread-safe
        return str(_converter(config).convert(text))


def normalise_keyword(text: str) -> str:
    """The form in which keywords and words are compared: NFKC (full-width digits become ASCII),
    simplified characters, case folded, stripped, without a closing question mark or full stop."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    simplified = _convert("hk2s", _convert("t2s", folded))  # hk2s: Hong Kong variants such as 衞
    return _ENDING.sub("", simplified).strip()


def _bare(text: str) -> str:
    """A normalised phrase without the question around the word (附近的厕所在哪 -> 厕所)."""
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if prefix and text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
            break
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if suffix and text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


@dataclass(frozen=True, eq=False)  # compared (and cached) by identity: _build makes one per configuration
class KindCatalogue:
    """The kinds as this bureau configured them: keyword -> kind, word -> kind and kind -> label."""

    by_keyword: Mapping[str, PoiKind]
    labels: Mapping[PoiKind, str]
    by_word: Mapping[str, PoiKind]

    @classmethod
    def build(
        cls,
        keywords: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        words: Mapping[str, tuple[str, ...]] | None = None,
    ) -> KindCatalogue:
        return _build(
            tuple(sorted((keywords or {}).items())),
            tuple(sorted((labels or {}).items())),
            tuple(sorted((words or {}).items())),
        )

    def kind_for(self, text: str | None) -> PoiKind | None:
        """The kind a message asks for: its keyword (``3``) or one of its words in any accepted form."""
        if not text:
            return None
        key = normalise_keyword(text)
        return self.by_keyword.get(key) or self.by_word.get(key) or self.by_word.get(_bare(key))

    def keyword(self, kind: PoiKind) -> str:
        return next(keyword for keyword, known in self.by_keyword.items() if known is kind)

    def label(self, kind: PoiKind) -> str:
        return self.labels[kind]

    def words(self, kind: PoiKind) -> list[str]:
        return [word for word, known in self.by_word.items() if known is kind]

    def phrases(self) -> frozenset[str]:
        """Every message that names a kind: keywords, and each word with and without the question
        around it, in simplified and traditional characters."""
        return _phrases(self)


@lru_cache(maxsize=64)
def _build(
    keywords: tuple[tuple[str, str], ...],
    labels: tuple[tuple[str, str], ...],
    words: tuple[tuple[str, tuple[str, ...]], ...],
) -> KindCatalogue:
    keyword_of, label_of, words_of = dict(keywords), dict(labels), dict(words)
    by_keyword: dict[str, PoiKind] = {}
    by_word: dict[str, PoiKind] = {}
    for kind in PoiKind:
        keyword = normalise_keyword(keyword_of.get(kind.value, kind.keyword))
        if keyword in by_keyword:
            raise ValueError(f"keyword {keyword!r} is used by {by_keyword[keyword]} and {kind}")
        by_keyword[keyword] = kind
    for kind in PoiKind:
        label = label_of.get(kind.value, kind.label)
        given = (label, *words_of.get(kind.value, kind.words))
        for word in dict.fromkeys(normalise_keyword(w) for w in given):
            if not word:
                continue
            other = by_word.get(word) or by_keyword.get(word)
            if other is not None and other is not kind:
                raise ValueError(f"word {word!r} is used by {other} and {kind}")
            if word not in by_keyword:
                by_word[word] = kind
    return KindCatalogue(
        by_keyword=MappingProxyType(by_keyword),
        labels=MappingProxyType({kind: label_of.get(kind.value, kind.label) for kind in PoiKind}),
        by_word=MappingProxyType(by_word),
    )


@lru_cache(maxsize=64)
def _phrases(catalogue: KindCatalogue) -> frozenset[str]:
    phrases = set(catalogue.by_keyword)
    forms = {form for word in catalogue.by_word for form in (word, word.upper())}  # wc, WC
    for word in forms:
        for prefix, suffix, ending in itertools.product(PREFIXES, SUFFIXES, ENDINGS):
            phrase = f"{prefix}{word}{suffix}{ending}"
            phrases.add(phrase)
            phrases.update(_convert(script, phrase) for script in _SCRIPTS)
    return frozenset(phrases)

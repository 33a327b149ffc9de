"""Screening: evasive variants still match, spans point at the original text, both hit kinds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from broadcasts.screening import HitKind, LexiconError, load_lexicon, parse_lexicon

pytestmark = pytest.mark.unit

LEXICON = """
[[category]]
name = "违法"
kind = "forbidden"
terms = ["代开发票", "六合彩", "VPN翻墙"]

[[category]]
name = "执法"
kind = "sensitive"
terms = ["强拆", "暴力执法"]

[variants]
"発" = "发"
"""


@pytest.fixture
def lexicon():  # type: ignore[no-untyped-def]
    return parse_lexicon(LEXICON, "test")


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("可以代开发票。", "代开发票"),
        ("可以代 开 发 票。", "代 开 发 票"),  # spaces
        ("可以代\u3000开\t发\n票。", "代\u3000开\t发\n票"),  # ideographic space, tab, line break
        ("可以代.开-发*票。", "代.开-发*票"),  # punctuation inserted between characters
        ("可以代，开。发！票", "代，开。发！票"),  # full-width punctuation
        ("可以代★开♥发票", "代★开♥发票"),  # symbols
        ("可以代\u200b开\u200d发票", "代\u200b开\u200d发票"),  # zero-width characters
        ("可以代開發票", "代開發票"),  # traditional characters
        ("可以代开発票", "代开発票"),  # a variant from the lexicon's table
        ("买六合彩", "六合彩"),
        ("用ｖｐｎ翻墙", "ｖｐｎ翻墙"),  # full-width Latin letters, lower case
        ("用Ｖ Ｐ Ｎ 翻 牆", "Ｖ Ｐ Ｎ 翻 牆"),  # mixed scripts, full width, traditional, spaces
    ],
)
def test_forbidden_variants_match_with_original_spans(lexicon, text: str, matched: str) -> None:  # type: ignore[no-untyped-def]
    hits = lexicon.screen_text(text, "body")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.kind is HitKind.FORBIDDEN
    assert hit.category == "违法"
    assert text[hit.start : hit.end] == matched == hit.text
    assert hit.field == "body"


def test_sensitive_and_forbidden_hits_are_told_apart(lexicon) -> None:  # type: ignore[no-untyped-def]
    screening = lexicon.screen({"title": "关于强拆的说明", "body": "有人称暴力執法，还有人代开发票"})
    assert [(h.field, h.term, h.kind.value) for h in screening.hits] == [
        ("title", "强拆", "sensitive"),
        ("body", "暴力执法", "sensitive"),
        ("body", "代开发票", "forbidden"),
    ]
    assert screening.blocked
    assert screening.sensitive_terms == ("强拆", "暴力执法")
    assert [h.term for h in screening.forbidden] == ["代开发票"]


def test_clean_text_and_near_misses_pass(lexicon) -> None:  # type: ignore[no-untyped-def]
    screening = lexicon.screen({"body": "代为开具证明；发票请向税务部门索取。强化拆除违建宣传。"})
    assert screening.hits == ()
    assert not screening.blocked


def test_overlapping_and_repeated_hits_are_all_reported(lexicon) -> None:  # type: ignore[no-untyped-def]
    hits = lexicon.screen_text("强拆强拆", "body")
    assert [(h.start, h.end) for h in hits] == [(0, 2), (2, 4)]


def test_shipped_sample_lexicon_loads_and_covers_both_kinds() -> None:
    sample = load_lexicon("")
    kinds = {c.kind for c in sample.categories}
    assert kinds == {HitKind.FORBIDDEN, HitKind.SENSITIVE}
    assert sample.screen_text("内部資料", "body")[0].kind is HitKind.FORBIDDEN


def test_bureau_lexicon_from_a_path_is_reloaded_when_changed(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text('[[category]]\nname = "a"\nkind = "sensitive"\nterms = ["占道"]\n', encoding="utf-8")
    first = load_lexicon(str(path))
    assert [h.term for h in first.screen_text("占 道经营", "body")] == ["占道"]
    path.write_text('[[category]]\nname = "a"\nkind = "forbidden"\nterms = ["摆摊"]\n', encoding="utf-8")
    os.utime(path, (1, 1))
    second = load_lexicon(str(path))
    assert second.screen_text("占道", "body") == []
    assert second.screen_text("摆摊", "body")[0].kind is HitKind.FORBIDDEN


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[category]]\nname = "x"\nkind = "bad"\nterms = ["a"]', "kind must be"),
        ('[[category]]\nkind = "forbidden"\nterms = ["a"]', "needs a name"),
        ('[[category]]\nname = "x"\nkind = "forbidden"\nterms = ["。"]', "empty once normalised"),
        ('[[category]]\nname = "x"\nkind = "forbidden"\nterms = [1]', "list of non-empty strings"),
        ('[variants]\n"ab" = "c"', "one character to one"),
        ("[other]\n", "unknown keys other"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_lexicon_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(text, "bureau.toml")


def test_missing_lexicon_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="lexicon file"):
        load_lexicon(str(tmp_path / "absent.toml"))

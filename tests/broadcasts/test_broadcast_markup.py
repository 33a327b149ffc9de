"""The body markup renders to sanitised article HTML: paragraphs, line breaks, bold, http(s) links only."""

from __future__ import annotations

import pytest

from broadcasts import markup

pytestmark = pytest.mark.unit


def test_paragraphs_bold_and_links() -> None:
    html = markup.to_html("第一段 **重点**\n第二行\n\n第二段 [公告](https://example.gov.cn/a?x=1&y=2)")
    assert html == (
        "<p>第一段 <strong>重点</strong><br>\n第二行</p>\n"
        '<p>第二段 <a href="https://example.gov.cn/a?x=1&amp;y=2" rel="noopener noreferrer">公告</a></p>'
    )


def test_raw_html_and_unsafe_links_never_reach_the_article() -> None:
    html = markup.to_html("<script>alert(1)</script> <img src=x onerror=1> [点我](javascript:alert(1))")
    assert "<script" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_plain_text_excerpt_and_paragraph_helpers() -> None:
    body = markup.append_paragraph("", "第一段 **加粗**")
    body = markup.append_paragraph(body, "  ")
    body = markup.append_paragraph(body, "第二段 [链接](https://a.cn)")
    assert body == "第一段 **加粗**\n\n第二段 [链接](https://a.cn)"
    assert markup.paragraph_count(body) == 2
    assert markup.to_plain(body) == "第一段 加粗\n\n第二段 链接"
    assert markup.excerpt(body, 8) == "第一段 加粗 …"

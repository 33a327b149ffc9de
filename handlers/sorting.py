"""垃圾分类 in the chat: which bin an item goes in, asked the way residents ask.

- ``分类 电池``, ``垃圾分类：电池`` (and the traditional ``分類 電池``);
- a question about the item: ``电池是什么垃圾``, ``电池属于什么垃圾``, ``电池是哪类垃圾``,
  ``电池怎么扔``, ``电池如何处理``, ``电池扔哪个桶``, ``电池是有害垃圾吗`` (simplified or
  traditional, with or without ``请问`` and a question mark).

The item is what stands before the question; ``waste.lookup`` normalises it (traditional to
simplified, full-width to ASCII) only to find it. Conversations (a report in progress) take their
texts before this router.
"""

from __future__ import annotations

import re

from bot.chat.replies import Reply, Text
from bot.chat.routing import Context, Router
from bot.wechat.inbound import Inbound
from waste.answer import reply_text
from waste.lookup import find, normalise
from waste.settings import WasteSettings

router = Router(__name__)

# Simplified and traditional spellings of the words around the item.
_WHAT = r"(?:什[么麼]|甚[么麼]|啥|哪[一]?[类類种種个個样樣])"
_IS = r"(?:是|属于|屬於|算是|算|归|歸|归于|歸於|应该是|應該是|应属于|應屬於)"
_HOW = r"(?:怎[么麼样樣]|如何|咋)"
_DISPOSE = r"(?:扔|丢|丟|投放|投|分[类類]|处理|處理|回收)"
_SHOULD = r"(?:应该|應該|要|该|該|需要)"
_WHERE = r"(?:哪里|哪裡|哪儿|哪兒|哪|哪[个個]|哪一[个個])"
_BIN = r"(?:可回收物|可回收垃圾|有害垃圾|厨余垃圾|廚餘垃圾|湿垃圾|濕垃圾|干垃圾|乾垃圾|其他垃圾|其它垃圾)"
_POLITE = r"(?:请问一下|請問一下|请问|請問|我想问|我想問|问一下|問一下)?[，,\s]*"
_END = r"[\s?!。.~啊呀呢吗嗎的]*"

PATTERN = "|".join(
    [
        r"^(?:垃圾)?分[类類]\s*[:：]?\s*(?P<item>.*)$",
        rf"^{_POLITE}(?P<asked>.+?)\s*{_IS}?\s*{_WHAT}的?垃圾{_END}$",
        rf"^{_POLITE}(?P<how>.+?)\s*{_SHOULD}?\s*{_HOW}{_DISPOSE}{_END}$",
        rf"^{_POLITE}(?P<where>.+?)\s*{_SHOULD}?\s*(?:扔|丢|丟|投)(?:到|在|进|進)?{_WHERE}(?:垃圾)?桶?{_END}$",
        rf"^{_POLITE}(?P<bin>.+?)\s*{_SHOULD}?\s*放(?:到|在|进|進)?{_WHERE}(?:垃圾)?桶{_END}$",
        rf"^{_POLITE}(?P<which>.+?)\s*(?:是不是|是|属于|屬於|算)\s*{_BIN}{_END}$",
    ]
)
_GROUPS = ("item", "asked", "how", "where", "bin", "which")
# "这是什么垃圾" names no item: the reply says how to ask.
_NO_ITEM = frozenset({"这", "这个", "那", "那个", "它", "这些", "那些", "垃圾"})  # compared simplified
_EDGES = re.compile(r"^[\s，,：:“”\"']+|[\s，,：:“”\"'的]+$")


def asked_item(match: re.Match[str]) -> str:
    """The item a sorting message asks about ('' for a bare ``分类``)."""
    found = next((match.group(name) for name in _GROUPS if match.group(name) is not None), "")
    return _EDGES.sub("", found)


@router.text(pattern=PATTERN)
def sort_item(msg: Inbound, ctx: Context) -> Reply:
    assert ctx.match is not None
    query = asked_item(ctx.match)
    if not query or normalise(query) in _NO_ITEM:
        return Text(ctx.texts("waste.chat.usage"))
    result = find(ctx.session, query, ctx.settings.section(WasteSettings))
    return Text(reply_text(result, ctx.texts))

"""垃圾分类 in the chat: ``分类 电池`` (or ``垃圾分类 电池``) answers which bin an item goes in."""

from __future__ import annotations

from bot.chat.replies import Reply, Text
from bot.chat.routing import Context, Router
from bot.wechat.inbound import Inbound
from waste.answer import reply_text
from waste.lookup import lookup
from waste.settings import WasteSettings

router = Router(__name__)

PATTERN = r"^(?:垃圾分类|分类)\s*[:：]?\s*(?P<item>.*)$"


@router.text(pattern=PATTERN)
def sort_item(msg: Inbound, ctx: Context) -> Reply:
    assert ctx.match is not None
    query = ctx.match.group("item").strip()
    if not query:
        return Text(ctx.texts("waste.chat.usage"))
    waste = ctx.settings.section(WasteSettings)
    result = lookup(ctx.session, query, min_score=waste.min_score, suggestions=waste.suggestions)
    return Text(reply_text(result, ctx.texts))

"""一键查找 in the chat: a kind's keyword asks for the nearest facilities; a location is remembered.

- A kind's keyword (``PoiKind.keyword`` by default; ``[geo] keywords``), one of its words (厕所,
  洗手间, 自行车 ..., in simplified or traditional characters; ``[geo] words``) or its menu button
  (handlers.menu) with a remembered location: the answer at once. Without one: a short prompt,
  and the kind waits in the conversation (``nearby.awaiting_location``) so that the next location
  answers it.
- A location message or the menu's location picker (``location_select``), both GCJ-02: remembered
  for ``[geo] origin_ttl`` seconds; it answers a waiting kind, or else lists the keywords.
- The automatic LOCATION event (WGS-84): remembered silently, since WeChat wants ``success``.

Keywords are settings, not code: the text route reads them from the settings per message
(``words_from``). Conversations (a report in progress) take their texts before it.
"""

from __future__ import annotations

from bot.chat.replies import Reply, Silence, Text
from bot.chat.routing import Context, Router
from bot.core.config import Settings
from bot.core.geo import GeoPoint
from bot.wechat.inbound import Inbound, SentLocation, sent_location
from geodata.answer import answer_text
from geodata.kinds import KindCatalogue, PoiKind
from geodata.origin import recall, remember
from geodata.settings import GeoSettings
from handlers import basics

router = Router(__name__)

AWAITING = "nearby.awaiting_location"


def _catalogue(ctx: Context) -> KindCatalogue:
    return ctx.settings.section(GeoSettings).kinds()


def keywords(settings: Settings) -> frozenset[str]:
    """Every message that asks for a kind: its keyword or one of its words (厕所, 廁所, 附近的厕所 ...)."""
    return settings.section(GeoSettings).kinds().phrases()


def _answer(ctx: Context, kind: PoiKind, origin: GeoPoint) -> Text:
    return Text(answer_text(ctx.session, kind, origin, ctx.settings.section(GeoSettings), ctx.texts, ctx.now))


def _remember_after_commit(msg: Inbound, ctx: Context, found: SentLocation) -> None:
    store, ttl = ctx.store, ctx.settings.section(GeoSettings).origin_ttl
    label, at = found.label or None, ctx.now
    ctx.after_commit(
        lambda: remember(store, msg.openid, found.point, ttl, label=label, source=found.source, now=at)
    )


@router.text(words_from=keywords)
def kind_keyword(msg: Inbound, ctx: Context) -> Reply:
    kind = _catalogue(ctx).kind_for(msg.content)
    if kind is None:  # the route matched a keyword, so only a settings change in between gets here
        return basics.fallback(msg, ctx)
    return find(msg, ctx, kind)


def find(msg: Inbound, ctx: Context, kind: PoiKind) -> Reply:
    """The nearest facilities of ``kind``, or a prompt for a location (a keyword, a menu button)."""
    origin = recall(ctx.store, msg.openid)
    if origin is None:
        ctx.conversation.enter(AWAITING, kind=kind.value)
        return Text(ctx.texts("nearby.ask_location", label=_catalogue(ctx).label(kind)))
    if ctx.conversation.in_state(AWAITING):
        ctx.conversation.end()
    return _answer(ctx, kind, origin.point)


@router.message("location")
@router.event("location_select")
def location(msg: Inbound, ctx: Context) -> Reply:
    found = sent_location(msg)
    if found is None:
        return basics.fallback(msg, ctx)
    _remember_after_commit(msg, ctx, found)
    if ctx.conversation.in_state(AWAITING):
        waiting = ctx.conversation.data.get("kind")
        ctx.conversation.end()
        if waiting in {kind.value for kind in PoiKind}:
            return _answer(ctx, PoiKind(waiting), found.point)
    catalogue = _catalogue(ctx)
    choices = "\n".join(
        ctx.texts("nearby.choice", keyword=catalogue.keyword(kind), label=catalogue.label(kind))
        for kind in PoiKind
    )
    place = ctx.texts("nearby.place", label=found.label) if found.label else ""
    minutes = max(1, ctx.settings.section(GeoSettings).origin_ttl // 60)
    return Text(ctx.texts("nearby.location_saved", place=place, minutes=minutes, choices=choices))


@router.event("LOCATION")
def location_report(msg: Inbound, ctx: Context) -> Reply:
    found = sent_location(msg)
    if found is not None:
        _remember_after_commit(msg, ctx, found)
    return Silence()

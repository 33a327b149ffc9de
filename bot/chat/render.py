"""Rendering reply values as WeChat passive-reply XML, within the platform's limits."""

from __future__ import annotations

from wechatpy.replies import ArticlesReply, ImageReply, TextReply

from bot.chat.replies import TEXT_LIMIT_BYTES, Image, News, Reply, Silence, Text, fit_utf8
from bot.core.clock import epoch
from bot.wechat.inbound import Inbound

SUCCESS = "success"


def _cdata(value: str) -> str:
    """wechatpy writes values into CDATA sections verbatim; split any ``]]>`` so it cannot end one."""
    return value.replace("]]>", "]]]]><![CDATA[>")


def render(reply: Reply, inbound: Inbound, *, truncation_marker: str = "…") -> str:
    """XML for ``reply`` addressed back to the sender, or ``success`` for silence."""
    if isinstance(reply, Silence):
        return SUCCESS
    # Every value goes into a CDATA section, the addresses included: parsing refuses ids that could
    # end one, and rendering splits ``]]>`` anyway, so no field can add elements to the reply.
    xml: str  # wechatpy's render() is untyped
    common = {"source": _cdata(inbound.account), "target": _cdata(inbound.openid), "time": int(epoch())}
    if isinstance(reply, Text):
        content = fit_utf8(reply.content, TEXT_LIMIT_BYTES, truncation_marker)
        xml = TextReply(content=_cdata(content), **common).render()
        return xml
    if isinstance(reply, News):
        articles = ArticlesReply(**common)
        articles.add_article(
            {
                "title": _cdata(reply.title),
                "description": _cdata(reply.description),
                "image": _cdata(reply.picurl),
                "url": _cdata(reply.url),
            }
        )
        xml = articles.render()
        return xml
    if isinstance(reply, Image):
        xml = ImageReply(media_id=_cdata(reply.media_id), **common).render()
        return xml
    raise TypeError(f"cannot render {type(reply).__name__}")

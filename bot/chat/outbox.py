"""Sending a reply value to a resident outside the passive-reply window (customer-service message)."""

from __future__ import annotations

import logging

from flask import Flask

from bot.chat.replies import News, Reply, Silence, Text
from bot.wechat.service import api as wechat_api

log = logging.getLogger("citybot.outbox")


def deliver_reply(app: Flask, openid: str, reply: Reply) -> None:
    """Send ``reply`` through the WeChat API; errors propagate to the caller."""
    api = wechat_api(app)
    if isinstance(reply, Silence):
        return
    if isinstance(reply, Text):
        api.send_text(openid, reply.content)
    elif isinstance(reply, News):
        api.send_news(
            openid,
            [
                {
                    "title": reply.title,
                    "description": reply.description,
                    "url": reply.url,
                    "picurl": reply.picurl,
                }
            ],
        )
    else:
        log.warning("cannot deliver a %s reply as a customer-service message", type(reply).__name__)

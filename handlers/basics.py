"""Following, unfollowing, help, cancel, and the answer to anything no other handler takes."""

from __future__ import annotations

import logging

from wechatpy.messages import UnknownMessage

from bot.chat.replies import Reply, Silence, Text
from bot.chat.routing import Context, Router
from bot.core import residents
from bot.wechat.inbound import Inbound

log = logging.getLogger("citybot.handlers.basics")
router = Router(__name__)

HELP_WORDS = ("帮助", "help", "HELP", "Help", "?", "？", "菜单", "你好", "您好")
CANCEL_WORDS = ("取消", "退出", "cancel")


@router.event("subscribe", "subscribe_scan")
def welcome(msg: Inbound, ctx: Context) -> Reply:
    residents.subscribe(ctx.session, msg.openid)
    return Text(ctx.texts("common.welcome"))


@router.event("unsubscribe")
def goodbye(msg: Inbound, ctx: Context) -> Reply:
    residents.unsubscribe(ctx.session, msg.openid)
    ctx.conversation.end()
    return Silence()


@router.text(*CANCEL_WORDS, interrupt=True)
def cancel(msg: Inbound, ctx: Context) -> Reply:
    if ctx.conversation.state is None:
        return Text(ctx.texts("common.nothing_to_cancel"))
    ctx.conversation.end()
    return Text(ctx.texts("common.cancelled"))


@router.text(*HELP_WORDS)
def help_text(msg: Inbound, ctx: Context) -> Reply:
    return Text(ctx.texts("common.help"))


def fallback(msg: Inbound, ctx: Context) -> Reply:
    """Unmatched events and unknown message types get ``success``; any other message gets help."""
    if msg.is_event or isinstance(msg.message, UnknownMessage):
        return Silence()
    return Text(ctx.texts("common.help"))

"""The menu's own buttons in the chat: 公共服务's 一键查找 buttons, one key per facility kind
(``menu.keys.nearby_key``), answered as the kind's keyword is (handlers.nearby).

The other keys are routed by the feature they open: 最新发布 and the staff buttons by
handlers.broadcasts, 随手拍 by handlers.reports.
"""

from __future__ import annotations

from bot.chat.replies import Reply
from bot.chat.routing import Context, Router
from bot.wechat.inbound import Inbound
from handlers import basics, nearby
from menu.keys import NEARBY_KEYS, nearby_kind

router = Router(__name__)


@router.click(*NEARBY_KEYS)
def nearby_button(msg: Inbound, ctx: Context) -> Reply:
    kind = nearby_kind(msg.event_key)
    if kind is None:  # the route matched one of these keys, so this does not happen
        return basics.fallback(msg, ctx)
    return nearby.find(msg, ctx, kind)

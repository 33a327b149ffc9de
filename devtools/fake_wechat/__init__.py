"""A fake WeChat API server on loopback, for tests and local development.

``server`` is the HTTP server with the endpoint registry, fault and latency injection and the
recorded calls; each other module is one family of endpoints. ``FakeWeChat`` serves them all:

- ``tokens``: ``token``, ``stable_token``;
- ``messages``: ``message/custom/send``, ``message/template/send``;
- ``media``: ``media/get``, ``material/add_material``;
- ``menu``: ``menu/create|get|delete``, ``menu/addconditional|delconditional``;
- ``tags``: ``tags/create|get``, ``tags/members/batchtagging``;
- ``publishing``: ``draft/add``, ``freepublish/submit|delete``, ``message/mass/sendall|delete``;
- ``miniprogram``: ``sns/jscode2session``.

Given a ``Webhook`` it also posts the job-finished events of mass sends and publications to
citybot; its own ``devtools/`` routes (``client.StandIn`` calls them) take the photos the chat
simulator sends, mint mini-program login codes, list the messages sent to a resident and serve
published articles. ``citybot fake-wechat`` and ``citybot demo`` serve it for the demo.

    with FakeWeChat() as fake:
        settings = load_settings(overrides=fake.settings_overrides())
"""

from __future__ import annotations

from devtools.fake_wechat.menu import MenuEndpoints
from devtools.fake_wechat.messages import Delivered, MessageEndpoints
from devtools.fake_wechat.miniprogram import MiniProgramEndpoints
from devtools.fake_wechat.publishing import PublishingEndpoints
from devtools.fake_wechat.server import (
    ERRMSGS,
    Call,
    EventDelivery,
    Fail,
    FakeWeChatServer,
    Incoming,
    Webhook,
    endpoint,
)
from devtools.fake_wechat.tokens import TokenEndpoints

__all__ = [
    "ERRMSGS",
    "Call",
    "Delivered",
    "EventDelivery",
    "Fail",
    "FakeWeChat",
    "FakeWeChatServer",
    "Incoming",
    "Webhook",
    "endpoint",
]


class FakeWeChat(
    TokenEndpoints,
    MessageEndpoints,
    MenuEndpoints,
    PublishingEndpoints,  # with MediaEndpoints and TagEndpoints, which its drafts and sends use
    MiniProgramEndpoints,
):
    """WeChat's API on 127.0.0.1, served from a daemon thread: every endpoint family."""

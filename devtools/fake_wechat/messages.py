"""Messages to one resident: ``message/custom/send`` (customer-service) and ``message/template/send``."""

from __future__ import annotations

from typing import Any

from devtools.fake_wechat.server import Fail, FakeWeChatServer, Incoming, endpoint

CUSTOM_MSGTYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "music",
        "news",
        "mpnews",
        "mpnewsarticle",
        "msgmenu",
        "wxcard",
        "miniprogrampage",
    }
)


class MessageEndpoints(FakeWeChatServer):
    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of customer-service messages WeChat accepted."""
        return [c.body for c in self.calls("message/custom/send") if c.errcode == 0]

    @property
    def sent_templates(self) -> list[dict[str, Any]]:
        """Bodies of template messages WeChat accepted."""
        return [c.body for c in self.calls("message/template/send") if c.errcode == 0]

    @endpoint("message/custom/send", methods=("POST",))
    def _custom_send(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if not body.get("touser"):
            raise Fail(40003)
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_MSGTYPES or not isinstance(body.get(msgtype), dict):
            raise Fail(40008)
        if msgtype == "news" and len(body["news"].get("articles") or []) != 1:
            raise Fail(45008)
        return {}

    @endpoint("message/template/send", methods=("POST",))
    def _template_send(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if not body.get("touser"):
            raise Fail(40003)
        if not body.get("template_id"):
            raise Fail(40037)
        return {"msgid": next(self._ids)}

"""Messages to one resident: ``message/custom/send`` (customer-service) and ``message/template/send``.

Every accepted message is kept in ``outbox`` with a sequence number; the stand-in's own route
``devtools/messages?touser=OPENID&after=SEQ`` answers those of one resident after ``SEQ``, which is
how the chat simulator shows them as they arrive.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.core.clock import epoch
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


@dataclass(frozen=True)
class Delivered:
    """A message WeChat accepted for one resident: ``kind`` is ``custom`` or ``template``."""

    seq: int
    kind: str
    touser: str
    body: dict[str, Any]
    at: float = field(default_factory=epoch)


class MessageEndpoints(FakeWeChatServer):
    outbox: list[Delivered]

    def _init_state(self) -> None:
        super()._init_state()
        self.outbox = []

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """Bodies of customer-service messages WeChat accepted."""
        return [c.body for c in self.calls("message/custom/send") if c.errcode == 0]

    @property
    def sent_templates(self) -> list[dict[str, Any]]:
        """Bodies of template messages WeChat accepted."""
        return [c.body for c in self.calls("message/template/send") if c.errcode == 0]

    def messages_to(self, openid: str, after: int = 0) -> list[Delivered]:
        """The customer-service and template messages accepted for ``openid``, after sequence ``after``."""
        with self._lock:
            return [m for m in self.outbox if m.touser == openid and m.seq > after]

    def _deliver(self, kind: str, body: dict[str, Any]) -> None:
        self.outbox.append(Delivered(len(self.outbox) + 1, kind, str(body["touser"]), body))

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
        self._deliver("custom", body)
        return {}

    @endpoint("message/template/send", methods=("POST",))
    def _template_send(self, incoming: Incoming) -> dict[str, Any]:
        body = self._body(incoming)
        if not body.get("touser"):
            raise Fail(40003)
        if not body.get("template_id"):
            raise Fail(40037)
        self._deliver("template", body)
        return {"msgid": next(self._ids)}

    @endpoint("devtools/messages", methods=("GET",), auth=False, envelope=False, record=False)
    def _dev_messages(self, incoming: Incoming) -> dict[str, Any]:
        touser = incoming.query.get("touser", "")
        if not touser:
            raise Fail(40003)
        try:
            after = int(incoming.query.get("after", "0"))
        except ValueError:
            raise Fail(47001) from None
        return {"messages": [asdict(m) for m in self.messages_to(touser, after)], "last": len(self.outbox)}

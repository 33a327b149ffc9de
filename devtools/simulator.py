"""Acting as WeChat towards a citybot webhook: build message XML, sign (and encrypt), post, read the reply.

``citybot chat`` uses it against a running server; the tests use it against the app in-process.
The transport is a callable so either an HTTP session or Flask's test client can carry the bytes.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape

import requests

from bot.core.clock import epoch
from bot.wechat.crypto import MessageCrypto
from bot.wechat.inbound import parse_xml
from bot.wechat.signature import sign

Transport = Callable[[str, bytes], tuple[int, bytes]]
"""(path with query string, body) -> (HTTP status, response body)"""

MODES = ("plain", "compat", "safe")


def http_transport(webhook_url: str, timeout: float = 10.0) -> Transport:
    """POST over HTTP to the server of ``webhook_url`` (the path comes with each call)."""
    parts = urlsplit(webhook_url)
    root = f"{parts.scheme}://{parts.netloc}"
    session = requests.Session()

    def post(path: str, body: bytes) -> tuple[int, bytes]:
        response = session.post(root + path, data=body, headers={"Content-Type": "text/xml"}, timeout=timeout)
        return response.status_code, response.content

    return post


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: dict[str, Any]) -> str:
    """<xml> with one element per field; str values as CDATA, numbers bare, dicts nested."""

    def element(name: str, value: Any) -> str:
        if isinstance(value, dict):
            inner = "".join(element(k, v) for k, v in value.items())
        elif isinstance(value, list):
            return "".join(element(name, item) for item in value)
        elif isinstance(value, int | float):
            inner = escape(str(value))
        else:
            inner = _cdata(str(value))
        return f"<{name}>{inner}</{name}>"

    return "<xml>" + "".join(element(k, v) for k, v in fields.items()) + "</xml>"


@dataclass(frozen=True)
class SimReply:
    status: int
    body: str
    fields: dict[str, Any] | None  # the reply XML as a dict (decrypted in safe mode), None for success/empty

    @property
    def text(self) -> str | None:
        if not self.fields:
            return None
        if self.fields.get("MsgType") == "text":
            return str(self.fields.get("Content", ""))
        if self.fields.get("MsgType") == "news":
            item = self.fields["Articles"]["item"]
            return f"{item.get('Title', '')}\n{item.get('Description', '')}\n{item.get('Url', '')}"
        return None

    @property
    def is_success(self) -> bool:
        return self.status == 200 and self.body.strip() in ("success", "")


class WeChatSimulator:
    def __init__(
        self,
        transport: Transport,
        *,
        token: str,
        app_id: str = "",
        encoding_aes_key: str = "",
        mode: str = "plain",
        account: str = "gh_citybot",
        path: str = "/wechat",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if mode != "plain" and not encoding_aes_key:
            raise ValueError(f"{mode} mode needs the EncodingAESKey")
        self.transport = transport
        self.token = token
        self.mode = mode
        self.account = account
        self.path = path
        self.crypto = MessageCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self._ids = itertools.count(int(epoch() * 1000) * 1000 + secrets.randbelow(1000))

    @classmethod
    def over_http(cls, webhook_url: str, **options: Any) -> Self:
        """A simulator posting to a running citybot at ``webhook_url`` (``http://host:port/wechat``)."""
        path = urlsplit(webhook_url).path or "/wechat"
        return cls(http_transport(webhook_url), path=path, **options)

    # -- message builders -------------------------------------------------------------------------
    def _base(self, openid: str, msg_type: str, create_time: int | None = None) -> dict[str, Any]:
        return {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": create_time or int(epoch()),
            "MsgType": msg_type,
        }

    def text(self, openid: str, content: str, *, msg_id: int | None = None) -> str:
        return build_xml(
            {**self._base(openid, "text"), "Content": content, "MsgId": msg_id or next(self._ids)}
        )

    def location(self, openid: str, lat: float, lon: float, label: str = "", *, scale: int = 15) -> str:
        """A location message: GCJ-02, Location_X is the latitude."""
        return build_xml(
            {
                **self._base(openid, "location"),
                "Location_X": lat,
                "Location_Y": lon,
                "Scale": scale,
                "Label": label,
                "MsgId": next(self._ids),
            }
        )

    def image(self, openid: str, pic_url: str, media_id: str, *, msg_id: int | None = None) -> str:
        return build_xml(
            {
                **self._base(openid, "image"),
                "PicUrl": pic_url,
                "MediaId": media_id,
                "MsgId": msg_id or next(self._ids),
            }
        )

    def event(
        self, openid: str, event: str, key: str | None = None, *, create_time: int | None = None, **extra: Any
    ) -> str:
        fields = {**self._base(openid, "event", create_time), "Event": event}
        if key is not None:
            fields["EventKey"] = key
        fields.update(extra)
        return build_xml(fields)

    def location_event(self, openid: str, lat: float, lon: float, precision: float = 30.0) -> str:
        """The automatic LOCATION report: WGS-84."""
        return self.event(openid, "LOCATION", Latitude=lat, Longitude=lon, Precision=precision)

    def click(self, openid: str, key: str) -> str:
        return self.event(openid, "CLICK", key)

    # -- transport ---------------------------------------------------------------------------------
    def signed_query(self, body_encrypt: str | None, timestamp: str, nonce: str) -> dict[str, str]:
        query = {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": "simulator",
        }
        if body_encrypt is not None:
            query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, body_encrypt))
        return query

    def envelope(self, xml: str, timestamp: str, nonce: str) -> tuple[bytes, dict[str, str]]:
        """The POST body and query string WeChat would send for ``xml`` in this mode."""
        if self.mode == "plain" or self.crypto is None:
            return xml.encode("utf-8"), self.signed_query(None, timestamp, nonce)
        encrypted = parse_xml(self.crypto.encrypt_reply(xml, nonce, timestamp))["Encrypt"]
        if self.mode == "safe":
            body = build_xml({"ToUserName": self.account, "Encrypt": encrypted})
        else:
            body = xml.replace("</xml>", f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        return body.encode("utf-8"), self.signed_query(encrypted, timestamp, nonce)

    def send(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> SimReply:
        timestamp = timestamp or str(int(epoch()))
        nonce = nonce or str(secrets.randbelow(10**9))
        body, query = self.envelope(xml, timestamp, nonce)
        status, raw = self.transport(f"{self.path}?{urlencode(query)}", body)
        return self.read_reply(status, raw)

    def read_reply(self, status: int, raw: bytes) -> SimReply:
        text = raw.decode("utf-8", errors="replace")
        if status != 200 or text.strip() in ("", "success"):
            return SimReply(status, text, None)
        fields = parse_xml(text)
        if "Encrypt" in fields and self.crypto is not None:
            expected = sign(
                self.token, str(fields["TimeStamp"]), str(fields["Nonce"]), str(fields["Encrypt"])
            )
            if expected != fields.get("MsgSignature"):
                raise ValueError("reply MsgSignature does not verify")
            fields = parse_xml(self.crypto.decrypt_unsigned(str(fields["Encrypt"])))
        return SimReply(status, text, fields)

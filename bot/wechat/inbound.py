"""Parsing inbound XML into an ``Inbound`` value, refusing anything hostile, oversized or incomplete.

defusedxml rejects DTDs, entity declarations and external references before anything else reads
the body; a tree deeper than ``limits.MAX_DEPTH`` or with more than ``limits.MAX_ELEMENTS`` elements
is refused; the tree is then flattened into a dict (nested elements become dicts, repeated elements
lists), every field is checked against WeChat's limits (``bot.wechat.limits``), and wechatpy builds
its typed message from the same, already vetted, text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from wechatpy import parse_message
from wechatpy.messages import BaseMessage, UnknownMessage

from bot.core.geo import Datum, GeoPoint
from bot.wechat import limits


class BadMessageError(Exception):
    """The body is not a WeChat message we can accept."""


def normalise_text(value: str) -> str:
    """NFKC folds full-width digits, letters and spaces; surrounding white space is dropped."""
    return unicodedata.normalize("NFKC", value).strip()


def _element_value(element: Element) -> Any:
    children = list(element)
    if not children:
        return element.text or ""
    value: dict[str, Any] = {}
    for child in children:
        item = _element_value(child)
        if child.tag in value:
            existing = value[child.tag]
            if not isinstance(existing, list):
                value[child.tag] = [existing]
            value[child.tag].append(item)
        else:
            value[child.tag] = item
    return value


def _check_shape(root: Element) -> None:
    """Refuse a tree deeper or larger than any WeChat message, without recursing into it."""
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        count += 1
        if count > limits.MAX_ELEMENTS:
            raise BadMessageError(f"more than {limits.MAX_ELEMENTS} elements")
        if depth > limits.MAX_DEPTH:
            raise BadMessageError(f"elements nested more than {limits.MAX_DEPTH} deep")
        stack.extend((child, depth + 1) for child in element)


def parse_xml(body: str | bytes) -> dict[str, Any]:
    """Parse an XML document whose root is <xml> into a dict; raise BadMessageError."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError, RecursionError) as exc:
        raise BadMessageError(f"malformed or hostile XML: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadMessageError(f"root element is <{root.tag}>, expected <xml>")
    _check_shape(root)
    value = _element_value(root)
    if not isinstance(value, dict):
        raise BadMessageError("empty <xml> element")
    return value


@dataclass(frozen=True)
class Inbound:
    openid: str
    account: str
    msg_type: str
    event: str | None
    event_key: str | None
    content: str | None
    raw_content: str | None
    msg_id: int | None
    create_time: int
    raw: dict[str, Any]
    xml: str = field(repr=False)
    message: BaseMessage = field(repr=False, compare=False)

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.create_time, UTC)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedupe_key(self) -> str:
        """Messages: sender + MsgId. Events (no MsgId): sender + CreateTime + Event + EventKey."""
        if self.msg_id is not None and not self.is_event:
            return f"msg:{self.openid}:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event or ''}:{self.event_key or ''}"


def _text(raw: dict[str, Any], name: str) -> str | None:
    value = raw.get(name)
    return value if isinstance(value, str) else None


def parse_inbound(xml: str) -> Inbound:
    raw = parse_xml(xml)
    problem = limits.leaf_problems(raw)
    if problem:
        raise BadMessageError(problem)
    if not isinstance(raw.get("MsgType"), str):
        raise BadMessageError("MsgType is missing")
    msg_type = raw["MsgType"].strip().lower()  # an empty type is routed as an unknown one
    openid = (_text(raw, "FromUserName") or "").strip()
    if not openid:
        raise BadMessageError("FromUserName is missing")
    if not limits.IDENTIFIER.fullmatch(openid):
        raise BadMessageError("FromUserName has characters an openid never has")
    account = (_text(raw, "ToUserName") or "").strip()
    if account and not limits.IDENTIFIER.fullmatch(account):
        raise BadMessageError("ToUserName has characters an account id never has")
    try:
        create_time = int(_text(raw, "CreateTime") or "")
    except ValueError:
        raise BadMessageError("CreateTime is missing or not an integer") from None
    if not 0 <= create_time <= limits.CREATE_TIME_MAX:
        raise BadMessageError("CreateTime is out of range")
    msg_id_text = _text(raw, "MsgId") or _text(raw, "MsgID")
    try:
        msg_id = int(msg_id_text) if msg_id_text else None
    except ValueError:
        raise BadMessageError("MsgId is not an integer") from None
    if msg_id is not None and not 0 <= msg_id <= limits.MSG_ID_MAX:
        raise BadMessageError("MsgId is out of range")
    event = _text(raw, "Event")
    raw_content = _text(raw, "Content")
    try:
        message = parse_message(xml) if msg_type else UnknownMessage(raw)
    except Exception as exc:  # wechatpy raises assorted errors on odd field values
        raise BadMessageError(f"unreadable message fields: {type(exc).__name__}") from None
    return Inbound(
        openid=openid,
        account=account,
        msg_type=msg_type,
        event=event.strip().lower() if event else None,
        event_key=_text(raw, "EventKey"),
        content=normalise_text(raw_content) if raw_content is not None and msg_type == "text" else None,
        raw_content=raw_content,
        msg_id=msg_id,
        create_time=create_time,
        raw=raw,
        xml=xml,
        message=message,
    )


@dataclass(frozen=True)
class SentLocation:
    """Where a resident said they are, in the datum WeChat used for that kind of message."""

    point: GeoPoint
    label: str
    source: str  # "location_message", "location_select" or "location_event"


def sent_location(msg: Inbound) -> SentLocation | None:
    """The location in a location message or location_select event (GCJ-02: WeChat's picker) or a
    LOCATION event (WGS-84: the phone's own report); None for anything else or unreadable values."""
    if msg.msg_type == "location":
        fields: Any = msg.raw
        keys, datum, source = ("Location_X", "Location_Y"), Datum.GCJ02, "location_message"
    elif msg.event == "location_select":
        fields = msg.raw.get("SendLocationInfo")
        keys, datum, source = ("Location_X", "Location_Y"), Datum.GCJ02, "location_select"
    elif msg.event == "location":
        fields = msg.raw
        keys, datum, source = ("Latitude", "Longitude"), Datum.WGS84, "location_event"
    else:
        return None
    if not isinstance(fields, dict):
        return None
    try:
        point = GeoPoint(float(fields[keys[0]]), float(fields[keys[1]]), datum)
    except (KeyError, TypeError, ValueError):  # CoordinateError is a ValueError
        return None
    if point.lat == 0 and point.lon == 0:
        return None
    label = fields.get("Label")
    return SentLocation(point, label.strip() if isinstance(label, str) else "", source)

"""Open311 documents as JSON or XML (the element names are the spec's; XML is built, never parsed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, item: Mapping[str, Any]) -> None:
    for key, value in item.items():
        if value is None:
            continue
        child = ET.SubElement(parent, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            singular = key.removesuffix("s")
            for entry in value:
                if isinstance(entry, Mapping):
                    _fill(ET.SubElement(child, singular), entry)
                else:
                    ET.SubElement(child, singular).text = _text(entry)
        else:
            child.text = _text(value)


def xml_list(root: str, element: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    top = ET.Element(root)
    for item in items:
        _fill(ET.SubElement(top, element), item)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def xml_object(root: str, item: Mapping[str, Any]) -> bytes:
    top = ET.Element(root)
    _fill(top, item)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, payload: Any, xml: bytes | None = None, status: int = 200) -> Response:
    if fmt == "xml":
        assert xml is not None
        return Response(xml, status=status, content_type=XML_TYPE)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type=JSON_TYPE)


def error(fmt: str, status: int, description: str) -> Response:
    """GeoReport v2 errors: a list of {code, description}."""
    errors = [{"code": status, "description": description}]
    return respond(fmt, errors, xml_list("errors", "error", errors), status)

"""The OpenAPI document is generated from the models: its routes are the app's, its enums and limits
are the code's and the settings', its query parameters are the query models' fields, and every error
response holds the one error schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel

from geodata.hours import OpenStatus
from geodata.kinds import PoiKind
from miniprogram_api import openapi, schemas
from miniprogram_api.errors import STATUS, Error
from reports.models import LedgerKind, PhotoStatus, ReportStatus
from waste.categories import WasteCategory

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_every_api_route_is_documented_and_nothing_else(api_app: Flask) -> None:
    document = _document(api_app)
    prefix = document["servers"][0]["url"]
    assert prefix == "/api/v1"
    routed = {
        (re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule).removeprefix(prefix), method.lower())
        for rule in api_app.url_map.iter_rules()
        if rule.rule.startswith(prefix + "/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for method, path, _ in _operations(document)}
    assert routed == documented


def test_the_facility_kinds_are_poikind(api_app: Flask) -> None:
    document = _document(api_app)
    nearest = document["paths"]["/places/nearest"]["get"]
    kind = next(p for p in nearest["parameters"] if p["name"] == "kind")
    assert _resolve(document, kind["schema"])["enum"] == [k.value for k in PoiKind]
    answer = _resolve(document, nearest["responses"]["200"]["content"]["application/json"]["schema"])
    assert _resolve(document, answer["properties"]["kind"])["enum"] == [k.value for k in PoiKind]


def test_a_fifth_kind_appears_without_touching_the_document_code() -> None:
    """PoiKind with one more member (as geodata/kinds.py would have it): the document lists it, as the
    nearest search's parameter and in its answer."""
    source = (ROOT / "geodata" / "kinds.py").read_text(encoding="utf-8")
    marker = '    WATERMELON = ("watermelon", "4", "西瓜零售点", True, False, ("西瓜", "西瓜摊", "买西瓜"))\n'
    assert marker in source
    extended = source.replace(marker, marker + '    PARK = ("park", "5", "公园", False, False, ("公园",))\n')
    script = textwrap.dedent(
        f"""
        import importlib.util, json, sys
        spec = importlib.util.spec_from_loader("geodata.kinds", loader=None)
        module = importlib.util.module_from_spec(spec)
        sys.modules["geodata.kinds"] = module
        exec(compile({extended!r}, "geodata/kinds.py", "exec"), module.__dict__)
        from bot.app import load_settings
        from miniprogram_api import openapi
        settings = load_settings(None, {{"secret_key": "k" * 40}}, environ={{}})
        print(json.dumps(openapi.document(settings, [])))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [*(k.value for k in PoiKind), "park"]
    nearest = document["paths"]["/places/nearest"]["get"]
    kind = next(p for p in nearest["parameters"] if p["name"] == "kind")
    assert _resolve(document, kind["schema"])["enum"] == expected
    answer = _resolve(document, nearest["responses"]["200"]["content"]["application/json"]["schema"])
    assert _resolve(document, answer["properties"]["kind"])["enum"] == expected


@pytest.mark.parametrize(
    ("component", "enum"),
    [
        ("PoiKind", PoiKind),
        ("ReportStatus", ReportStatus),
        ("PhotoStatus", PhotoStatus),
        ("LedgerKind", LedgerKind),
        ("OpenStatus", OpenStatus),
        ("WasteCategory", WasteCategory),
        ("ApiDatum", schemas.ApiDatum),
    ],
)
def test_enums_are_the_codes(api_app: Flask, component: str, enum: type[StrEnum]) -> None:
    assert _document(api_app)["components"]["schemas"][component]["enum"] == [e.value for e in enum]


def test_no_enum_value_is_written_in_the_document_code() -> None:
    source = (ROOT / "miniprogram_api" / "openapi.py").read_text(encoding="utf-8")
    for enum in (PoiKind, ReportStatus, PhotoStatus, LedgerKind, OpenStatus, WasteCategory, schemas.ApiDatum):
        for member in enum:
            assert f'"{member.value}"' not in source, member


def _query_models() -> dict[str, type[BaseModel]]:
    return {op.operation_id: op.query for op in openapi.OPERATIONS if op.query is not None}


@pytest.mark.parametrize("operation_id", sorted(_query_models()))
def test_query_parameters_are_the_query_models_fields(api_app: Flask, operation_id: str) -> None:
    model = _query_models()[operation_id]
    document = _document(api_app)
    [operation] = [op for _, _, op in _operations(document) if op["operationId"] == operation_id]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert list(parameters) == list(model.model_fields)
    for name, field in model.model_fields.items():
        parameter = parameters[name]
        assert parameter["required"] == field.is_required(), name
        assert parameter["description"] == (field.description or ""), name
        schema = _resolve(document, parameter["schema"])
        assert "null" not in json.dumps(schema), name  # an optional parameter is one left out
        if field.default is not None and not field.is_required():
            assert parameter["schema"]["default"] == field.default, name


def test_limits_come_from_the_models_and_the_settings(make_api_app: Callable[..., Flask]) -> None:
    app = make_api_app(miniprogram={"nearest_max": 7}, reports={"max_photos": 2})
    document = _document(app)
    parameters = {
        (path, p["name"]): p["schema"]
        for _, path, op in _operations(document)
        for p in op.get("parameters", ())
    }
    assert parameters[("/places/nearest", "limit")] == {"type": "integer", "minimum": 1, "maximum": 7}
    page = schemas.PageQuery.model_json_schema()["properties"]
    for path in ("/me/reports", "/me/points"):
        for name in ("limit", "offset"):
            assert parameters[(path, name)]["maximum"] == page[name]["maximum"]
    assert parameters[("/me/reports/{report_id}", "report_id")]["maximum"] == schemas.MAX_ID
    form = document["components"]["schemas"]["ReportForm"]["properties"]
    assert form["photos"]["maxItems"] == 2
    assert form["photos"]["minItems"] == 1
    assert document["paths"]["/reports"]["post"]["requestBody"]["content"]["multipart/form-data"][
        "encoding"
    ] == {"photos": {"contentType": ", ".join(schemas.PHOTO_TYPES)}}


def test_text_parameters_refuse_control_characters_in_the_document(api_app: Flask) -> None:
    document = _document(api_app)
    schemas_ = document["components"]["schemas"]
    sorting = document["paths"]["/sorting"]["get"]["parameters"]
    assert [p["schema"]["pattern"] for p in sorting if p["name"] == "q"] == [schemas.TEXT_PATTERN]
    assert schemas_["SessionRequest"]["properties"]["code"]["pattern"] == schemas.TEXT_PATTERN
    for name in ("description", "address"):
        assert schemas_["ReportForm"]["properties"][name]["pattern"] == schemas.TEXT_PATTERN


def test_without_categories_the_category_is_text_without_control_characters() -> None:
    from bot.app import load_settings

    settings = load_settings(None, {"secret_key": "k" * 40}, environ={})
    category = openapi.document(settings, [])["components"]["schemas"]["ReportForm"]["properties"]["category"]
    assert category["pattern"] == schemas.TEXT_PATTERN
    assert (
        category["maxLength"]
        == schemas.ReportFields.model_json_schema()["properties"]["category"]["maxLength"]
    )


def test_every_error_response_is_the_error_schema(api_app: Flask) -> None:
    document = _document(api_app)
    error_ref = {"$ref": f"#/components/schemas/{Error.__name__}"}
    for method, path, operation in _operations(document):
        errors = {status for status in operation["responses"] if status >= "400"}
        assert errors, f"{method} {path}"
        for status in errors:
            response = _resolve(document, operation["responses"][status])
            assert response["content"]["application/json"]["schema"] == error_ref, f"{method} {path} {status}"
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["required"] is True
    error = document["components"]["schemas"]["ErrorDetail"]
    assert error["properties"]["code"]["enum"] == list(STATUS)
    assert error["required"] == ["code", "message", "details"]
    # one response component per status the API answers with
    statuses = {str(status) for status in STATUS.values()}
    assert {name for name, _ in openapi.ERRORS.values()} == set(document["components"]["responses"])
    assert statuses == {str(status) for status in openapi.ERRORS}


def test_every_ref_resolves(api_app: Flask) -> None:
    document = _document(api_app)
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        *_, kind, name = ref.split("/")
        assert name in document["components"][kind], ref
    assert "$defs" not in text

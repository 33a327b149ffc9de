"""The OpenAPI 3.1 document of /api/v1, written by hand and kept true by tests (schemathesis runs
it against the live app; a test holds its paths equal to the blueprint's routes).

Two parts come from the running app: the report categories (an enum of the active codes) and the
limits that depend on settings (photos per report, the largest ``limit`` of a nearest search).
"""

from __future__ import annotations

from typing import Any

from bot.config import Settings

REF = "#/components"
MAX_ID = 2**31 - 1
PHONE_PATTERN = r"^(?:(?:\+|00)?86)?1[3-9][0-9]{9}$"
IDEMPOTENCY_PATTERN = r"^[\x21-\x7e]{1,128}$"
KINDS = ["bike", "vendor", "toilet", "watermelon"]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{REF}/{kind}/{name}"}


# Text parameters hold no control characters (tab, line feed and carriage return are text): any value
# that does is refused with 422 (``bot.inputs``).
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(schema)}
    if headers:
        response["headers"] = headers
    return response


def _errors(*statuses: int) -> dict[str, Any]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        413: "TooLarge",
        415: "UnsupportedMediaType",
        422: "Unprocessable",
        429: "TooManyRequests",
        503: "Unavailable",
    }
    return {str(status): _ref("responses", names[status]) for status in statuses}


def _query(
    name: str, schema: dict[str, Any], *, required: bool = False, description: str = ""
) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


PAGE = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0}),
]


def _session_request(settings: Settings) -> dict[str, Any]:
    """``program`` names one of the configured mini programs (by name or app id); it may be left
    out only when there is exactly one."""
    programs = settings.miniprogram.programs
    program: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "pattern": TEXT_PATTERN,
        "description": "The mini program's name or app id (or send the X-Mini-Program header).",
    }
    if programs:
        program = {
            "enum": [p.name for p in programs] + [p.app_id for p in programs],
            "description": program["description"],
        }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["code"] if len(programs) == 1 else ["code", "program"],
        "properties": {
            "code": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "pattern": TEXT_PATTERN,
                "description": "From wx.login.",
            },
            "program": program,
        },
    }


def _schemas(settings: Settings, categories: list[str]) -> dict[str, Any]:
    nullable_string = {"type": ["string", "null"]}
    timestamp = {"type": "string", "format": "date-time"}
    category_enum: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "maxLength": 32,
        "pattern": TEXT_PATTERN,
    }
    if categories:
        category_enum = {"type": "string", "enum": categories}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string", "description": "For residents, in Chinese."},
                        "details": {"description": "More about the error, or null."},
                    },
                }
            },
        },
        "SessionRequest": _session_request(settings),
        "Session": {
            "type": "object",
            "required": ["token", "token_type", "expires_in", "expires_at", "program"],
            "properties": {
                "token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer"},
                "expires_at": timestamp,
                "program": {"type": "string"},
            },
        },
        "Place": {
            "type": "object",
            "required": [
                "id",
                "name",
                "address",
                "lat",
                "lon",
                "datum",
                "distance_m",
                "walking_minutes",
                "open_status",
                "opening_hours",
                "capacity",
                "within_radius",
                "navigation_url",
            ],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "address": {"type": "string"},
                "lat": {"type": "number"},
                "lon": {"type": "number"},
                "datum": {"enum": ["gcj02", "wgs84"]},
                "distance_m": {"type": "integer", "minimum": 0},
                "walking_minutes": {"type": "integer", "minimum": 1},
                "open_status": {"enum": ["open", "closed", "unknown", None]},
                "opening_hours": nullable_string,
                "capacity": {"type": ["integer", "null"]},
                "within_radius": {"type": "boolean"},
                "navigation_url": {"type": "string", "format": "uri"},
            },
        },
        "Nearest": {
            "type": "object",
            "required": ["kind", "label", "datum", "radius_m", "has_dataset", "in_season", "places"],
            "properties": {
                "kind": {"enum": KINDS},
                "label": {"type": "string"},
                "datum": {"enum": ["gcj02", "wgs84"]},
                "radius_m": {"type": "number"},
                "has_dataset": {"type": "boolean"},
                "in_season": {"type": "boolean"},
                "places": {"type": "array", "items": _ref("schemas", "Place")},
            },
        },
        "Report": {
            "type": "object",
            "required": [
                "id",
                "number",
                "status",
                "status_text",
                "category",
                "location",
                "address",
                "description",
                "reason_code",
                "reason",
                "duplicate_of",
                "points",
                "photos",
                "created_at",
                "updated_at",
            ],
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "status": {
                    "enum": [
                        "submitted",
                        "under_review",
                        "accepted",
                        "rejected",
                        "duplicate",
                        "resolved",
                        "closed",
                    ]
                },
                "status_text": {"type": "string"},
                "category": {
                    "type": "object",
                    "required": ["code", "name"],
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                },
                "location": {
                    "type": "object",
                    "required": ["lat", "lon", "datum"],
                    "properties": {
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "datum": {"type": "string"},
                    },
                },
                "address": {"type": "string"},
                "description": {"type": "string"},
                "reason_code": nullable_string,
                "reason": nullable_string,
                "duplicate_of": nullable_string,
                "points": {"type": "integer"},
                "photos": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["position", "status", "width", "height"],
                        "properties": {
                            "position": {"type": "integer"},
                            "status": {"type": "string"},
                            "width": {"type": ["integer", "null"]},
                            "height": {"type": ["integer", "null"]},
                        },
                    },
                },
                "created_at": timestamp,
                "updated_at": timestamp,
            },
        },
        "ReportForm": {
            "type": "object",
            "additionalProperties": False,
            "required": ["category", "lat", "lon", "photos"],
            "properties": {
                "category": category_enum,
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "datum": {"enum": ["gcj02", "wgs84"], "default": "gcj02"},
                "description": {"type": "string", "maxLength": 500, "pattern": TEXT_PATTERN},
                "address": {"type": "string", "maxLength": 255, "pattern": TEXT_PATTERN},
                "photos": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": settings.reports.max_photos,
                    "items": {"type": "string", "format": "binary"},
                },
            },
        },
        "Category": {
            "type": "object",
            "required": ["code", "name", "points", "review_hours"],
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "points": {"type": "integer"},
                "review_hours": {"type": "integer"},
            },
        },
        "LedgerEntry": {
            "type": "object",
            "required": ["id", "kind", "points", "label", "report_number", "created_at"],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"enum": ["earn", "reverse", "payout"]},
                "points": {"type": "integer"},
                "label": {"type": "string"},
                "report_number": nullable_string,
                "created_at": timestamp,
            },
        },
        "Points": {
            "type": "object",
            "required": ["balance", "phone", "entries"],
            "properties": {
                "balance": {"type": "integer"},
                "phone": {"type": ["string", "null"], "description": "Masked, e.g. 138****8000."},
                "entries": {"type": "array", "items": _ref("schemas", "LedgerEntry")},
            },
        },
        "WasteCategory": {
            "type": "object",
            "required": ["code", "name", "guidance"],
            "properties": {
                "code": {"enum": ["recyclable", "hazardous", "kitchen", "residual"]},
                "name": {"type": "string"},
                "guidance": {"type": "string"},
            },
        },
        "WasteItem": {
            "type": "object",
            "required": ["name", "note", "category"],
            "properties": {
                "name": {"type": "string"},
                "note": nullable_string,
                "category": _ref("schemas", "WasteCategory"),
            },
        },
        "Sorting": {
            "type": "object",
            "required": ["query", "match", "suggestions", "categories"],
            "properties": {
                "query": {"type": "string"},
                "match": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "allOf": [
                                _ref("schemas", "WasteItem"),
                                {
                                    "type": "object",
                                    "required": ["score", "exact"],
                                    "properties": {"score": {"type": "number"}, "exact": {"type": "boolean"}},
                                },
                            ]
                        },
                    ]
                },
                "suggestions": {"type": "array", "items": _ref("schemas", "WasteItem")},
                "categories": {"type": "array", "items": _ref("schemas", "WasteCategory")},
            },
        },
    }


def _responses() -> dict[str, Any]:
    error = _json(_ref("schemas", "Error"))
    retry_after = {
        "Retry-After": {"required": True, "schema": {"type": "string"}, "description": "Seconds to wait."}
    }
    return {
        "BadRequest": {"description": "The request is malformed.", "content": error},
        "Unauthorized": {
            "description": "Token missing, expired or invalid (token_missing, token_expired, token_invalid), "
            "or a login code WeChat refused (invalid_code).",
            "content": error,
        },
        "Forbidden": {"description": "WeChat refuses to log this user in.", "content": error},
        "NotFound": {"description": "No such resource, or not yours.", "content": error},
        "Conflict": {
            "description": "A request with this Idempotency-Key is still running.",
            "content": error,
        },
        "TooLarge": {"description": "The request body or a photo is too large.", "content": error},
        "UnsupportedMediaType": {
            "description": "The body's content type, or a photo's real type (JPEG, PNG, WebP only).",
            "content": error,
        },
        "Unprocessable": {
            "description": "A field is missing or invalid (a control character in any value included); "
            "details lists them.",
            "content": error,
        },
        "TooManyRequests": {
            "description": "A rate limit was reached.",
            "content": error,
            "headers": retry_after,
        },
        "Unavailable": {
            "description": "WeChat could not be reached.",
            "content": error,
            "headers": retry_after,
        },
    }


def document(settings: Settings, categories: list[str]) -> dict[str, Any]:
    """The OpenAPI document, with the active report categories."""
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    common = (401, 413, 422, 429)  # 422: any parameter with a control character
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "citybot mini-program API",
            "version": "1.0.0",
            "description": "The API of the bureau's mini programs (垃圾分类助手, 文明随手拍). "
            'Every error has the shape {"error": {"code", "message", "details"}}; message is for residents.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": bearer,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": _schemas(settings, categories),
            "responses": _responses(),
        },
        "paths": {
            "/session": {
                "post": {
                    "operationId": "createSession",
                    "summary": "Exchange a wx.login code for a token.",
                    "security": [],
                    "parameters": [
                        {
                            "name": "X-Mini-Program",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                        }
                    ],
                    "requestBody": {"required": True, "content": _json(_ref("schemas", "SessionRequest"))},
                    "responses": {
                        "201": _ok("A token for the Authorization header.", _ref("schemas", "Session")),
                        **_errors(400, 401, 403, 413, 415, 422, 429, 503),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": _ok("The OpenAPI document.", {"type": "object"}),
                        **_errors(413, 422, 429),
                    },
                }
            },
            "/places/nearest": {
                "get": {
                    "operationId": "nearestPlaces",
                    "summary": "The nearest facilities of a kind.",
                    "parameters": [
                        _query("kind", {"enum": KINDS}, required=True),
                        _query("lat", {"type": "number", "minimum": -90, "maximum": 90}, required=True),
                        _query("lon", {"type": "number", "minimum": -180, "maximum": 180}, required=True),
                        _query("datum", {"enum": ["gcj02", "wgs84"], "default": "gcj02"}),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 1, "maximum": settings.miniprogram.nearest_max},
                        ),
                    ],
                    "responses": {
                        "200": _ok("Nearest first.", _ref("schemas", "Nearest")),
                        **_errors(*common),
                    },
                }
            },
            "/reports": {
                "post": {
                    "operationId": "createReport",
                    "summary": "Submit a 文明随手拍 report with up to the configured number of photos.",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "pattern": IDEMPOTENCY_PATTERN},
                            "description": "A retried request with the same key creates no second report.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": _ref("schemas", "ReportForm"),
                                "encoding": {"photos": {"contentType": "image/jpeg, image/png, image/webp"}},
                            }
                        },
                    },
                    "responses": {
                        "201": _ok(
                            "The report (also when replayed for the same Idempotency-Key).",
                            _ref("schemas", "Report"),
                            {"Location": {"required": True, "schema": {"type": "string"}}},
                        ),
                        **_errors(*common, 400, 409, 415),
                    },
                }
            },
            "/me/reports": {
                "get": {
                    "operationId": "myReports",
                    "summary": "Your reports, newest first.",
                    "parameters": PAGE,
                    "responses": {
                        "200": _ok(
                            "Your reports.",
                            {
                                "type": "object",
                                "required": ["reports"],
                                "properties": {
                                    "reports": {"type": "array", "items": _ref("schemas", "Report")}
                                },
                            },
                        ),
                        **_errors(*common),
                    },
                }
            },
            "/me/reports/{report_id}": {
                "get": {
                    "operationId": "myReport",
                    "summary": "One of your reports (anyone else's is not found).",
                    "parameters": [
                        {
                            "name": "report_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        }
                    ],
                    "responses": {
                        "200": _ok("The report.", _ref("schemas", "Report")),
                        **_errors(*common, 404),
                    },
                }
            },
            "/me/points": {
                "get": {
                    "operationId": "myPoints",
                    "summary": "Your points balance and ledger, newest first.",
                    "parameters": PAGE,
                    "responses": {
                        "200": _ok("Balance and entries.", _ref("schemas", "Points")),
                        **_errors(*common),
                    },
                }
            },
            "/me/phone": {
                "put": {
                    "operationId": "bindPhone",
                    "summary": "The mobile number that receives phone credit for your points.",
                    "requestBody": {
                        "required": True,
                        "content": _json(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["phone"],
                                "properties": {"phone": {"type": "string", "pattern": PHONE_PATTERN}},
                            }
                        ),
                    },
                    "responses": {
                        "200": _ok(
                            "Bound; the number is shown masked.",
                            {
                                "type": "object",
                                "required": ["phone"],
                                "properties": {"phone": {"type": "string"}},
                            },
                        ),
                        **_errors(*common, 400, 415),
                    },
                }
            },
            "/categories": {
                "get": {
                    "operationId": "categories",
                    "summary": "Report categories.",
                    "responses": {
                        "200": _ok(
                            "Active categories, in menu order.",
                            {
                                "type": "object",
                                "required": ["categories"],
                                "properties": {
                                    "categories": {"type": "array", "items": _ref("schemas", "Category")}
                                },
                            },
                        ),
                        **_errors(*common),
                    },
                }
            },
            "/sorting": {
                "get": {
                    "operationId": "sorting",
                    "summary": "Which bin an item goes in (垃圾分类).",
                    "parameters": [
                        _query(
                            "q",
                            {"type": "string", "minLength": 1, "maxLength": 64, "pattern": TEXT_PATTERN},
                            required=True,
                        )
                    ],
                    "responses": {
                        "200": _ok("The answer.", _ref("schemas", "Sorting")),
                        **_errors(*common),
                    },
                }
            },
        },
    }

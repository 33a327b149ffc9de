"""One error shape for the whole /api/v1 API, Flask's own errors included:

    {"error": {"code": "token_expired", "message": "登录已过期，请重新登录。", "details": null}}

``code`` is stable (clients branch on it), ``message`` is for residents (the catalogue's
``api.errors.<code>``, or, when a domain refused, that refusal's own sentence), ``details`` says more
where it helps (fields that failed validation, a limit).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app, jsonify
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException

from bot.core import services
from bot.core.errors import DomainError, render

log = logging.getLogger("citybot.api")

# Status of each code; every code has a sentence under [api.errors] in miniprogram_api/texts.toml.
STATUS: dict[str, int] = {
    "bad_request": 400,
    "token_missing": 401,
    "token_invalid": 401,
    "token_expired": 401,
    "invalid_code": 401,
    "login_refused": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "idempotency_in_progress": 409,
    "request_too_large": 413,
    "photo_too_large": 413,
    "unsupported_media_type": 415,
    "unsupported_photo_type": 415,
    "validation_failed": 422,
    "unknown_program": 422,
    "unknown_category": 422,
    "invalid_photo": 422,
    "invalid_phone": 422,
    "idempotency_key_reused": 422,
    "rate_limited": 429,
    "report_limit_hour": 429,
    "report_limit_day": 429,
    "internal_error": 500,
    "wechat_unavailable": 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "token_invalid",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


class ErrorDetail(BaseModel):
    code: str = Field(json_schema_extra={"enum": list(STATUS)})
    message: str = Field(description="For residents, in Chinese.")
    details: Any = Field(description="More about the error, or null.")


class Error(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """Raised by views and hooks; rendered in the one error shape."""

    def __init__(
        self,
        code: str,
        details: Any = None,
        *,
        headers: dict[str, str] | None = None,
        message_values: dict[str, Any] | None = None,
        refusal: DomainError | None = None,
    ) -> None:
        super().__init__(code)
        if code not in STATUS:
            raise ValueError(f"unknown API error code {code}")
        self.code = code
        self.status = STATUS[code]
        self.details = details
        self.headers = headers or {}
        self.message_values = message_values or {}
        self.refusal = refusal


def error_response(
    code: str,
    details: Any = None,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
    message_values: dict[str, Any] | None = None,
    refusal: DomainError | None = None,
) -> Response:
    texts = services.texts(current_app)
    if refusal is not None:
        message = render(texts, refusal)
    else:
        message = texts(f"api.errors.{code}", **(message_values or {}))
    body = Error(error=ErrorDetail(code=code, message=message, details=details))
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status or STATUS[code]
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="citybot"')
    return response


def render_api_error(exc: ApiError) -> Response:
    return error_response(
        exc.code, exc.details, headers=exc.headers, message_values=exc.message_values, refusal=exc.refusal
    )


def render_http_exception(exc: HTTPException) -> Response:
    """Flask's and werkzeug's errors (404, 405, 413, ...) in the API's shape, with their headers."""
    status = exc.code or 500
    code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    headers = {
        name: value
        for name, value in exc.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    return error_response(code, None, status=status, headers=headers)


def render_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return render_http_exception(exc)
    log.exception("unexpected error in the mini-program API")
    return error_response("internal_error")

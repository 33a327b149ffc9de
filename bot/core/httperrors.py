"""HTTP errors by path prefix: each API renders errors in its own format (JSON for /api/v1, the
Open311 shapes for /open311), including Flask's own 404, 405 and 413 raised before any view runs.

Routing errors happen before a blueprint is known, so blueprint error handlers never see them. One
app-level handler looks up the renderer registered for the request path's prefix and otherwise
lets Flask render the error as usual.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from bot.core import services

Renderer = Callable[[HTTPException], Response]


def register(app: Flask, prefix: str, renderer: Renderer) -> None:
    """Render HTTP errors of requests whose path starts with ``prefix`` with ``renderer``."""
    renderers = services.of(app).error_renderers
    if not renderers:
        app.register_error_handler(HTTPException, _render)
    renderers[prefix.rstrip("/")] = renderer


def renderer_for(app: Flask, path: str) -> Renderer | None:
    renderers = services.of(app).error_renderers
    for prefix in sorted(renderers, key=len, reverse=True):
        if path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "."):
            return renderers[prefix]
    return None


def _render(exc: HTTPException) -> Response | HTTPException:
    renderer = renderer_for(current_app, request.path)
    return exc if renderer is None else renderer(exc)

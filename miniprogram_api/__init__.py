"""The ``/api/v1`` REST API of the bureau's mini programs (垃圾分类助手, 文明随手拍).

An adapter like the chat handlers: views parse and check requests, call the same domain functions
(geodata, reports, waste) with the same limits and audit, and commit once per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniprogram_api import views

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    views.init_app(app)

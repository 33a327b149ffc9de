"""citybot: the WeChat service-account backend of a city-management bureau.

``gunicorn 'bot:create_app()'`` serves it. The factory lives in the composition root, bot.app;
this package only names it. It is loaded on first use (PEP 562) because importing any kernel
module imports this package first, and the root imports every feature: loading it here eagerly
would make ``import staff.models`` import itself through the features list.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        return importlib.import_module("bot.app").create_app
    raise AttributeError(f"module 'bot' has no attribute {name!r}")

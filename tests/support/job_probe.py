"""A job for tests: leaves a mark in the store of the app it runs in."""

from __future__ import annotations

from flask import current_app

from bot.core import services


def remember(key: str, value: str) -> None:
    services.store(current_app).set(f"probe:{key}", value, ttl=60)

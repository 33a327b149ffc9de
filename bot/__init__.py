"""citybot: the WeChat service-account backend of a city-management bureau."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from bot.core.config import Settings, load_settings

__all__ = ["create_app"]

log = logging.getLogger("citybot")


def create_app(overrides: Mapping[str, Any] | None = None, *, config_path: str | None = None) -> Flask:
    """The only application factory: settings, then each subsystem's init_app, then blueprints."""
    settings: Settings = load_settings(config_path, overrides)
    app = Flask(__name__, instance_path=None)
    app.config["CITYBOT"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    _configure_logging(settings)

    import console
    import miniprogram_api
    import open311
    import reports
    from bot.chat import health, webhook
    from bot.core import database, jobs, services

    services.install(app, settings)
    database.init_app(app)
    services.init_app(app)
    jobs.init_app(app)
    reports.init_app(app)
    webhook.init_app(app)
    health.init_app(app)
    miniprogram_api.init_app(app)
    open311.init_app(app)
    console.init_app(app)
    return app


def _configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("citybot")
    logger.setLevel(settings.logging.level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)

"""The composition root: ``create_app`` builds one app from the kernel and the features list.

Nothing below this module names it; it is the only place that knows every feature.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any

from flask import Flask
from sqlalchemy import MetaData
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.chat.engine import use_routers
from bot.chat.routing import Handler
from bot.core import config, database, jobs, services
from bot.core.config import Settings
from bot.core.feature import Feature
from bot.core.texts import Texts
from bot.features import FALLBACK, FEATURES

__all__ = [
    "FEATURES",
    "catalogues",
    "create_app",
    "load_settings",
    "load_texts",
    "metadata",
    "settings_model",
]

log = logging.getLogger("citybot")


def settings_model(features: Sequence[Feature] = FEATURES) -> type[Settings]:
    """The settings of an app made of ``features``: the kernel's plus every feature's sections."""
    return config.compose(dict(section for feature in features for section in feature.sections))


_MODEL = settings_model()


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    features: Sequence[Feature] = FEATURES,
) -> Settings:
    """Validated settings of the whole app: defaults, the TOML file, CITYBOT_* variables, overrides."""
    model = _MODEL if features is FEATURES else settings_model(features)
    return config.load(model, path, overrides, environ)


def catalogues(features: Sequence[Feature] = FEATURES) -> list[Traversable]:
    """The features' text catalogues, in the list's order."""
    return [feature.texts for feature in features if feature.texts is not None]


def load_texts(override: str | None = None, *, features: Sequence[Feature] = FEATURES) -> Texts:
    """The whole catalogue of an app made of ``features`` (the one ``create_app`` builds)."""
    return Texts.load(override, catalogues(features))


def metadata() -> MetaData:
    """Every table of every feature (the features list imported their model modules)."""
    return database.Base.metadata


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_path: str | None = None,
    features: Sequence[Feature] = FEATURES,
    fallback: Handler = FALLBACK,
) -> Flask:
    """The only application factory: settings, the kernel, then each feature in the list's order."""
    settings = load_settings(config_path, overrides, features=features)
    app = Flask("bot", instance_path=None)
    app.config["CITYBOT"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    _configure_logging(settings)

    container = services.install(app, settings)
    database.init_app(app)
    services.init_app(app, catalogues(features))
    jobs.init_app(app)
    container.sweepers = [sweeper for feature in features for sweeper in feature.sweepers]
    use_routers(app, [router for feature in features for router in feature.routers], fallback)
    for feature in features:
        if feature.init_app is not None:
            feature.init_app(app)
    return app


def _configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("citybot")
    logger.setLevel(settings.logging.level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)

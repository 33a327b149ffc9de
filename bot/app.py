"""The composition root: ``create_app`` builds one app from the kernel and the features list.

Nothing below this module names it; it is the only place that knows every feature.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any

from flask import Flask, Response, render_template_string, request
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
    announce_store: bool = True,
) -> Flask:
    """The only application factory: settings, the kernel, then each feature in the list's order.

    ``announce_store``: log the in-process store's one-process warning (a server's start); the
    command line builds its apps without it."""
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
    app.add_url_rule("/", "home", _home)
    if announce_store:
        services.announce_store(app)
    return app


# The page at /: what a newcomer who opens the server's address sees, worded from the catalogue.
_HOME_STYLE = (
    "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;max-width:46rem;"
    "margin:3rem auto;padding:0 1rem;color:#1f2933;line-height:1.6}"
    "h1{font-size:1.6rem}ul{padding:0;list-style:none}li{margin:.9rem 0}"
    "a{font-size:1.1rem;color:#0b5cad}small{display:block;color:#52606d}"
    ".demo{background:#fff7e0;border-left:4px solid #f0b429;padding:.6rem 1rem}code{background:#eef2f7}"
)
_HOME_CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(_HOME_STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_HOME = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t("home.title") }}</title><style>{{ style|safe }}</style></head>
<body><main>
<h1>{{ t("home.title") }}</h1>
<p>{{ t("home.intro") }}</p>
{% if demo %}<p class="demo">{{ t("home.demo") }}</p>{% endif %}
<ul>
{% for href, label, hint in links %}<li><a href="{{ href }}">{{ t(label) }}</a><small>{{ hint }}</small></li>
{% endfor %}</ul>
<p>{{ t("home.wechat") }}：<code>{{ webhook }}</code><small>{{ t("home.wechat_hint") }}</small></p>
</main></body></html>
"""


def _home() -> Response:
    texts = services.texts()
    webhook = request.url_root.rstrip("/") + "/wechat"
    links = [
        ("/console/", "home.console", texts("home.console_hint")),
        ("/api/v1/openapi.json", "home.api", texts("home.api_hint")),
        ("/open311/v2/discovery.json", "home.open311", texts("home.open311_hint")),
        ("/readyz", "home.health", texts("home.health_hint")),
    ]
    page = render_template_string(
        _HOME, t=texts, style=_HOME_STYLE, demo=services.settings().demo, links=links, webhook=webhook
    )
    return Response(
        page, content_type="text/html; charset=utf-8", headers={"Content-Security-Policy": _HOME_CSP}
    )


def _configure_logging(settings: Settings) -> None:
    logger = logging.getLogger("citybot")
    logger.setLevel(settings.logging.level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)

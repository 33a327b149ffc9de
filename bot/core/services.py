"""Process-wide services built once per app: the store, the text catalogue, the engine, ...

They live in one typed container, :class:`Services`, stored under the single key
``app.extensions["citybot"]`` and read through :func:`of` (or the accessors below), so nothing
connects at import time and tests can build as many isolated apps as they like.

The kernel's own services are attributes. Every layer above keeps its services in a dataclass of
its own (the chat engine's ``ChatServices``, the reports feature's ``ReportsServices``, ...) that it
puts in the container once and reads back by its type: ``services.of(app).get(ReportsServices)``.
The kernel names none of them. A test replaces a service by assigning the attribute of its part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, current_app

from bot.core.config import Settings
from bot.core.store import InProcessStore, Store, make_store
from bot.core.texts import Texts

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker
    from werkzeug.exceptions import HTTPException

    from bot.core.feature import Sweeper
    from bot.core.queue import JobQueue

log = logging.getLogger("citybot.services")

KEY = "citybot"

T = TypeVar("T")


@dataclass(eq=False)
class Services:
    """Every service of one app: the kernel's as attributes, the other layers' as typed parts.

    The attributes without a default are set by their subsystem's ``init_app`` during
    ``create_app`` (reading one before that raises AttributeError).
    """

    settings: Settings
    # bot.core.database
    engine: Engine = field(init=False)
    sessionmaker: sessionmaker[Session] = field(init=False)
    # bot.core.services
    store: Store = field(init=False)
    texts: Texts = field(init=False)
    # bot.core.jobs, and the features' sweepers of due work (citybot jobs run-due)
    jobs: JobQueue = field(init=False)
    sweepers: list[Sweeper] = field(default_factory=list)
    # bot.core.httperrors: path prefix -> renderer
    error_renderers: dict[str, Callable[[HTTPException], Response]] = field(default_factory=dict)
    _parts: dict[type, Any] = field(default_factory=dict, repr=False)

    def put(self, part: T) -> T:
        """Keep ``part`` under its own type (one part per type); returns it."""
        kind = type(part)
        if kind in self._parts:
            raise RuntimeError(f"{kind.__name__} is already in the container")
        self._parts[kind] = part
        return part

    def get(self, kind: type[T]) -> T:
        """The part of type ``kind``; LookupError when its layer did not put one."""
        try:
            part: T = self._parts[kind]
        except KeyError:
            raise LookupError(f"no {kind.__name__} in the container (is its feature in the list?)") from None
        return part


def install(app: Flask, settings: Settings) -> Services:
    """Put an empty container on ``app`` (the first step of ``create_app``)."""
    container = Services(settings=settings)
    app.extensions[KEY] = container
    return container


def of(app: Flask | None = None) -> Services:
    """The services of ``app`` (the current app when None)."""
    target: Flask = app if app is not None else current_app._get_current_object()  # type: ignore[attr-defined]
    container: Services = target.extensions[KEY]
    return container


def init_app(app: Flask, texts: Sequence[Traversable] = ()) -> None:
    """The store, and the text catalogue: the kernel's sentences plus ``texts`` (the features')."""
    container = of(app)
    container.store = make_store(container.settings)
    container.texts = Texts.load(container.settings.texts.file or None, texts)


def announce_store(app: Flask) -> None:
    """Say once, when a server starts, that the in-process store serves this one process only.

    The composition root calls it for an app that serves (gunicorn's ``bot:create_app()``); the
    command line builds its apps without it, so a command does not repeat the warning."""
    if isinstance(of(app).store, InProcessStore):
        log.warning(
            "redis_url is empty: using the in-process store, which serves ONE process only; "
            "set redis_url before running several workers"
        )


def settings(app: Flask | None = None) -> Settings:
    return of(app).settings


def store(app: Flask | None = None) -> Store:
    return of(app).store


def texts(app: Flask | None = None) -> Texts:
    return of(app).texts

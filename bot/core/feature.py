"""What a feature brings to the app, declared once: the composition root's features list holds one
:class:`Feature` per feature, and every part of the app is registered from that list alone.

The kernel names no feature: it reads the list it is given. A feature's descriptor may name parts
of every layer (its chat routers, console pages, commands), which is why descriptors are built by
the composition root (``bot/features.py``), not by the feature's domain package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from types import ModuleType
from typing import Any

import click
from flask import Flask

from bot.core.config import Section

# A sweeper runs the due work its feature recorded in the database (``citybot jobs run-due``);
# it returns how many items it handled.
Sweeper = Callable[[Flask], int]


@dataclass(frozen=True)
class Feature:
    name: str
    # (``[section]`` in the configuration, its model); code reads one as settings.section(model).
    sections: Sequence[tuple[str, type[Section]]] = ()
    # Modules that declare the feature's tables: Alembic and create_all see exactly these.
    models: Sequence[ModuleType] = ()
    # Called by create_app once the kernel is up: services, blueprints, error renderers.
    init_app: Callable[[Flask], None] | None = None
    # Chat routers (bot.chat.routing.Router), tried in the features list's order.
    routers: Sequence[Any] = ()
    sweepers: Sequence[Sweeper] = ()
    commands: Sequence[click.Command] = ()
    # The feature's sentences (its package's texts.toml, under its own namespace).
    texts: Traversable | None = None

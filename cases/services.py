"""The cases feature's services, one part of the app's container:
``services.of(app).get(CasesServices)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from bot.core import services
from broadcasts.screening import Lexicon, load_lexicon
from cases.settings import CasesSettings
from reports.notify import Sender


@dataclass(eq=False)
class CasesServices:
    """The platform the delivery job talks to: ``wechat`` gives the app's client (wired by the
    composition root); ``sender`` stays None in production, a test sets it to be used instead."""

    wechat: Callable[[], Sender]
    sender: Sender | None = None

    def send(self) -> Sender:
        return self.sender or self.wechat()


def lexicon_for(app: Flask) -> Lexicon:
    """The screening lexicon (broadcasts' format and normalisation): ``[cases] lexicon_file``."""
    return load_lexicon(services.settings(app).section(CasesSettings).lexicon_file)


def init_app(app: Flask, wechat: Callable[[Flask], Sender]) -> None:
    lexicon_for(app)  # a broken lexicon file stops start-up, naming the file
    services.of(app).put(CasesServices(wechat=lambda: wechat(app)))

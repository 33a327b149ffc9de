"""A feature joins the app through the features list alone: its settings section, its table, its
chat router, its page, its sweeper and its command, with no line changed anywhere else."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from bot import create_app
from bot.app import FEATURES, load_settings, metadata
from bot.cli import build
from bot.core import jobs, services
from bot.core.feature import Feature
from bot.migrations import upgrade
from tests.conftest import SECRET_ENV
from tests.support.wechat import simulator_for

pytestmark = pytest.mark.integration

PACKAGE = {
    "__init__.py": '"""A throwaway feature: animals of the city zoo."""\n',
    "settings.py": """
        from bot.core.config import Section

        class ZooSettings(Section):
            greeting: str = "欢迎来到动物园"
        """,
    "models.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from bot.core.database import Base

        class Animal(Base):
            __tablename__ = "zoo_animals"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(32))
        """,
    "chat.py": """
        from sqlalchemy import func, select

        from bot.chat.replies import Text
        from bot.chat.routing import Router
        from zoo.models import Animal
        from zoo.settings import ZooSettings

        router = Router(__name__)

        @router.text("动物园")
        def greet(msg, ctx):
            count = ctx.session.scalar(select(func.count()).select_from(Animal))
            return Text(f"{ctx.settings.section(ZooSettings).greeting}：{count}")
        """,
    "web.py": """
        from flask import Blueprint

        from bot.core import services
        from zoo.settings import ZooSettings

        bp = Blueprint("zoo", __name__, url_prefix="/zoo")

        @bp.get("/")
        def index():
            return services.settings().section(ZooSettings).greeting

        def init_app(app):
            app.register_blueprint(bp)

        SWEPT = []

        def sweep(app):
            SWEPT.append(app)
            return 3
        """,
    "cli.py": """
        import click

        from cli.env import Env, pass_env
        from zoo.settings import ZooSettings

        @click.command("zoo")
        @pass_env
        def zoo(env: Env) -> None:
            click.echo(env.settings().section(ZooSettings).greeting)
        """,
}


_LOADED: dict[str, ModuleType] = {}


@pytest.fixture
def zoo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    # Written and imported once per process: a declarative class is declared only once. Its table
    # is in the shared metadata only while a test of this module runs, so that the other tests
    # (the migrations' comparison with the models) never see it.
    if not _LOADED:
        root = tmp_path_factory.mktemp("packages") / "zoo"
        root.mkdir()
        for name, source in PACKAGE.items():
            (root / name).write_text(textwrap.dedent(source), encoding="utf-8")
        sys.path.insert(0, str(root.parent))
        try:
            for name in ("settings", "models", "chat", "web", "cli"):
                _LOADED[name] = importlib.import_module(f"zoo.{name}")
        finally:
            sys.path.remove(str(root.parent))
    if "zoo_animals" not in metadata().tables:
        _LOADED["models"].Animal.__table__.to_metadata(metadata())
    yield _LOADED
    metadata().remove(metadata().tables["zoo_animals"])


def the_feature(zoo: dict[str, ModuleType]) -> Feature:
    return Feature(
        "zoo",
        sections=[("zoo", zoo["settings"].ZooSettings)],
        models=[zoo["models"]],
        init_app=zoo["web"].init_app,
        routers=[zoo["chat"].router],
        sweepers=[zoo["web"].sweep],
        commands=[zoo["cli"].zoo],
    )


def zoo_app(base_overrides: dict[str, Any], features: list[Feature]) -> Flask:
    overrides = {**base_overrides, "zoo": {"greeting": "动物园开门了"}}
    upgrade(load_settings(None, overrides, environ={}, features=features))
    app = create_app(overrides, features=features)
    metadata().create_all(services.of(app).engine, tables=[metadata().tables["zoo_animals"]])
    return app


def test_a_feature_joins_through_the_list_alone(
    zoo: dict[str, ModuleType], base_overrides: dict[str, Any]
) -> None:
    features = [*FEATURES, the_feature(zoo)]
    app = zoo_app(base_overrides, features)
    try:
        # its settings section, validated with the rest
        assert app.config["CITYBOT"].section(zoo["settings"].ZooSettings).greeting == "动物园开门了"
        # its table, in the one metadata the migrations and create_all see
        assert "zoo_animals" in metadata().tables
        # its chat router, tried with the others
        reply = simulator_for(app).send(simulator_for(app).text("visitor-1", "动物园"))
        assert reply.text == "动物园开门了：0"
        # its page
        assert app.test_client().get("/zoo/").get_data(as_text=True) == "动物园开门了"
        # its sweeper of due work
        done = jobs.run_due(app)
        assert done["zoo.web.sweep"] == 3
        assert zoo["web"].SWEPT[-1] is app
        # the other features still answer
        assert simulator_for(app).send(simulator_for(app).text("visitor-1", "帮助")).text
    finally:
        services.of(app).engine.dispose()


def test_its_command_joins_the_command_line(
    zoo: dict[str, ModuleType], base_overrides: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "zoo.toml"
    config.write_text('demo = true\n[zoo]\ngreeting = "命令行也认识它"\n', encoding="utf-8")
    group = build([*FEATURES, the_feature(zoo)])

    result = CliRunner(env=SECRET_ENV).invoke(group, ["--config", str(config), "zoo"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "命令行也认识它"


def test_without_it_the_app_knows_nothing_of_it(
    zoo: dict[str, ModuleType], base_overrides: dict[str, Any]
) -> None:
    upgrade(load_settings(None, base_overrides, environ={}))
    app = create_app(base_overrides)
    try:
        with pytest.raises(LookupError):
            app.config["CITYBOT"].section(zoo["settings"].ZooSettings)
        assert app.test_client().get("/zoo/").status_code == 404
        assert "zoo" not in build().commands
        assert "zoo.web.sweep" not in jobs.run_due(app)
    finally:
        services.of(app).engine.dispose()

"""The [miniprogram] settings: a list of mini programs, from the file or from the environment."""

from __future__ import annotations

import json

import pytest

from bot.app import load_settings
from bot.core.config import ConfigError
from tests.conftest import SECRET_ENV

pytestmark = pytest.mark.unit

PROGRAMS = [
    {"name": "sorting", "app_id": "wxa", "app_secret": "sa"},
    {"name": "report", "app_id": "wxb", "app_secret": "sb"},
]


def test_programs_from_the_environment_as_json() -> None:
    settings = load_settings(environ={**SECRET_ENV, "CITYBOT_MINIPROGRAM_PROGRAMS": json.dumps(PROGRAMS)})
    mini = settings.miniprogram
    assert [p.name for p in mini.programs] == ["sorting", "report"]
    assert mini.program("report") is mini.programs[1]
    assert mini.program("wxa") is mini.programs[0]  # by app id too
    assert mini.program(None) is None  # two programs: a request must name one
    assert mini.program("nope") is None
    assert "sb" not in repr(mini.programs[1])  # secrets stay out of reprs


def test_one_program_needs_no_name() -> None:
    settings = load_settings(overrides={"miniprogram": {"programs": PROGRAMS[:1]}}, environ=SECRET_ENV)
    assert settings.miniprogram.program("") is settings.miniprogram.programs[0]


@pytest.mark.parametrize(
    ("programs", "message"),
    [
        ("not json", "JSON list"),
        ([PROGRAMS[0], {**PROGRAMS[1], "name": "sorting"}], "share the same name"),
        ([PROGRAMS[0], {**PROGRAMS[1], "app_id": "wxa"}], "share the same app_id"),
        ([{"name": "Bad Name", "app_id": "wx", "app_secret": "s"}], "miniprogram.programs.0.name"),
        ([{"name": "x", "app_id": "", "app_secret": "s"}], "miniprogram.programs.0.app_id"),
    ],
)
def test_bad_programs_stop_start_up(programs: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides={"miniprogram": {"programs": programs}}, environ=SECRET_ENV)

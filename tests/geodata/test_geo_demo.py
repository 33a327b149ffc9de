"""The demo city's datasets pass the checks they are loaded with: no error and no warning."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from importlib import resources

import pytest
from flask import Flask

from bot.app import load_texts
from bot.core.database import session_scope
from geodata.demo import datasets, load_demo
from geodata.describe import describe
from geodata.hours import is_valid
from waste.table import read_table, sample_path

pytestmark = pytest.mark.integration

TEXTS = load_texts()


def test_loading_the_demo_data_warns_about_nothing(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with session_scope(app) as session:
        results = load_demo(session)
    assert len(results) == len(datasets())
    for result in results:
        assert result.ok, result.errors
        assert result.errors == []
        assert result.warnings == [], (result.source_name, [str(w) for w in result.warnings])


@pytest.mark.unit
def test_every_demo_opening_hours_value_parses() -> None:
    seen = 0
    for demo in datasets():
        text = resources.files("geodata.demo").joinpath(demo.file).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            if row["opening_hours"]:
                seen += 1
                assert is_valid(row["opening_hours"]), (demo.file, row["name"], row["opening_hours"])
                assert describe(row["opening_hours"], TEXTS), row["opening_hours"]  # shown in words
    assert seen > 50  # the demo shows opening hours for most facilities


@pytest.mark.unit
def test_the_sample_sorting_table_has_no_problem() -> None:
    assert len(read_table(sample_path().read_bytes())) >= 50

"""The OpenAPI document is kept true: its paths are exactly the blueprint's routes, and schemathesis,
run against the live app with a valid bearer token, finds no server error and no response that
breaks the document (status codes, content types, headers, bodies), for valid and invalid requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from devtools.fake_wechat import FakeWeChat
from geodata.demo import load_demo
from tests.support import images
from tests.support.api_fixtures import log_in
from tests.support.live import serve
from tests.support.reports import unit

pytestmark = pytest.mark.integration

EXAMPLES = 25  # per operation and generation mode; the whole test stays well under a minute
BUDGET_SECONDS = 60


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule).removeprefix("/api/v1")


def test_document_paths_are_the_blueprints_routes(api_app: Flask, login: Callable[..., object]) -> None:
    document = api_app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routed = {
        (_flask_to_openapi(rule.rule), method)
        for rule in api_app.url_map.iter_rules()
        if rule.endpoint.startswith("miniprogram_api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    # categories come from the database: the document lists the active ones
    enum = document["components"]["schemas"]["ReportForm"]["properties"]["category"]["enum"]
    assert "street_vending" in enum


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    make_api_app: Callable[..., Flask], mini_wechat: FakeWeChat
) -> None:
    app = make_api_app(
        miniprogram={
            "requests_per_minute": 100_000,
            "requests_per_minute_ip": 100_000,
            "sessions_per_minute_ip": 100_000,
        },
        reports={"reports_per_hour": 1000, "reports_per_day": 1000},
    )
    with unit(app) as session:
        load_demo(session)
    resident = log_in(app.test_client(), mini_wechat, "o-schemathesis")
    auth = {"Authorization": f"Bearer {resident.token}"}
    started = time.monotonic()
    with serve(app) as base:
        # one real report, so that reading one's own reports returns something
        created = app.test_client().post(
            "/api/v1/reports",
            data={"category": "clutter", "lat": "31.3", "lon": "120.59", "photos": [(_photo(), "p.jpg")]},
            headers=auth,
            content_type="multipart/form-data",
        )
        assert created.status_code == 201
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        # every route but the document itself, which schemathesis leaves out
        assert len(operations) == 9, " ".join(o.label for o in operations)
        for operation in operations:
            # A multipart schema cannot say "a real JPEG": valid-by-schema photos are random bytes,
            # which the API rightly refuses (415), so acceptance of positive data is not checked there.
            excluded = [positive_data_acceptance] if operation.path == "/reports" else []
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, f"{base}/api/v1", auth, excluded)
    assert time.monotonic() - started < BUDGET_SECONDS


def _fuzz(
    operation: Any, mode: GenerationMode, base_url: str, auth: dict[str, str], excluded: list[Any]
) -> None:
    """Send EXAMPLES generated requests for one operation and validate every response."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=auth, excluded_checks=excluded)

    check()


def _photo() -> object:
    import io

    return io.BytesIO(images.jpeg(21))

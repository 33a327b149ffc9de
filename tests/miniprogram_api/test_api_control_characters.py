"""NUL and other control characters in any parameter are a 4xx in each API's own error shape, never
a 500 (PostgreSQL cannot store NUL at all); tab, line feed and carriage return are still text.
Out-of-range Open311 dates are a 400 too."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from bot.core import inputs
from miniprogram_api.schemas import TEXT_PATTERN
from reports.models import Report
from tests.miniprogram_api.test_api_reports import upload
from tests.support import images
from tests.support.api_fixtures import Resident, error_of
from tests.support.reports import unit

pytestmark = pytest.mark.integration

BAD = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85"]


def count_reports(app: Flask) -> int:
    with unit(app) as session:
        return int(session.scalar(select(func.count(Report.id))) or 0)


def assert_refused(response: object, *fields: str) -> None:
    error = error_of(response)  # type: ignore[arg-type]
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert error["code"] == "validation_failed"
    assert error["message"] == "提交的内容有误，请检查后重试。"
    assert [d["field"] for d in error["details"]] == list(fields)
    assert all(d["problem"] == "control characters are not allowed" for d in error["details"])


@pytest.mark.parametrize("field", ["description", "address", "category"])
@pytest.mark.parametrize("bad", BAD)
def test_report_fields_with_control_characters_are_refused(
    api_app: Flask, login: Callable[..., Resident], field: str, bad: str
) -> None:
    resident = login()
    response = upload(resident, images.jpeg(1), **{field: f"人行道{bad}摆摊"})
    assert_refused(response, field)
    assert count_reports(api_app) == 0


def test_report_text_keeps_tabs_and_line_breaks(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login()
    response = upload(resident, images.jpeg(1), description="第一行\r\n第二行\t完", address="幸福路\t1号")
    assert response.status_code == 201, response.get_json()
    with unit(api_app) as session:
        report = session.scalars(select(Report)).one()
        assert report.description == "第一行\r\n第二行\t完"


def test_query_and_json_values_and_keys(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login()
    assert_refused(resident.get("/sorting", query_string={"q": "电池\x00"}), "q")
    assert_refused(
        resident.get("/places/nearest", query_string={"kind": "toilet\x00", "lat": 1, "lon": 2}), "kind"
    )
    assert_refused(resident.get("/categories", query_string={"x\x00": "1"}), "x\ufffd")
    assert_refused(resident.put("/me/phone", json={"phone": "1380013800\x00"}), "phone")
    assert_refused(resident.put("/me/phone", json={"phone": "\ud800"}), "phone")
    assert_refused(resident.put("/me/phone", json={"phone": ["1", {"a\x00": "b"}]}), "phone.1.a\ufffd")
    # Before any login too, in the same shape.
    session = api_app.test_client().post("/api/v1/session", json={"code": "abc\x00", "program": "report"})
    assert_refused(session, "code")


def test_the_document_lists_the_refusal_for_every_route(api_app: Flask) -> None:
    document = api_app.test_client().get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "422" in operation["responses"], f"{method} {path}"


# -- Open311 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/open311/v2/requests.json?service_code=clutter%00",
        "/open311/v2/requests.json?service_request_id=SP%00",
        "/open311/v2/requests.json?status=open%07",
        "/open311/v2/requests.xml?service_code=%1b",
        "/open311/v2/requests/SP%00.json",
        "/open311/v2/requests/SP%00",
        "/open311/v2/requests/SP%00.xml",
        "/open311/v2/services.json?jurisdiction_id=%00",
    ],
)
def test_open311_parameters_and_path_with_control_characters(api_app: Flask, url: str) -> None:
    response = api_app.test_client().get(url)
    assert response.status_code == 400
    if url.split("?")[0].endswith(".xml"):
        assert b"<errors><error><code>400</code>" in response.data.replace(b"\n", b"").replace(b" ", b"")
    else:
        [error] = response.get_json()
        assert error["code"] == 400
        assert "control characters" in error["description"]


@pytest.mark.parametrize(
    "query",
    [
        "start_date=9999-12-31T23:59:59Z",
        "end_date=9999-12-31T23:59:59Z",
        "start_date=0001-01-01T00:00:00Z",
        "end_date=0001-01-01T00:00:00Z",
        "end_date=0001-01-01T00:00:00%2B14:00",
        "start_date=9999-12-31T23:59:59-14:00",
        "start_date=1999-12-31T00:00:00Z",
        "start_date=2100-01-02",
    ],
)
def test_open311_dates_out_of_range(api_app: Flask, query: str) -> None:
    response = api_app.test_client().get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    [error] = response.get_json()
    assert error["code"] == 400
    assert "between 2000-01-01 and 2100-01-01" in error["description"]


def test_open311_dates_in_range_still_work(api_app: Flask) -> None:
    client = api_app.test_client()
    assert client.get("/open311/v2/requests.json?start_date=2099-12-01T00:00:00Z").status_code == 200
    assert client.get("/open311/v2/requests.json?end_date=2000-03-01").status_code == 200


def test_the_documented_pattern_is_the_check() -> None:
    pattern = re.compile(TEXT_PATTERN)
    for code in range(0x3000):
        char = chr(code)
        assert bool(pattern.match(f"a{char}b")) == inputs.is_clean(char), hex(code)

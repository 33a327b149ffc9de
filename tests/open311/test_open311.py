"""Open311 GeoReport v2 read API: only reports past review, only public-safe fields, JSON and XML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from flask import Flask

from bot.core import services
from bot.core.clock import utcnow
from reports import workflow
from reports.models import Report, ReportStatus
from reports.roles import staff_actor
from reports.services import ReportsServices
from staff.roles import Role
from tests.support.reports import new_report, unit

pytestmark = pytest.mark.integration

# The fields GeoReport v2 defines (wiki.open311.org/GeoReport_v2).
SPEC_SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
SPEC_REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SPEC_DISCOVERY_FIELDS = {"changeset", "contact", "key_service", "endpoints"}
SPEC_ENDPOINT_FIELDS = {"specification", "url", "changeset", "type", "formats"}
REVIEWER = staff_actor("rev-a", Role.REVIEWER)
SECRET = "我是张三，电话13800138000，住在幸福小区3栋"


@pytest.fixture
def published(api_app: Flask) -> dict[str, str]:
    """Reports in every interesting status; returns status name -> public number."""
    media = services.of(api_app).get(ReportsServices).fetch_media
    ids = {
        name: new_report(
            api_app, media, openid=f"o-{name}", seeds=(n,), category=category, description=SECRET
        )
        for n, (name, category) in enumerate(
            [
                ("submitted", "street_vending"),
                ("accepted", "street_vending"),
                ("resolved", "clutter"),
                ("closed", "clutter"),
                ("rejected", "littering"),
            ],
            start=1,
        )
    }
    settings = api_app.config["CITYBOT"].reports
    with unit(api_app) as session:
        for name in ("accepted", "resolved", "closed"):
            workflow.accept(session, ids[name], REVIEWER, ReportStatus.SUBMITTED, settings=settings)
        workflow.resolve(session, ids["resolved"], REVIEWER)
        workflow.close(session, ids["closed"], REVIEWER)
        workflow.reject(session, ids["rejected"], REVIEWER, ReportStatus.SUBMITTED, "not_a_violation")
        return {name: session.get(Report, report_id).number for name, report_id in ids.items()}  # type: ignore[union-attr]


def _xml_items(data: bytes, root: str, element: str) -> list[dict[str, str]]:
    tree = ElementTree.fromstring(data)
    assert tree.tag == root
    return [{child.tag: child.text or "" for child in item} for item in tree.findall(element)]


def test_services(api_app: Flask) -> None:
    client = api_app.test_client()
    services = client.get("/open311/v2/services.json").get_json()
    assert [s["service_code"] for s in services][:2] == ["street_vending", "clutter"]
    for service in services:
        assert set(service) == SPEC_SERVICE_FIELDS
        assert service["metadata"] is False
        assert service["type"] == "realtime"
    xml = client.get("/open311/v2/services.xml")
    assert xml.mimetype == "text/xml"
    items = _xml_items(xml.data, "services", "service")
    assert [i["service_code"] for i in items] == [s["service_code"] for s in services]
    assert items[0]["metadata"] == "false"
    assert client.get("/open311/v2/services").get_json() == services


def test_only_reviewed_reports_with_public_fields(api_app: Flask, published: dict[str, str]) -> None:
    client = api_app.test_client()
    response = client.get("/open311/v2/requests.json")
    assert response.status_code == 200
    requests_ = response.get_json()
    by_number = {r["service_request_id"]: r for r in requests_}
    assert set(by_number) == {published["accepted"], published["resolved"], published["closed"]}
    assert by_number[published["accepted"]]["status"] == "open"
    assert by_number[published["resolved"]]["status"] == "closed"
    assert by_number[published["closed"]]["status"] == "closed"
    required = {
        "service_request_id",
        "status",
        "service_code",
        "service_name",
        "requested_datetime",
        "lat",
        "long",
    }
    with unit(api_app) as session:
        for request_ in requests_:
            assert set(request_) <= SPEC_REQUEST_FIELDS
            assert required <= set(request_)
            assert "description" not in request_
            assert "media_url" not in request_
            assert "address" not in request_
            report = session.query(Report).filter_by(number=request_["service_request_id"]).one()
            assert request_["lat"] == round(report.lat, 3)
            assert request_["long"] == round(report.lon, 3)
            assert abs(request_["lat"] - report.lat) <= 0.0005
            requested = datetime.fromisoformat(request_["requested_datetime"])
            assert requested.utcoffset() == timedelta(hours=8)
            assert requested == report.created_at.replace(microsecond=0)
    everything = response.get_data(as_text=True) + client.get("/open311/v2/requests.xml").get_data(
        as_text=True
    )
    assert "13800138000" not in everything
    assert "张三" not in everything
    assert "o-accepted" not in everything
    assert "originals/" not in everything
    assert published["submitted"] not in everything
    assert published["rejected"] not in everything


def test_xml_matches_json(api_app: Flask, published: dict[str, str]) -> None:
    client = api_app.test_client()
    as_json = client.get("/open311/v2/requests.json").get_json()
    xml = client.get("/open311/v2/requests.xml")
    assert xml.mimetype == "text/xml"
    items = _xml_items(xml.data, "service_requests", "request")
    assert [i["service_request_id"] for i in items] == [r["service_request_id"] for r in as_json]
    for item, request_ in zip(items, as_json, strict=True):
        assert set(item) <= SPEC_REQUEST_FIELDS
        assert float(item["lat"]) == request_["lat"]
        assert item["status"] == request_["status"]


def test_filters(api_app: Flask, published: dict[str, str]) -> None:
    client = api_app.test_client()

    def numbers(query: str) -> set[str]:
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.get_json()
        return {r["service_request_id"] for r in response.get_json()}

    assert numbers("status=open") == {published["accepted"]}
    assert numbers("status=closed") == {published["resolved"], published["closed"]}
    assert numbers("status=open,closed") == numbers("")
    assert numbers("service_code=clutter") == {published["resolved"], published["closed"]}
    assert numbers("service_code=littering") == set()  # the rejected one stays private
    now = utcnow()
    assert numbers(urlencode({"start_date": (now - timedelta(hours=1)).isoformat()})) == numbers("")
    assert numbers(urlencode({"end_date": (now - timedelta(days=1)).isoformat()})) == set()
    # an unencoded "+" arrives as a space; the offset is still understood
    assert numbers(f"start_date={(now - timedelta(hours=1)).isoformat()}") == numbers("")
    assert numbers(f"service_request_id={published['accepted']},{published['submitted']}") == {
        published["accepted"]
    }


def test_one_request_and_errors(api_app: Flask, published: dict[str, str]) -> None:
    client = api_app.test_client()
    one = client.get(f"/open311/v2/requests/{published['accepted']}.json")
    assert one.status_code == 200
    assert [r["service_request_id"] for r in one.get_json()] == [published["accepted"]]
    xml = client.get(f"/open311/v2/requests/{published['resolved']}.xml")
    assert _xml_items(xml.data, "service_requests", "request")[0]["status"] == "closed"
    hidden = client.get(f"/open311/v2/requests/{published['submitted']}.json")
    assert hidden.status_code == 404
    assert [set(e) for e in hidden.get_json()] == [{"code", "description"}]
    assert hidden.get_json()[0]["code"] == 404
    hidden_xml = client.get(f"/open311/v2/requests/{published['rejected']}.xml")
    assert hidden_xml.status_code == 404
    assert _xml_items(hidden_xml.data, "errors", "error")[0]["code"] == "404"
    for query in ("status=pending", "start_date=yesterday", "start_date=2026-01-01&end_date=2026-06-01"):
        refused = client.get(f"/open311/v2/requests.json?{query}")
        assert refused.status_code == 400, query
        assert refused.get_json()[0]["code"] == 400
    missing = client.get("/open311/v2/nothing.xml")
    assert missing.status_code == 404
    assert _xml_items(missing.data, "errors", "error")[0]["code"] == "404"
    assert client.post("/open311/v2/requests.json").status_code == 405


def test_discovery(api_app: Flask) -> None:
    client = api_app.test_client()
    body = client.get("/open311/v2/discovery.json").get_json()
    assert set(body) == SPEC_DISCOVERY_FIELDS
    (endpoint,) = body["endpoints"]
    assert set(endpoint) == SPEC_ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["application/json", "text/xml"]
    tree = ElementTree.fromstring(client.get("/open311/v2/discovery.xml").data)
    assert tree.tag == "discovery"
    formats = [f.text for f in tree.findall("./endpoints/endpoint/formats/format")]
    assert formats == ["application/json", "text/xml"]


def test_jurisdiction(make_api_app: Callable[..., Flask]) -> None:
    app = make_api_app(open311={"jurisdiction_id": "city.example.cn"})
    client = app.test_client()
    assert client.get("/open311/v2/services.json?jurisdiction_id=city.example.cn").status_code == 200
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/open311/v2/services.json?jurisdiction_id=other").status_code == 404


def test_disabled(make_api_app: Callable[..., Flask]) -> None:
    app = make_api_app(open311={"enabled": False})
    response: Any = app.test_client().get("/open311/v2/services.json")
    assert response.status_code == 404

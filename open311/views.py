"""``/open311/v2``: discovery, services, requests and one request, each as ``.json`` or ``.xml``
(JSON when the extension is left out). Read-only; rate-limited per client IP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import HTTPException

from bot.core import audit, httperrors, inputs, ratelimit, services
from bot.core.clock import utcnow
from bot.core.database import get_session
from open311 import public
from open311.render import error, respond, xml_list, xml_object
from open311.settings import Open311Settings
from reports.settings import ReportsSettings

PREFIX = "/open311"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-27T00:00:00+08:00"
MAX_SPAN = timedelta(days=90)
# Dates outside this range are refused: no report is older, and arithmetic near year 9999 overflows.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
FORMATS = "<any(json, xml):fmt>"

bp = Blueprint("open311", __name__, url_prefix=f"{PREFIX}/v2")


class Open311Error(Exception):
    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}


def _format() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    httperrors.register(app, PREFIX, _http_error)


def _http_error(exc: HTTPException) -> Response:
    response = error(_format(), exc.code or 500, exc.description or exc.name)
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


@bp.errorhandler(Open311Error)
def _refused(exc: Open311Error) -> Response:
    response = error(_format(), exc.status, exc.description)
    response.headers.update(exc.headers)
    return response


@bp.before_request
def _guard() -> None:
    audit.enter(audit.Channel.API, ip=request.remote_addr or "")
    settings = services.settings().section(Open311Settings)
    try:
        ratelimit.hit(
            services.store(), "open311:ip", request.remote_addr or "-", settings.requests_per_minute_ip
        )
    except ratelimit.LimitExceededError as exc:
        raise Open311Error(429, "too many requests", {"Retry-After": str(exc.retry_after)}) from None
    unclean = inputs.unclean_fields(request, json=False)
    if unclean:
        raise Open311Error(400, f"{', '.join(unclean)}: control characters are not allowed")
    jurisdiction = request.args.get("jurisdiction_id")
    if jurisdiction is not None and settings.jurisdiction_id and jurisdiction != settings.jurisdiction_id:
        raise Open311Error(404, f"unknown jurisdiction_id {jurisdiction}")


def _zone() -> ZoneInfo:
    return ZoneInfo(services.settings().section(ReportsSettings).timezone)


@bp.get("/discovery")
@bp.get(f"/discovery.{FORMATS}")
def discovery(fmt: str = "json") -> Response:
    settings = services.settings().section(Open311Settings)
    endpoint = {
        "specification": SPECIFICATION,
        "url": request.url_root.rstrip("/") + f"{PREFIX}/v2",
        "changeset": CHANGESET,
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    payload = {
        "changeset": CHANGESET,
        "contact": settings.contact,
        "key_service": settings.key_service,
        "endpoints": [endpoint],
    }
    return respond(fmt, payload, xml_object("discovery", payload))


@bp.get("/services")
@bp.get(f"/services.{FORMATS}")
def service_list(fmt: str = "json") -> Response:
    items = public.services(get_session(), services.texts())
    return respond(fmt, items, xml_list("services", "service", items))


def _datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    text = raw.strip()
    if "T" in text and " " in text:  # an unencoded "+" of the UTC offset arrives as a space
        text = text.replace(" ", "+")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C (ISO 8601) datetime") from None
    value = value if value.tzinfo is not None else value.replace(tzinfo=_zone())
    try:
        within = EARLIEST <= value <= LATEST
    except OverflowError:  # an offset that moves the value past year 1 or 9999
        within = False
    if not within:
        raise Open311Error(400, f"{name} must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


def _list(name: str) -> list[str]:
    return [part.strip() for part in request.args.get(name, "").split(",") if part.strip()]


def _requests_view(fmt: str, reports: list[public.Report]) -> Response:
    settings = services.settings().section(Open311Settings)
    texts, zone = services.texts(), _zone()
    items = [public.request_view(r, texts, zone, settings.location_decimals) for r in reports]
    return respond(fmt, items, xml_list("service_requests", "request", items))


@bp.get("/requests")
@bp.get(f"/requests.{FORMATS}")
def request_list(fmt: str = "json") -> Response:
    settings = services.settings().section(Open311Settings)
    numbers = _list("service_request_id")
    if numbers:  # the spec: other parameters are then ignored
        return _requests_view(
            fmt, public.public_reports(get_session(), numbers=numbers, limit=settings.max_results)
        )
    statuses: list[public.ReportStatus] = []
    for status in _list("status"):
        if status not in public.STATUSES_FOR:
            raise Open311Error(400, "status must be open or closed")
        statuses.extend(public.STATUSES_FOR[status])
    start, end = _datetime("start_date"), _datetime("end_date")
    if start is not None and end is not None and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end is None:
        end = min(utcnow(), start + MAX_SPAN) if start is not None else utcnow()
    if start is None:
        start = end - MAX_SPAN
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    reports = public.public_reports(
        get_session(),
        service_codes=_list("service_code"),
        statuses=tuple(statuses) or public.PUBLIC_STATUSES,
        start=start,
        end=end,
        limit=settings.max_results,
    )
    return _requests_view(fmt, reports)


@bp.get("/requests/<request_id>")
@bp.get(f"/requests/<request_id>.{FORMATS}")
def request_one(request_id: str, fmt: str = "json") -> Response:
    found = public.public_reports(get_session(), numbers=[request_id], limit=1)
    if not found:
        raise Open311Error(404, f"no public service request {request_id}")
    return _requests_view(fmt, found)

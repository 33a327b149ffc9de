"""The /api/v1 blueprint: hooks (size caps, rate limits, bearer auth) and the routes.

Views parse and check the request, call domain functions and commit once; errors are raised as
``ApiError`` and rendered in the one JSON error shape (``miniprogram_api.errors``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from bot.core import audit, httperrors, inputs, ratelimit, services
from bot.core.clock import utcnow
from bot.core.database import get_session
from bot.core.geo import Datum, GeoPoint
from bot.wechat.api import MiniProgramSession, code_to_session
from bot.wechat.errors import LoginCodeError, RiskyUserError, TooFrequentError, WeChatAPIError
from bot.wechat.settings import WeChatSettings
from geodata.answer import reply_style, search
from geodata.describe import describe
from geodata.format import status_line
from geodata.links import navigation_url
from geodata.settings import GeoSettings
from miniprogram_api import auth, openapi, schemas
from miniprogram_api.errors import ApiError, render_api_error, render_http_exception, render_unexpected
from miniprogram_api.schemas import MAX_ID, PREFIX
from miniprogram_api.serialize import category_view, ledger_view, report_view
from miniprogram_api.settings import MiniProgramSettings
from miniprogram_api.uploads import create_report, parse_upload, report_of, validation_details
from reports import phones, rewards
from reports.models import LedgerEntry, Report, active_categories
from reports.settings import ReportsSettings
from waste.answer import category_view as waste_category_view
from waste.answer import item_view
from waste.categories import WasteCategory
from waste.lookup import find
from waste.settings import WasteSettings

log = logging.getLogger("citybot.api")
M = TypeVar("M", bound=BaseModel)

bp = Blueprint("miniprogram_api", __name__, url_prefix=PREFIX)

# Routes that need no bearer token.
PUBLIC = frozenset({"miniprogram_api.create_session", "miniprogram_api.openapi_document"})
UPLOAD = "miniprogram_api.create_report"
CONTROL_PROBLEM = "control characters are not allowed"


@dataclass(eq=False)
class MiniProgramServices:
    """The API's part of the app's container: the HTTP session of its code2session calls."""

    http: requests.Session


def init_app(app: Flask) -> None:
    services.of(app).put(MiniProgramServices(http=requests.Session()))
    app.register_blueprint(bp)
    httperrors.register(app, PREFIX, render_http_exception)
    if not services.settings(app).section(MiniProgramSettings).programs:
        log.debug("no mini programs configured: POST %s/session refuses every login", PREFIX)


bp.register_error_handler(ApiError, render_api_error)
bp.register_error_handler(Exception, render_unexpected)


# -- hooks -----------------------------------------------------------------------------------------


def _limit(scope: str, subject: str, limit: int) -> None:
    try:
        ratelimit.hit(services.store(), scope, subject, limit)
    except ratelimit.LimitExceededError as exc:
        raise ApiError(
            "rate_limited",
            {"limit": exc.limit, "period_seconds": 60},
            headers={"Retry-After": str(exc.retry_after)},
        ) from None


@bp.before_request
def _guard() -> None:
    audit.enter(audit.Channel.API, ip=request.remote_addr or "")
    settings = services.settings().section(MiniProgramSettings)
    cap = settings.max_upload_bytes if request.endpoint == UPLOAD else settings.max_body_bytes
    request.max_content_length = cap
    if request.content_length is not None and request.content_length > cap:
        raise ApiError("request_too_large", {"max_bytes": cap})
    _limit("api:ip", request.remote_addr or "-", settings.requests_per_minute_ip)
    if request.endpoint in PUBLIC:
        return
    try:
        user = auth.read_token(services.settings(), auth.bearer(request.headers.get("Authorization")))
    except auth.TokenError as exc:
        raise ApiError(exc.code) from None
    g.api_user = user
    _limit("api:openid", user.openid, settings.requests_per_minute)


@bp.before_request
def _refuse_control_characters() -> None:
    """Every query, form and JSON string of every route (after the size cap and the token)."""
    unclean = inputs.unclean_fields(request)
    if unclean:
        raise ApiError("validation_failed", [{"field": name, "problem": CONTROL_PROBLEM} for name in unclean])


def current_user() -> auth.ApiUser:
    user: auth.ApiUser = g.api_user
    return user


def _zone() -> ZoneInfo:
    return ZoneInfo(services.settings().section(ReportsSettings).timezone)


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError("unsupported_media_type", {"expected": "application/json"})
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("bad_request", {"problem": "the body must be a JSON object"})
    return data


def _validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError("validation_failed", validation_details(exc)) from None


def _reply(answer: BaseModel) -> Response:
    """The response model's JSON (the field names and values the document describes)."""
    return jsonify(answer.model_dump(mode="json"))


# -- session ---------------------------------------------------------------------------------------


def _code_to_session(app: Flask, app_id: str, app_secret: str, code: str) -> MiniProgramSession:
    wechat = services.settings(app).section(WeChatSettings)
    http = services.of(app).get(MiniProgramServices).http
    return code_to_session(http, wechat.api_base_url, app_id, app_secret, code, timeout=wechat.api_timeout)


@bp.post("/session")
def create_session() -> tuple[Response, int]:
    settings = services.settings()
    body = _validated(schemas.SessionRequest, _json_body())
    _limit(
        "api:session",
        request.remote_addr or "-",
        settings.section(MiniProgramSettings).sessions_per_minute_ip,
    )
    program = settings.section(MiniProgramSettings).program(
        body.program or request.headers.get("X-Mini-Program")
    )
    if program is None:
        raise ApiError("unknown_program", {"field": "program"})
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        session = _code_to_session(app, program.app_id, program.app_secret, body.code)
    except LoginCodeError:
        raise ApiError("invalid_code") from None
    except TooFrequentError:
        raise ApiError("rate_limited", {"source": "wechat"}, headers={"Retry-After": "60"}) from None
    except RiskyUserError:
        raise ApiError("login_refused") from None
    except WeChatAPIError as exc:
        log.warning("jscode2session failed for program %s: %s", program.name, exc)
        raise ApiError("wechat_unavailable", headers={"Retry-After": "5"}) from None
    store = services.store()
    auth.keep_session_key(
        store,
        program.name,
        session.openid,
        session.session_key,
        settings.section(MiniProgramSettings).session_key_ttl,
    )
    token, expires = auth.issue_token(settings, session.openid, program, utcnow())
    answer = schemas.Session(
        token=token,
        token_type="Bearer",
        expires_in=settings.section(MiniProgramSettings).token_ttl,
        expires_at=expires.astimezone(_zone()).isoformat(timespec="seconds"),
        program=program.name,
    )
    return _reply(answer), 201


# -- the contract ----------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> Response:
    with_categories = [c.code for c in active_categories(get_session())]
    return jsonify(openapi.document(services.settings(), with_categories))


# -- reference data --------------------------------------------------------------------------------


@bp.get("/categories")
def categories() -> Response:
    return _reply(schemas.Categories(categories=[category_view(c) for c in active_categories(get_session())]))


@bp.get("/sorting")
def sorting() -> Response:
    query = _validated(schemas.SortingQuery, request.args.to_dict())
    settings = services.settings().section(WasteSettings)
    texts = services.texts()
    result = find(get_session(), query.q, settings)
    match = None
    if result.item is not None:
        match = {**item_view(result.item, texts), "score": round(result.score, 1), "exact": result.exact}
    answer = schemas.Sorting.model_validate(
        {
            "query": query.q,
            "match": match,
            "suggestions": [item_view(item, texts) for item in result.suggestions],
            "categories": [waste_category_view(c, texts) for c in WasteCategory],
        }
    )
    return _reply(answer)


# -- 一键查找 ----------------------------------------------------------------------------------------


@bp.get("/places/nearest")
def nearest_places() -> Response:
    settings = services.settings()
    query = _validated(schemas.NearestQuery, request.args.to_dict())
    if query.limit is not None and query.limit > settings.section(MiniProgramSettings).nearest_max:
        raise ApiError(
            "validation_failed",
            [{"field": "limit", "problem": f"at most {settings.section(MiniProgramSettings).nearest_max}"}],
        )
    geo = settings.section(GeoSettings)
    datum = Datum(query.datum)
    kind = query.kind
    if query.limit is not None:
        geo = geo.model_copy(update={"results": query.limit})
    now = utcnow()
    result = search(get_session(), kind, GeoPoint(query.lat, query.lon, datum), geo, now)
    style = reply_style(geo, kind)
    texts = services.texts()
    places = []
    for entry in result.entries:
        shown = entry.point.to(datum)
        places.append(
            {
                "id": entry.poi_id,
                "name": entry.name,
                "address": entry.address,
                "lat": round(shown.lat, 6),
                "lon": round(shown.lon, 6),
                "datum": datum.value,
                "distance_m": round(entry.distance_m),
                "walking_minutes": entry.walking_minutes,
                "open_status": None if entry.status is None else entry.status.value,
                "opening_hours": entry.opening_hours,
                "hours_text": describe(entry.opening_hours, texts),
                "status_text": status_line(texts, entry, now),
                "capacity": entry.capacity,
                "within_radius": entry.within_radius,
                "navigation_url": navigation_url(style.provider, entry.point, entry.name, app=style.app),
            }
        )
    answer = schemas.Nearest.model_validate(
        {
            "kind": kind.value,
            "label": style.label,
            "datum": datum.value,
            "radius_m": result.radius_m,
            "has_dataset": result.has_dataset,
            "in_season": result.in_season,
            "places": places,
        }
    )
    return _reply(answer)


# -- reports ---------------------------------------------------------------------------------------


def create_report_view() -> tuple[Response, int, dict[str, str]]:
    if request.mimetype != "multipart/form-data":
        raise ApiError("unsupported_media_type", {"expected": "multipart/form-data"})
    settings = services.settings().section(ReportsSettings)
    fields = {key: value for key, value in request.form.items() if key != "photos"}
    files = request.files.getlist("photos")
    unexpected = sorted(set(request.files) - {"photos"})
    if unexpected:
        raise ApiError(
            "validation_failed", [{"field": name, "problem": "unexpected file"} for name in unexpected]
        )
    upload = parse_upload(fields, files, max_photos=settings.max_photos, max_bytes=settings.photo_max_bytes)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    created = create_report(app, current_user(), upload, request.headers.get("Idempotency-Key"))
    session = get_session()
    report = session.get(Report, created.report_id)
    assert report is not None
    headers = {"Location": f"{PREFIX}/me/reports/{report.id}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return _reply(report_view(session, report, services.texts(), _zone())), 201, headers


bp.add_url_rule("/reports", endpoint="create_report", view_func=create_report_view, methods=["POST"])


@bp.get("/me/reports")
def my_reports() -> Response:
    page = _validated(schemas.PageQuery, request.args.to_dict())
    session = get_session()
    query = (
        select(Report)
        .where(Report.openid == current_user().openid)
        .order_by(Report.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    texts, zone = services.texts(), _zone()
    return _reply(
        schemas.Reports(reports=[report_view(session, r, texts, zone) for r in session.scalars(query)])
    )


@bp.get("/me/reports/<int:report_id>")
def my_report(report_id: int) -> Response:
    session = get_session()
    report = report_of(session, current_user(), report_id) if report_id <= MAX_ID else None
    if report is None:
        raise ApiError("not_found")
    return _reply(report_view(session, report, services.texts(), _zone()))


@bp.get("/me/points")
def my_points() -> Response:
    page = _validated(schemas.PageQuery, request.args.to_dict())
    openid = current_user().openid
    session = get_session()
    entries = list(
        session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.openid == openid)
            .order_by(LedgerEntry.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
    )
    numbers = {
        r.id: r.number
        for r in session.scalars(
            select(Report).where(Report.id.in_({e.report_id for e in entries if e.report_id}))
        )
    }
    phone = phones.phone_of(session, openid)
    texts, zone = services.texts(), _zone()
    answer = schemas.Points(
        balance=rewards.balance(session, openid),
        phone=None if phone is None else phones.mask(phone),
        entries=[ledger_view(e, numbers.get(e.report_id or 0), texts, zone) for e in entries],
    )
    return _reply(answer)


@bp.put("/me/phone")
def bind_phone() -> Response:
    data = _json_body()
    try:
        body = schemas.PhoneRequest.model_validate(data)
    except ValidationError as exc:
        raise ApiError("invalid_phone", validation_details(exc)) from None
    session = get_session()
    try:
        binding = phones.bind_phone(session, current_user().openid, body.phone, now=utcnow())
    except phones.InvalidPhoneError:
        raise ApiError(
            "invalid_phone", [{"field": "phone", "problem": "not a mainland mobile number"}]
        ) from None
    session.commit()
    return _reply(schemas.PhoneBinding(phone=phones.mask(binding.phone)))

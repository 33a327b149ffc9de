"""Sessions and tokens: code2session with each mini program's own credentials, signed expiring
tokens, refusals of missing, expired and forged ones; rate limits; Flask's own errors as JSON."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from flask import Flask
from jwt.warnings import InsecureKeyLengthWarning

from bot.core import services
from bot.core.clock import utcnow
from devtools.fake_wechat import FakeWeChat
from miniprogram_api import auth
from tests.support.api_fixtures import PROGRAMS, Resident, error_of

pytestmark = pytest.mark.integration


def test_session_gives_a_token_and_keeps_the_session_key_server_side(
    api_app: Flask, mini_wechat: FakeWeChat
) -> None:
    client = api_app.test_client()
    code = mini_wechat.login_code(PROGRAMS[0]["app_id"], "o-alice")
    response = client.post("/api/v1/session", json={"code": code, "program": "report"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "token_type", "expires_in", "expires_at", "program"}
    assert body["token_type"] == "Bearer"
    assert body["program"] == "report"
    # WeChat's session_key is stored, never answered
    answered = mini_wechat.calls("sns/jscode2session")[-1].answer
    assert answered is not None
    session_key = answered["session_key"]
    assert session_key not in response.get_data(as_text=True)
    assert auth.session_key(services.store(api_app), "report", "o-alice") == session_key
    # the call used the mini program's own app id and secret
    query = mini_wechat.calls("sns/jscode2session")[-1].query
    assert (query["appid"], query["secret"]) == (PROGRAMS[0]["app_id"], PROGRAMS[0]["app_secret"])
    me = client.get("/api/v1/me/points", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200


def test_each_mini_program_logs_in_with_its_own_app_id(api_app: Flask, mini_wechat: FakeWeChat) -> None:
    client = api_app.test_client()
    sorting = PROGRAMS[1]
    # named by header, by app id
    response = client.post(
        "/api/v1/session",
        json={"code": mini_wechat.login_code(sorting["app_id"], "o-bob")},
        headers={"X-Mini-Program": sorting["app_id"]},
    )
    assert response.status_code == 201
    assert response.get_json()["program"] == "sorting"
    # a code of one mini program is refused when presented for the other
    wrong = client.post(
        "/api/v1/session",
        json={"code": mini_wechat.login_code(sorting["app_id"], "o-bob"), "program": "report"},
    )
    assert wrong.status_code == 401
    assert error_of(wrong)["code"] == "invalid_code"


def test_bad_codes_and_programs(api_app: Flask, mini_wechat: FakeWeChat) -> None:
    client = api_app.test_client()
    code = mini_wechat.login_code(PROGRAMS[0]["app_id"], "o-carol")
    assert client.post("/api/v1/session", json={"code": code, "program": "report"}).status_code == 201
    reused = client.post("/api/v1/session", json={"code": code, "program": "report"})
    assert (reused.status_code, error_of(reused)["code"]) == (401, "invalid_code")
    invented = client.post("/api/v1/session", json={"code": "made-up", "program": "report"})
    assert error_of(invented)["code"] == "invalid_code"
    # two programs configured: the program must be named
    unnamed = client.post("/api/v1/session", json={"code": "x"})
    assert (unnamed.status_code, error_of(unnamed)["code"]) == (422, "unknown_program")
    unknown = client.post("/api/v1/session", json={"code": "x", "program": "nope"})
    assert error_of(unknown)["code"] == "unknown_program"
    empty = client.post("/api/v1/session", json={"code": ""})
    assert (empty.status_code, error_of(empty)["code"]) == (422, "validation_failed")
    assert error_of(empty)["details"][0]["field"] == "code"
    not_json = client.post("/api/v1/session", data="code=x")
    assert (not_json.status_code, error_of(not_json)["code"]) == (415, "unsupported_media_type")
    broken = client.post("/api/v1/session", data="{", content_type="application/json")
    assert (broken.status_code, error_of(broken)["code"]) == (400, "bad_request")


def test_wechat_failures_map_to_statuses(api_app: Flask, mini_wechat: FakeWeChat) -> None:
    client = api_app.test_client()
    cases = [(45011, 429, "rate_limited"), (40226, 403, "login_refused"), (-1, 503, "wechat_unavailable")]
    for errcode, status, code in cases:
        mini_wechat.fail_next("sns/jscode2session", errcode)
        response = client.post("/api/v1/session", json={"code": "c", "program": "report"})
        assert (response.status_code, error_of(response)["code"]) == (status, code)
        if status in (429, 503):
            assert int(response.headers["Retry-After"]) > 0


def test_missing_expired_and_forged_tokens(api_app: Flask, login: Callable[..., Resident]) -> None:
    resident = login("o-dave")
    client = api_app.test_client()
    settings = services.settings(api_app)

    missing = client.get("/api/v1/me/reports")
    assert (missing.status_code, error_of(missing)["code"]) == (401, "token_missing")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")

    def attempt(token: str, scheme: str = "Bearer") -> tuple[int, str]:
        response = client.get("/api/v1/me/reports", headers={"Authorization": f"{scheme} {token}"})
        return response.status_code, error_of(response)["code"] if response.status_code != 200 else "ok"

    assert attempt(resident.token) == (200, "ok")
    program = settings.miniprogram.program("report")
    assert program is not None
    old, _ = auth.issue_token(settings, "o-dave", program, utcnow() - timedelta(hours=3))
    assert attempt(old) == (401, "token_expired")

    claims = jwt.decode(resident.token, options={"verify_signature": False})
    other_key = jwt.encode(claims, auth.signing_key("another-secret"), algorithm="HS256")
    assert attempt(other_key) == (401, "token_invalid")
    with warnings.catch_warnings():  # the test secret is short; that is the point of this token
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        raw_secret = jwt.encode(claims, settings.secret_key, algorithm="HS256")  # not the derived key
    assert attempt(raw_secret) == (401, "token_invalid")
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert attempt(unsigned) == (401, "token_invalid")
    # someone else's openid put into a genuine token's payload
    header, _payload, signature = resident.token.split(".")
    forged_claims = {**claims, "sub": "o-victim"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).rstrip(b"=").decode()
    assert attempt(f"{header}.{forged_payload}.{signature}") == (401, "token_invalid")
    no_audience = jwt.encode(
        {k: v for k, v in claims.items() if k != "aud"}, auth.signing_key(settings.secret_key)
    )
    assert attempt(no_audience) == (401, "token_invalid")
    gone_program = jwt.encode({**claims, "prg": "retired"}, auth.signing_key(settings.secret_key))
    assert attempt(gone_program) == (401, "token_invalid")
    assert attempt("not-a-jwt") == (401, "token_invalid")
    assert attempt(resident.token, scheme="Basic") == (401, "token_invalid")


def test_token_of_a_removed_program_stops_working(
    make_api_app: Callable[..., Flask], mini_wechat: FakeWeChat
) -> None:
    from tests.support.api_fixtures import log_in

    first = make_api_app()
    resident = log_in(first.test_client(), mini_wechat, "o-erin", "sorting")
    assert resident.get("/me/points").status_code == 200
    narrowed = make_api_app(miniprogram={"programs": PROGRAMS[:1]})
    response = narrowed.test_client().get("/api/v1/me/points", headers=resident.headers)
    assert (response.status_code, error_of(response)["code"]) == (401, "token_invalid")


def test_rate_limit_per_resident_with_retry_after(
    make_api_app: Callable[..., Flask], mini_wechat: FakeWeChat
) -> None:
    from tests.support.api_fixtures import log_in

    app = make_api_app(miniprogram={"requests_per_minute": 3, "requests_per_minute_ip": 1000})
    alice = log_in(app.test_client(), mini_wechat, "o-alice")
    bob = log_in(app.test_client(), mini_wechat, "o-bob")
    statuses = [alice.get("/categories").status_code for _ in range(4)]
    if statuses[-1] == 200:  # the minute turned between requests: one more window
        statuses = [alice.get("/categories").status_code for _ in range(4)]
    assert 429 in statuses
    limited = alice.get("/categories")
    assert (limited.status_code, error_of(limited)["code"]) == (429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert bob.get("/categories").status_code == 200  # another resident is not limited


def test_rate_limit_per_ip(make_api_app: Callable[..., Flask], mini_wechat: FakeWeChat) -> None:
    app = make_api_app(miniprogram={"requests_per_minute_ip": 4, "sessions_per_minute_ip": 100})
    client = app.test_client()
    statuses = [client.get("/api/v1/openapi.json").status_code for _ in range(10)]
    assert statuses[:4].count(200) >= 3
    assert statuses[-1] == 429
    other = client.get("/api/v1/openapi.json", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200


def test_session_attempts_per_ip_are_limited(make_api_app: Callable[..., Flask]) -> None:
    app = make_api_app(miniprogram={"sessions_per_minute_ip": 2})
    client = app.test_client()
    codes = [
        client.post("/api/v1/session", json={"code": f"guess-{n}", "program": "report"}).status_code
        for n in range(6)
    ]
    assert codes.count(401) <= 4
    assert codes[-1] == 429


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/no/such/route", 404, "not_found"),
        ("delete", "/api/v1/categories", 405, "method_not_allowed"),
        ("post", "/api/v1/me/points", 405, "method_not_allowed"),
        ("get", "/api/v1/me/reports/abc", 404, "not_found"),
    ],
)
def test_flask_errors_under_the_api_are_json(
    api_app: Flask, login: Callable[..., Resident], method: str, path: str, status: int, code: str
) -> None:
    resident = login()
    response = getattr(api_app.test_client(), method)(path, headers=resident.headers)
    assert response.status_code == status
    assert error_of(response)["code"] == code
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_errors_outside_the_api_keep_their_own_form(api_app: Flask) -> None:
    response = api_app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_request_size_caps(make_api_app: Callable[..., Flask], mini_wechat: FakeWeChat) -> None:
    from tests.support.api_fixtures import log_in

    app = make_api_app(miniprogram={"max_body_bytes": 2048, "max_upload_bytes": 64 * 1024})
    client = app.test_client()
    big = client.post("/api/v1/session", json={"code": "x" * 5000, "program": "report"})
    assert (big.status_code, error_of(big)["code"]) == (413, "request_too_large")
    resident = log_in(client, mini_wechat, "o-frank")
    upload = resident.post(
        "/reports", data=b"-" * (70 * 1024), content_type="multipart/form-data; boundary=xyz"
    )
    assert (upload.status_code, error_of(upload)["code"]) == (413, "request_too_large")
    assert error_of(upload)["details"] == {"max_bytes": 64 * 1024}


def test_behind_a_proxy_limits_count_the_forwarded_client(make_api_app: Callable[..., Flask]) -> None:
    app = make_api_app(proxy_hops=1, miniprogram={"requests_per_minute_ip": 2})
    client = app.test_client()

    def status(client_ip: str) -> int:
        return client.get("/api/v1/openapi.json", headers={"X-Forwarded-For": client_ip}).status_code

    first = [status("203.0.113.5") for _ in range(4)]
    assert first[-1] == 429
    assert status("203.0.113.6") == 200  # another client behind the same proxy

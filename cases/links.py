"""Signed, expiring links to the page where a resident reads an answer (the template message's link).

The token names a case and one reply of it, signed with the app's ``secret_key`` (itsdangerous,
Flask's own signing) under a salt of its own; it expires after ``[cases] link_max_age_days``. The
page shows that case's number, the resident's words and the staff's replies, and nothing else.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "cases.answer"
PATH = "/answers/"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def make_token(secret: str, case_id: int) -> str:
    return _serializer(secret).dumps({"case": case_id})


def read_token(secret: str, token: str, max_age_days: int) -> int | None:
    """The case id the token names, or None when it is forged, malformed or expired."""
    try:
        data = _serializer(secret).loads(token, max_age=max_age_days * 86400)
    except BadSignature:  # SignatureExpired is one too
        return None
    case_id = data.get("case") if isinstance(data, dict) else None
    return case_id if isinstance(case_id, int) else None


def answer_url(base_url: str, secret: str, case_id: int) -> str:
    return base_url.rstrip("/") + PATH + make_token(secret, case_id)

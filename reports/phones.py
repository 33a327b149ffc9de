"""Residents' mobile numbers for phone-credit payouts: validation, masking, binding."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from reports.models import PhoneBinding

# Mainland China mobile numbers: 11 digits, 1 then 3-9.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


class InvalidPhoneError(ValueError):
    """Not a mainland mobile number."""


def normalize_mobile(text: str) -> str:
    """``+86 138-0013-8000`` -> ``13800138000``; raise InvalidPhoneError otherwise."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MOBILE.match(digits):
        raise InvalidPhoneError("not a mainland mobile number")
    return digits


def mask(phone: str) -> str:
    """``13800138000`` -> ``138****8000``."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def bind_phone(session: Session, openid: str, text: str, *, now: datetime | None = None) -> PhoneBinding:
    phone = normalize_mobile(text)
    now = now or utcnow()
    binding = session.get(PhoneBinding, openid)
    if binding is None:
        binding = PhoneBinding(openid=openid, phone=phone, bound_at=now, updated_at=now)
        session.add(binding)
    else:
        binding.phone = phone
        binding.updated_at = now
    session.flush()
    return binding


def phone_of(session: Session, openid: str) -> str | None:
    binding = session.get(PhoneBinding, openid)
    return None if binding is None else binding.phone

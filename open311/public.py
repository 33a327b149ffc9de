"""Which reports are public and what of them is: the Open311 view of the reports domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.texts import Texts
from reports.models import Category, Report, ReportStatus

S = ReportStatus
# Past review: a reviewer has accepted them, so they describe a real incident, not a claim.
PUBLIC_STATUSES: tuple[ReportStatus, ...] = (S.ACCEPTED, S.RESOLVED, S.CLOSED)
OPEN311_STATUS: dict[ReportStatus, str] = {S.ACCEPTED: "open", S.RESOLVED: "closed", S.CLOSED: "closed"}
STATUSES_FOR: dict[str, tuple[ReportStatus, ...]] = {"open": (S.ACCEPTED,), "closed": (S.RESOLVED, S.CLOSED)}

# The fields of GeoReport v2's service and service request; nothing else is ever written.
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type", "keywords", "group")
REQUEST_FIELDS = (
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
)


def services(session: Session, texts: Texts) -> list[dict[str, Any]]:
    query = select(Category).where(Category.active.is_(True)).order_by(Category.position, Category.id)
    return [
        {
            "service_code": category.code,
            "service_name": category.name,
            "description": texts("open311.service_description", name=category.name),
            "metadata": False,
            "type": "realtime",
            "keywords": category.name,
            "group": texts("open311.group"),
        }
        for category in session.scalars(query)
    ]


def public_reports(
    session: Session,
    *,
    numbers: Sequence[str] | None = None,
    service_codes: Sequence[str] | None = None,
    statuses: Sequence[ReportStatus] = PUBLIC_STATUSES,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[Report]:
    """Public reports, newest first; ``statuses`` are narrowed to public ones whatever is asked."""
    allowed = [status for status in statuses if status in PUBLIC_STATUSES]
    query = select(Report).join(Category).where(Report.status.in_(allowed))
    if numbers is not None:
        query = query.where(Report.number.in_([number.strip().upper() for number in numbers]))
    if service_codes:
        query = query.where(Category.code.in_(service_codes))
    if start is not None:
        query = query.where(Report.created_at >= start)
    if end is not None:
        query = query.where(Report.created_at <= end)
    return list(session.scalars(query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit)))


def request_view(report: Report, texts: Texts, zone: ZoneInfo, decimals: int) -> dict[str, Any]:
    """A service request with only public-safe fields (absent ones are left out)."""
    return {
        "service_request_id": report.number,
        "status": OPEN311_STATUS[report.status],
        "service_name": report.category.name,
        "service_code": report.category.code,
        "agency_responsible": texts("open311.agency"),
        "requested_datetime": report.created_at.astimezone(zone).isoformat(timespec="seconds"),
        "updated_datetime": report.updated_at.astimezone(zone).isoformat(timespec="seconds"),
        "lat": round(report.lat, decimals),
        "long": round(report.lon, decimals),
    }

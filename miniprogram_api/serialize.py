"""The API's views of domain objects, as response models (times are ISO 8601 with the bureau's UTC
offset)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.texts import Texts
from miniprogram_api import schemas
from reports.models import Category, LedgerEntry, LedgerKind, Report
from reports.rewards import label_key


def when(value: datetime | None, zone: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")


def category_view(category: Category) -> schemas.Category:
    return schemas.Category(
        code=category.code, name=category.name, points=category.points, review_hours=category.review_hours
    )


def report_points(session: Session, report_id: int) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.report_id == report_id, LedgerEntry.kind.in_((LedgerKind.EARN, LedgerKind.REVERSE))
    )
    return int(session.scalar(query) or 0)


def report_view(session: Session, report: Report, texts: Texts, zone: ZoneInfo) -> schemas.Report:
    """The reporter's own view of a report (never shown to anyone else)."""
    reason = None
    if report.reason_code and f"reports.reasons.{report.reason_code}" in texts:
        reason = texts(f"reports.reasons.{report.reason_code}")
    original = session.get(Report, report.duplicate_of_id) if report.duplicate_of_id else None
    return schemas.Report.model_validate(
        {
            "id": report.id,
            "number": report.number,
            "status": str(report.status),
            "status_text": texts(f"reports.status.{report.status}"),
            "category": {"code": report.category.code, "name": report.category.name},
            "location": {"lat": report.given_lat, "lon": report.given_lon, "datum": report.given_datum},
            "address": report.address,
            "description": report.description,
            "reason_code": report.reason_code,
            "reason": reason,
            "duplicate_of": None if original is None else original.number,
            "points": report_points(session, report.id),
            "photos": [
                {
                    "position": photo.position,
                    "status": str(photo.status),
                    "width": photo.width,
                    "height": photo.height,
                }
                for photo in report.photos
            ],
            "created_at": when(report.created_at, zone),
            "updated_at": when(report.updated_at, zone),
        }
    )


def ledger_view(entry: LedgerEntry, number: str | None, texts: Texts, zone: ZoneInfo) -> schemas.LedgerEntry:
    return schemas.LedgerEntry.model_validate(
        {
            "id": entry.id,
            "kind": str(entry.kind),
            "points": entry.points,
            "label": texts(label_key(entry)),
            "report_number": number,
            "created_at": when(entry.created_at, zone),
        }
    )

"""Duplicate suggestions for the reviewer: one incident, one reward.

A report is a likely duplicate of another when they share the category and lie within a radius
(default 50 m) and a time window (default 24 h) of each other while the other is open or accepted,
or when they carry the same photo (SHA-256) or a near-identical one (perceptual-hash Hamming
distance). Candidates are suggestions: the reviewer decides with ``workflow.mark_duplicate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from geopy.distance import geodesic
from sqlalchemy import select
from sqlalchemy.orm import Session

from reports.models import OPEN_OR_ACCEPTED, Photo, Report
from reports.photos import hamming
from reports.settings import ReportsSettings

METRES_PER_DEGREE_LAT = 111_320.0


@dataclass
class Candidate:
    report_id: int
    number: str
    status: str
    reasons: set[str]
    distance_m: float | None = None
    hamming: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_id": self.report_id,
            "number": self.number,
            "status": self.status,
            "reasons": sorted(self.reasons),
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "hamming": self.hamming,
        }


def _nearby(session: Session, report: Report, settings: ReportsSettings) -> list[tuple[Report, float]]:
    radius = settings.duplicate_radius_m
    window = timedelta(hours=settings.duplicate_window_hours)
    dlat = radius / METRES_PER_DEGREE_LAT
    dlon = radius / (METRES_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(report.lat))))
    query = select(Report).where(
        Report.id != report.id,
        Report.category_id == report.category_id,
        Report.status.in_(OPEN_OR_ACCEPTED),
        Report.created_at.between(report.created_at - window, report.created_at + window),
        Report.lat.between(report.lat - dlat, report.lat + dlat),
        Report.lon.between(report.lon - dlon, report.lon + dlon),
    )
    found = []
    for other in session.scalars(query):
        distance = geodesic((report.lat, report.lon), (other.lat, other.lon)).meters
        if distance <= radius:
            found.append((other, distance))
    return found


def _same_photos(
    session: Session, report: Report, settings: ReportsSettings
) -> list[tuple[Report, str, int]]:
    """(other report, reason, hamming) for photos equal by SHA-256 or close by perceptual hash."""
    mine = [photo for photo in report.photos if photo.sha256 and photo.phash]
    if not mine:
        return []
    found: list[tuple[Report, str, int]] = []
    digests = {photo.sha256 for photo in mine}
    exact = select(Photo.report_id).where(Photo.sha256.in_(digests), Photo.report_id != report.id).distinct()
    exact_ids = set(session.scalars(exact))
    for other in session.scalars(select(Report).where(Report.id.in_(exact_ids))):
        found.append((other, "same_photo", 0))
    since = report.created_at - timedelta(days=settings.photo_match_days)
    similar = (
        select(Photo.report_id, Photo.phash)
        .join(Report, Report.id == Photo.report_id)
        .where(Photo.report_id != report.id, Photo.phash.is_not(None), Report.created_at >= since)
    )
    if exact_ids:
        similar = similar.where(Photo.report_id.not_in(exact_ids))
    best: dict[int, int] = {}
    for report_id, phash in session.execute(similar):
        if phash is None:  # excluded by the query; narrows the column's type
            continue
        distance = min(hamming(phash, photo.phash or "0") for photo in mine)
        if distance <= settings.photo_hash_max_distance:
            best[report_id] = min(distance, best.get(report_id, 64))
    if best:
        for other in session.scalars(select(Report).where(Report.id.in_(best))):
            found.append((other, "similar_photo", best[other.id]))
    return found


def find_candidates(session: Session, report: Report, settings: ReportsSettings) -> list[Candidate]:
    """Likely duplicates of ``report``: same photo first, then by distance."""
    candidates: dict[int, Candidate] = {}

    def entry(other: Report) -> Candidate:
        if other.id not in candidates:
            candidates[other.id] = Candidate(other.id, other.number, str(other.status), set())
        return candidates[other.id]

    for other, distance in _nearby(session, report, settings):
        candidate = entry(other)
        candidate.reasons.add("nearby")
        candidate.distance_m = distance
    for other, reason, bits in _same_photos(session, report, settings):
        candidate = entry(other)
        candidate.reasons.add(reason)
        candidate.hamming = bits if candidate.hamming is None else min(candidate.hamming, bits)
    return sorted(
        candidates.values(),
        key=lambda c: (
            "same_photo" not in c.reasons,
            c.hamming if c.hamming is not None else 65,
            c.distance_m if c.distance_m is not None else math.inf,
            c.report_id,
        ),
    )


def flag_duplicates(session: Session, report_id: int, settings: ReportsSettings) -> list[Candidate]:
    """Recompute and store the suggestions on the report (None when there are none)."""
    report = session.get(Report, report_id)
    if report is None:
        return []
    candidates = find_candidates(session, report, settings)
    report.duplicate_candidates = [c.as_dict() for c in candidates] or None
    session.flush()
    return candidates

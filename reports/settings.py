"""The ``[reports]`` section of 文明随手拍."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.core.config import Section, time_zone


class ReportsSettings(Section):
    """文明随手拍: photo reports, duplicate checks, rewards and notifications."""

    timezone: str = "Asia/Shanghai"
    number_prefix: str = Field("SP", pattern=r"^[A-Z]{1,4}$")
    # Duplicates: same category within this radius and window, or the same / a near-identical photo.
    duplicate_radius_m: float = Field(50.0, gt=0)
    duplicate_window_hours: float = Field(24.0, gt=0)
    photo_hash_max_distance: int = Field(6, ge=0, le=64)
    photo_match_days: int = Field(30, ge=1)
    # Rewards: caps per resident (0 = no cap); payouts.
    daily_points_cap: int = Field(50, ge=0)
    monthly_points_cap: int = Field(300, ge=0)
    payout_min_points: int = Field(1, ge=1)
    points_per_yuan: int = Field(1, ge=1)
    payout_four_eyes: bool = True
    # Abuse: reports per resident.
    reports_per_hour: int = Field(5, ge=1)
    reports_per_day: int = Field(20, ge=1)
    # Photos.
    storage_dir: str = ""
    max_photos: int = Field(3, ge=1, le=9)
    photo_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # The decoding budget of one photo. Its pixel count is read from the header and checked before
    # anything is decoded (Pillow's decompression-bomb guard is set to it as well); a JPEG is then
    # decoded at the smallest DCT scale that still gives the derivative all its pixels. Measured at
    # 25 MP on one core: a JPEG ~0.5 s and +80 MB, a PNG ~1 s and +160 MB of a worker (unguarded,
    # a 113 KB PNG of 6300x6300 took 1.6 s and +370 MB).
    photo_max_pixels: int = Field(25_000_000, ge=10_000)
    # Bytes of data that is neither image nor known metadata (JPEG comments and unknown segments,
    # PNG text and private chunks) a photo may carry; archives and executables are refused anyway.
    photo_max_extra_bytes: int = Field(64 * 1024, ge=0)
    derivative_max_px: int = Field(1600, ge=64)
    exif_max_age_hours: float = Field(72.0, gt=0)
    media_validity_hours: float = Field(72.0, gt=0)
    download_max_attempts: int = Field(8, ge=1)
    retry_base_seconds: float = Field(60.0, gt=0)
    retry_max_seconds: float = Field(6 * 3600.0, gt=0)
    # Notifications.
    service_window_hours: float = Field(48.0, gt=0)
    template_id: str = ""
    template_url: str = ""
    template_fields: dict[str, str] = Field(
        default_factory=lambda: {
            "first": "first",
            "number": "keyword1",
            "status": "keyword2",
            "time": "keyword3",
            "remark": "remark",
        }
    )
    notify_max_attempts: int = Field(8, ge=1)
    # The chat conversation: an idle draft is closed after this many seconds.
    draft_timeout: int = Field(1800, ge=60)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return time_zone(value)

    @field_validator("template_fields")
    @classmethod
    def _template_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - {"first", "number", "status", "time", "remark"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; use first, number, status, time, remark")
        return value

"""Settings: defaults, then a TOML file, then CITYBOT_* environment variables; validated once.

The file comes from ``CITYBOT_CONFIG`` (or ``citybot --config PATH``). Every key of a section can be
overridden by ``CITYBOT_<SECTION>_<KEY>`` and every top-level key by ``CITYBOT_<KEY>``, so secrets
never have to live in the file. A missing or malformed value stops start-up with a message that
names the key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

ENV_PREFIX = "CITYBOT_"
CONFIG_ENV = "CITYBOT_CONFIG"
# secret_key signs console sessions and API tokens: the built-in default, or anything shorter than
# this, is refused unless the configuration declares itself a demo (``demo = true``).
DEFAULT_SECRET_KEY = "change-me"
MIN_SECRET_KEY = 32


class ConfigError(Exception):
    """Raised when the configuration cannot be used; the message names the offending keys."""


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known IANA time zone") from exc
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeChatSettings(_Section):
    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    encrypted_only: bool = False
    api_base_url: str = "https://api.weixin.qq.com"
    timestamp_window: int = Field(300, ge=1)
    max_body_bytes: int = Field(65536, ge=1024)
    api_timeout: float = Field(5.0, gt=0)
    token_refresh_margin: int = Field(300, ge=0)
    token_endpoint: Literal["stable", "classic"] = "stable"

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: str) -> str:
        if not value:
            return value
        if len(value) != 43:
            raise ValueError("must be 43 characters (empty means plain mode)")
        try:
            key = base64.b64decode(value + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("is not valid base64") from exc
        if len(key) != 32:
            raise ValueError("must decode to 32 bytes")
        return value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _mode(self) -> WeChatSettings:
        if self.encrypted_only and not self.encoding_aes_key:
            raise ValueError("encrypted_only needs encoding_aes_key")
        if self.encoding_aes_key and not self.app_id:
            raise ValueError("encoding_aes_key needs app_id (it is checked inside every ciphertext)")
        return self

    @property
    def safe_mode(self) -> bool:
        return bool(self.encoding_aes_key)


class IntakeSettings(_Section):
    """How the webhook keeps every verified message and every reply (bot.chat.inbox, bot.chat.recovery)."""

    # Seconds one WeChat attempt may take before its answer no longer counts (WeChat waits 5 s).
    passive_budget: float = Field(4.5, ge=0.5, le=4.9)
    # Seconds a handler holds a message; an attempt that died is taken over after this.
    lease: float = Field(8.0, ge=1.0, le=600.0)
    # Seconds after the first delivery by which WeChat has stopped retrying (3 attempts of 5 s);
    # a reply no attempt took by then goes out as a customer-service message.
    retry_horizon: float = Field(16.0, ge=5.0, le=600.0)
    # Seconds a message waits for the same resident's earlier messages still being handled.
    order_wait: float = Field(1.0, ge=0.0, le=4.0)
    # Where verified messages wait while the database is unreachable ("": <instance_path>/spool).
    spool_dir: str = ""
    # Seconds between passes of each worker's recovery loop (0: no loop; run `citybot messages recover`).
    recovery_interval: float = Field(1.0, ge=0.0, le=300.0)
    # Customer-service sends over quota (45047) or with WeChat unreachable are tried this often.
    delivery_attempts: int = Field(5, ge=1, le=50)
    delivery_backoff: float = Field(30.0, ge=1.0)

    @model_validator(mode="after")
    def _horizon(self) -> IntakeSettings:
        if self.retry_horizon <= self.lease:
            raise ValueError("retry_horizon must exceed lease (a retry must be able to take a lease over)")
        return self


class ConversationSettings(_Section):
    timeout: int = Field(1800, ge=10)


class TextsSettings(_Section):
    file: str = ""


class LoggingSettings(_Section):
    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper


class ConsoleSettings(_Section):
    """The staff web console at /console."""

    # Seconds without a request after which a console session ends.
    session_idle_timeout: int = Field(1800, ge=60)
    # Seconds after login at which a console session ends however active it is.
    session_max_age: int = Field(43200, ge=300)
    # Send the session cookie only over HTTPS (turn off only for plain-HTTP development).
    secure_cookies: bool = True
    # Failed logins for one username before it is locked, and for one client address.
    max_failures_per_user: int = Field(5, ge=1)
    max_failures_per_ip: int = Field(20, ge=1)
    # Seconds a username or address stays locked; failures are counted over the same window.
    lock_seconds: int = Field(900, ge=10)
    # Largest accepted upload (datasets), in bytes.
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)


Bounds = tuple[float, float, float, float]


class GeoSettings(_Section):
    """一键查找: nearest facilities. Coordinates here are WGS-84."""

    results: int = Field(5, ge=1, le=10)  # N nearest shown
    radius_m: float = Field(2000.0, gt=0, le=50_000)
    origin_ttl: int = Field(1800, ge=60)  # seconds a sent location is remembered
    # [south, west, north, east]; rows outside are rejected by the loaders. Empty: no area check.
    service_area: Bounds | None = None
    navigation: Literal["amap", "tencent"] = "amap"
    navigation_app: str = Field("citybot", min_length=1, max_length=64)  # Amap src / Tencent referer
    walking_speed: float = Field(75.0, gt=0)  # metres per minute
    walking_detour: float = Field(1.3, ge=1.0, le=3.0)  # street distance / straight-line distance
    timezone: str = "Asia/Shanghai"
    holiday_country: str = "CN"  # public holidays for "PH" in opening hours; empty: from coordinates
    duplicate_radius_m: float = Field(10.0, ge=0, le=1000)
    keywords: dict[str, str] = Field(default_factory=dict)  # kind -> keyword, e.g. {toilet = "3"}
    labels: dict[str, str] = Field(default_factory=dict)  # kind -> label

    @field_validator("service_area")
    @classmethod
    def _area(cls, value: Bounds | None) -> Bounds | None:
        if value is None:
            return None
        south, west, north, east = value
        if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
            raise ValueError("must be [south, west, north, east] with south < north and west < east")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _time_zone(value)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("must be an ISO 3166 two-letter country code, or empty")
        return value.upper()

    @field_validator("keywords", "labels")
    @classmethod
    def _per_kind(cls, value: dict[str, str]) -> dict[str, str]:
        from geodata.kinds import PoiKind

        known = {kind.value for kind in PoiKind}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown kinds {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        if any(not text.strip() for text in value.values()):
            raise ValueError("must not be empty")
        return {kind: text.strip() for kind, text in value.items()}

    @model_validator(mode="after")
    def _distinct_keywords(self) -> GeoSettings:
        from geodata.kinds import PoiKind

        keywords = [self.keywords.get(kind.value, kind.keyword) for kind in PoiKind]
        if len(set(keywords)) != len(keywords):
            raise ValueError("keywords: two kinds share a keyword")
        return self


class JobsSettings(_Section):
    """Background jobs: RQ on Redis when ``redis_url`` is set, else inline after the commit."""

    queue: str = "citybot"
    job_timeout: int = Field(300, ge=1)


class ReportsSettings(_Section):
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
        return _time_zone(value)

    @field_validator("template_fields")
    @classmethod
    def _template_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - {"first", "number", "status", "time", "remark"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; use first, number, status, time, remark")
        return value


class MiniProgram(_Section):
    """One mini program of the bureau (垃圾分类助手, 随手拍): its name in requests, app id and secret."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    app_id: str = Field(min_length=1)
    app_secret: str = Field(min_length=1, repr=False)


class MiniProgramSettings(_Section):
    """The /api/v1 REST API for the mini programs."""

    # The mini programs; a request names one by ``program`` (its name or app id) when there are several.
    # From the environment, as JSON:
    # CITYBOT_MINIPROGRAM_PROGRAMS='[{"name": "...", "app_id": "...", "app_secret": "..."}]'.
    programs: list[MiniProgram] = Field(default_factory=list)
    token_ttl: int = Field(7200, ge=60, le=30 * 86400)
    # WeChat's session_key is kept server-side (never sent anywhere) for this long.
    session_key_ttl: int = Field(3 * 86400, ge=60)
    # Requests per minute per resident (openid) and per client IP, over every route; 0 = no limit.
    requests_per_minute: int = Field(120, ge=0)
    requests_per_minute_ip: int = Field(600, ge=0)
    # POST /session per minute per client IP (each one calls WeChat).
    sessions_per_minute_ip: int = Field(20, ge=0)
    # Largest request body: a report upload (photos and fields together) and any other request.
    max_upload_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    # Upper bound of ``limit`` on /places/nearest (its default is geo.results).
    nearest_max: int = Field(20, ge=1, le=100)
    # An Idempotency-Key is remembered (in the store) for this long; the database keeps it for good.
    idempotency_ttl: int = Field(86400, ge=60)

    @field_validator("programs", mode="before")
    @classmethod
    def _programs_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else []
            except ValueError as exc:
                raise ValueError("must be a JSON list of {name, app_id, app_secret}") from exc
        return value

    @model_validator(mode="after")
    def _unique(self) -> MiniProgramSettings:
        for attribute in ("name", "app_id"):
            values = [getattr(program, attribute) for program in self.programs]
            if len(values) != len(set(values)):
                raise ValueError(f"two mini programs share the same {attribute}")
        return self

    def program(self, ref: str | None) -> MiniProgram | None:
        """The program named (or with the app id) ``ref``; the only one when ``ref`` is empty."""
        if not ref:
            return self.programs[0] if len(self.programs) == 1 else None
        return next((p for p in self.programs if ref in (p.name, p.app_id)), None)


class Open311Settings(_Section):
    """The read-only Open311 GeoReport v2 API over public reports."""

    enabled: bool = True
    # Empty: requests need no jurisdiction_id; set: a different one is refused.
    jurisdiction_id: str = ""
    contact: str = ""
    key_service: str = ""
    # Public locations are rounded to this many decimal places (3: about 100 m).
    location_decimals: int = Field(3, ge=2, le=4)
    max_results: int = Field(1000, ge=1, le=10000)
    requests_per_minute_ip: int = Field(120, ge=0)


class WasteSettings(_Section):
    """垃圾分类: item lookups. A near match needs at least this score (0-100)."""

    min_score: float = Field(72.0, ge=0, le=100)
    suggestions: int = Field(3, ge=0, le=10)


class BroadcastSettings(_Section):
    """城管发布: the menu, the content lexicon, the monthly mass-send quota and its rhythm."""

    menu_file: str = ""
    lexicon_file: str = ""
    monthly_quota: int = Field(4, ge=0, le=100)
    timezone: str = "Asia/Shanghai"
    staff_tag: str = "城管工作人员"
    default_cover: str = ""
    latest_count: int = Field(5, ge=1, le=10)
    rhythm_tolerance: float = Field(1.0, ge=0)
    send_ignore_reprint: bool = False
    notify_reviewers: bool = True

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _time_zone(value)

    @field_validator("staff_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        if not value.strip() or len(value) > 30:
            raise ValueError("must be 1-30 characters (a WeChat user tag name)")
        return value.strip()


class Settings(_Section):
    database_url: str = "sqlite:///instance/citybot.db"
    redis_url: str = ""
    redis_prefix: str = "citybot:"
    # A demo configuration (config.demo.toml): a public or short secret_key is then accepted.
    demo: bool = False
    secret_key: str = Field(DEFAULT_SECRET_KEY, repr=False, validate_default=True)
    instance_path: str = "instance"
    # Reverse proxies in front of citybot that set X-Forwarded-For/-Proto (0: none); per-IP limits
    # count the client address they report.
    proxy_hops: int = Field(0, ge=0, le=5)
    wechat: WeChatSettings = WeChatSettings()
    intake: IntakeSettings = IntakeSettings()
    conversation: ConversationSettings = ConversationSettings()
    texts: TextsSettings = TextsSettings()
    logging: LoggingSettings = LoggingSettings()
    geo: GeoSettings = GeoSettings()
    jobs: JobsSettings = JobsSettings()
    reports: ReportsSettings = ReportsSettings()
    miniprogram: MiniProgramSettings = MiniProgramSettings()
    open311: Open311Settings = Open311Settings()
    waste: WasteSettings = WasteSettings()
    console: ConsoleSettings = ConsoleSettings()
    broadcasts: BroadcastSettings = BroadcastSettings()

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and not re.match(r"^(redis|rediss|unix)://", value):
            raise ValueError("must start with redis://, rediss:// or unix:// (empty: in-process store)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("demo"):
            return value
        how = (
            f"set a random value of at least {MIN_SECRET_KEY} characters in CITYBOT_SECRET_KEY "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), or demo = true for a demo"
        )
        if value == DEFAULT_SECRET_KEY:
            raise ValueError(f"is the built-in default {DEFAULT_SECRET_KEY!r}; {how}")
        if len(value) < MIN_SECRET_KEY:
            raise ValueError(f"has {len(value)} characters, fewer than {MIN_SECRET_KEY}; {how}")
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9+]+://", value):
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///instance/citybot.db")
        return value


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, _Section):
            for sub in annotation.model_fields:
                env = f"{ENV_PREFIX}{name}_{sub}".upper()
                if env in environ:
                    found.setdefault(name, {})[sub] = environ[env]
        else:
            env = f"{ENV_PREFIX}{name}".upper()
            if env in environ:
                found[name] = environ[env]
    return found


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"  {key}: {message}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build validated settings; raise ConfigError naming every bad key."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV) or None
    data: dict[str, Any] = {}
    if path:
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file not found: {file}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {file} is not valid TOML: {exc}") from exc
    data = _deep_merge(data, _env_overrides(environ))
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None

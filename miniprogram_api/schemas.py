"""The pydantic models of every request and response of /api/v1, and the constants they hold.

The views validate queries and bodies with the request models and serialize answers through the
response models; ``miniprogram_api.openapi`` builds the OpenAPI document from the same models, so
limits and enums (facility kinds, statuses, datums, sorting categories) are written once, here or in
the domain's own enums.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.geo import Datum
from geodata.hours import OpenStatus
from geodata.kinds import PoiKind
from reports.imageformat import JPEG, PNG, WEBP
from reports.models import LedgerKind, PhotoStatus, ReportStatus
from waste.categories import WasteCategory

PREFIX = "/api/v1"
MAX_ID = 2**31 - 1
PHONE_PATTERN = r"^(?:(?:\+|00)?86)?1[3-9][0-9]{9}$"
IDEMPOTENCY_PATTERN = r"^[\x21-\x7e]{1,128}$"
PHOTO_TYPES = (JPEG, PNG, WEBP)
# Text holds no control characters (tab, line feed and carriage return are text): a request with one
# anywhere is refused with 422 before any view runs (``bot.core.inputs``); the pattern documents that.
TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


class ApiDatum(StrEnum):
    """The datums a mini program sends and receives (Baidu's BD-09 is for the chat's links only)."""

    GCJ02 = Datum.GCJ02.value
    WGS84 = Datum.WGS84.value


def text(*, min_length: int | None = None, max_length: int) -> Any:
    """The constraints of a text field: its lengths, and no control characters."""
    return Field(min_length=min_length, max_length=max_length, pattern=TEXT_PATTERN)


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests --------------------------------------------------------------------------------------


class SessionRequest(_Strict):
    code: Annotated[str, text(min_length=1, max_length=128)] = Field(description="From wx.login.")
    program: Annotated[str, text(min_length=1, max_length=64)] | None = Field(
        None, description="The mini program's name or app id (or send the X-Mini-Program header)."
    )


class SessionHeaders(BaseModel):
    """Documents the header; the view reads it (a program it does not know is ``unknown_program``)."""

    mini_program: str | None = Field(None, alias="X-Mini-Program", min_length=1, max_length=64)


class SortingQuery(_Strict):
    q: Annotated[str, text(min_length=1, max_length=64)]


class NearestQuery(_Strict):
    kind: PoiKind
    lat: Latitude
    lon: Longitude
    datum: ApiDatum = ApiDatum.GCJ02
    # The largest limit is a setting (``miniprogram.nearest_max``), checked by the view.
    limit: int | None = Field(None, ge=1)


class PageQuery(_Strict):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)


class ReportPath(BaseModel):
    """Documents the path; Flask's int converter reads it, and a larger id is not found (404)."""

    report_id: int = Field(ge=1, le=MAX_ID)


class PhoneRequest(_Strict):
    phone: str = Field(pattern=PHONE_PATTERN)


class ReportFields(_Strict):
    """The text fields of the report form (``uploads.parse_upload`` validates them)."""

    category: Annotated[str, text(min_length=1, max_length=32)]
    lat: Latitude
    lon: Longitude
    datum: ApiDatum = ApiDatum.GCJ02
    description: Annotated[str, text(max_length=500)] = ""
    address: Annotated[str, text(max_length=255)] = ""


class ReportForm(ReportFields):
    """The whole multipart form: the fields and 1 to reports.max_photos photos (JPEG, PNG or WebP by
    their bytes), each checked for size and type before anything is decoded."""

    photos: list[bytes] = Field(min_length=1)


class ReportHeaders(BaseModel):
    """Documents the header; ``uploads.create_report`` checks it against the same pattern."""

    idempotency_key: str | None = Field(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_PATTERN,
        description="A retried request with the same key creates no second report.",
    )


# -- responses -------------------------------------------------------------------------------------


class Session(BaseModel):
    token: str
    token_type: Literal["Bearer"]
    expires_in: int
    expires_at: Timestamp
    program: str


class Place(BaseModel):
    id: int
    name: str
    address: str
    lat: float
    lon: float
    datum: ApiDatum
    distance_m: int = Field(ge=0)
    walking_minutes: int = Field(ge=1)
    open_status: OpenStatus | None
    opening_hours: str | None = Field(description="The opening hours as the dataset holds them (OSM syntax).")
    hours_text: str | None = Field(description="The opening hours in words (全天开放, 每天 06:00–22:00).")
    status_text: str | None = Field(description="Open or closed now and when that changes, in words.")
    capacity: int | None
    within_radius: bool
    navigation_url: Url


class Nearest(BaseModel):
    kind: PoiKind
    label: str
    datum: ApiDatum
    radius_m: float
    has_dataset: bool
    in_season: bool
    places: list[Place]


class ReportCategory(BaseModel):
    code: str
    name: str


class Location(BaseModel):
    lat: float
    lon: float
    datum: Datum


class ReportPhoto(BaseModel):
    position: int
    status: PhotoStatus
    width: int | None
    height: int | None


class Report(BaseModel):
    id: int
    number: str
    status: ReportStatus
    status_text: str
    category: ReportCategory
    location: Location
    address: str
    description: str
    reason_code: str | None
    reason: str | None
    duplicate_of: str | None
    points: int
    photos: list[ReportPhoto]
    created_at: Timestamp
    updated_at: Timestamp


class Reports(BaseModel):
    reports: list[Report]


class Category(BaseModel):
    code: str
    name: str
    points: int
    review_hours: int


class Categories(BaseModel):
    categories: list[Category]


class LedgerEntry(BaseModel):
    id: int
    kind: LedgerKind
    points: int
    label: str
    report_number: str | None
    created_at: Timestamp


class Points(BaseModel):
    balance: int
    phone: str | None = Field(description="Masked, e.g. 138****8000.")
    entries: list[LedgerEntry]


class PhoneBinding(BaseModel):
    phone: str = Field(description="Masked, e.g. 138****8000.")


class SortingCategory(BaseModel):
    code: WasteCategory
    name: str
    guidance: str


class SortingItem(BaseModel):
    name: str
    note: str | None
    category: SortingCategory


class SortingMatch(SortingItem):
    score: float
    exact: bool


class Sorting(BaseModel):
    query: str
    match: SortingMatch | None
    suggestions: list[SortingItem]
    categories: list[SortingCategory]

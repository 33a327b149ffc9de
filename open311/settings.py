"""The ``[open311]`` section."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class Open311Settings(Section):
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

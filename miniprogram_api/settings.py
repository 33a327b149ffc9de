"""The ``[miniprogram]`` section: the bureau's mini programs and the API's limits."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator, model_validator

from bot.core.config import Section


class MiniProgram(Section):
    """One mini program of the bureau (垃圾分类助手, 随手拍): its name in requests, app id and secret."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    app_id: str = Field(min_length=1)
    app_secret: str = Field(min_length=1, repr=False)


class MiniProgramSettings(Section):
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

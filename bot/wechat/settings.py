"""The ``[wechat]`` section: the account's credentials, the signature window, the API client."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.config import Section


class WeChatSettings(Section):
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

"""The ``[console]`` section."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class ConsoleSettings(Section):
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

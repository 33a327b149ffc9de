"""Settings: defaults, then a TOML file, then CITYBOT_* environment variables; validated once.

The file comes from ``CITYBOT_CONFIG`` (or ``citybot --config PATH``). Every key of a section can be
overridden by ``CITYBOT_<SECTION>_<KEY>`` and every top-level key by ``CITYBOT_<KEY>``, so secrets
never have to live in the file. A missing or malformed value stops start-up with a message that
names the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

ENV_PREFIX = "CITYBOT_"
CONFIG_ENV = "CITYBOT_CONFIG"
# secret_key signs console sessions and API tokens: the built-in default, or anything shorter than
# this, is refused unless the configuration declares itself a demo (``demo = true``).
DEFAULT_SECRET_KEY = "change-me"
MIN_SECRET_KEY = 32


class ConfigError(Exception):
    """Raised when the configuration cannot be used; the message names the offending keys."""


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known IANA time zone") from exc
    return value


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextsSettings(Section):
    file: str = ""


class LoggingSettings(Section):
    level: str = "INFO"

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper


class JobsSettings(Section):
    """Background jobs: RQ on Redis when ``redis_url`` is set, else inline after the commit."""

    queue: str = "citybot"
    job_timeout: int = Field(300, ge=1)


S = TypeVar("S", bound=Section)


class Settings(Section):
    """The kernel's own settings. Each layer above and each feature adds its section: the
    composition root builds the whole model with :func:`compose`, and code reads a section by its
    type, ``settings.section(ReportsSettings)``, so the kernel names none of them."""

    section_names: ClassVar[Mapping[type[Section], str]] = MappingProxyType({})

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
    texts: TextsSettings = TextsSettings()
    logging: LoggingSettings = LoggingSettings()
    jobs: JobsSettings = JobsSettings()

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

    def section(self, model: type[S]) -> S:
        """The section of type ``model``; LookupError when no part of the app declared it."""
        try:
            name = self.section_names[model]
        except KeyError:
            raise LookupError(f"no settings section {model.__name__} in {type(self).__name__}") from None
        value: S = getattr(self, name)
        return value


M = TypeVar("M", bound="Settings")


def compose(sections: Mapping[str, type[Section]]) -> type[Settings]:
    """The settings model of an app: the kernel's settings plus one ``[name]`` section per entry."""
    clash = sorted(set(sections) & set(Settings.model_fields))
    if clash or len(set(sections.values())) != len(sections):
        raise ConfigError(f"settings sections declared twice: {', '.join(clash) or 'one model, two names'}")
    fields: dict[str, Any] = {name: (model, Field(default_factory=model)) for name, model in sections.items()}
    composed = create_model("Settings", __base__=Settings, __module__=__name__, **fields)
    composed.section_names = MappingProxyType({model: name for name, model in sections.items()})
    return composed


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(model: type[Settings], environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, Section):
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


def load(
    model: type[M],
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> M:
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
    data = _deep_merge(data, _env_overrides(model, environ))
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None

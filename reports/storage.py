"""Photo storage behind a small interface: private originals, public stripped derivatives.

``LocalStorage`` (the default) keeps them in two directories under one root; another backend
(object storage) implements the same five methods.
"""

from __future__ import annotations

import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

from bot.core.config import Settings
from reports.settings import ReportsSettings

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StorageKeyError(ValueError):
    """A key that could escape its directory or is otherwise malformed."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/") or len(key) > 255:
        raise StorageKeyError(f"bad storage key {key!r}")
    return key


class Storage(ABC):
    @abstractmethod
    def put(self, key: str, data: bytes, *, public: bool) -> None: ...

    @abstractmethod
    def get(self, key: str, *, public: bool) -> bytes: ...

    @abstractmethod
    def exists(self, key: str, *, public: bool) -> bool: ...

    @abstractmethod
    def delete(self, key: str, *, public: bool) -> bool: ...

    @abstractmethod
    def public_path(self, key: str) -> str:
        """Where a public derivative can be served from (a path or URL)."""


class LocalStorage(Storage):
    """``root/private`` (mode 0700) for originals, ``root/public`` for derivatives."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.private_dir = self.root / "private"
        self.public_dir = self.root / "public"

    def _path(self, key: str, public: bool) -> Path:
        return (self.public_dir if public else self.private_dir) / check_key(key)

    def put(self, key: str, data: bytes, *, public: bool) -> None:
        path = self._path(key, public)
        base = self.public_dir if public else self.private_dir
        base.mkdir(parents=True, exist_ok=True, mode=0o755 if public else 0o700)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755 if public else 0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644 if public else 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str, *, public: bool) -> bytes:
        return self._path(key, public).read_bytes()

    def exists(self, key: str, *, public: bool) -> bool:
        return self._path(key, public).is_file()

    def delete(self, key: str, *, public: bool) -> bool:
        path = self._path(key, public)
        if not path.is_file():
            return False
        path.unlink()
        return True

    def public_path(self, key: str) -> str:
        return str(self._path(key, True))


def make_storage(settings: Settings) -> Storage:
    root = settings.section(ReportsSettings).storage_dir or str(Path(settings.instance_path) / "reports")
    return LocalStorage(root)

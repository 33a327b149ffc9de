"""Uploaded files waiting for a decision: a dataset checked in a dry run, published a moment later.

Each upload is kept under ``<instance_path>/console/uploads`` with a random token, tied to the staff
member who sent it, and removed when published or after a day.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.core.clock import epoch

MAX_AGE = 24 * 3600
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass(frozen=True)
class Staged:
    token: str
    staff_id: int
    name: str
    meta: dict[str, Any]
    # When it was staged, on the app's clock (never the file's mtime: the kernel's clock is not ours).
    staged_at: float = 0.0


class Uploads:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.root / f"{token}.bin", self.root / f"{token}.json"

    def put(self, data: bytes, *, staff_id: int, name: str, **meta: Any) -> Staged:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.purge()
        token = secrets.token_urlsafe(24)
        body, about = self._paths(token)
        body.write_bytes(data)
        staged = Staged(token, staff_id, name, meta, epoch())
        about.write_text(json.dumps(asdict(staged), ensure_ascii=False), encoding="utf-8")
        return staged

    def get(self, token: str, staff_id: int) -> tuple[Staged, Path] | None:
        """The upload ``token`` of ``staff_id``; None when unknown, expired or someone else's."""
        if not TOKEN.match(token):
            return None
        body, about = self._paths(token)
        try:
            staged = Staged(**json.loads(about.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        if staged.staff_id != staff_id or not body.is_file() or epoch() - staged.staged_at > MAX_AGE:
            return None
        return staged, body

    def discard(self, token: str) -> None:
        if TOKEN.match(token):
            for path in self._paths(token):
                path.unlink(missing_ok=True)

    def purge(self) -> None:
        """Forget uploads older than MAX_AGE (and any whose description cannot be read)."""
        cutoff = epoch() - MAX_AGE
        for about in self.root.glob("*.json"):
            try:
                staged_at = float(json.loads(about.read_text(encoding="utf-8")).get("staged_at", 0.0))
            except (OSError, ValueError, TypeError, AttributeError):
                staged_at = 0.0
            if staged_at < cutoff:
                self.discard(about.stem)

"""Per-resident conversation state: a named state plus data, kept in the store with a timeout.

Changes are buffered and written only after the unit of work commits (see bot.inbox), so a handler
that fails leaves the conversation as it was.
"""

from __future__ import annotations

from typing import Any

from bot.clock import epoch
from bot.store import Store


class Conversation:
    def __init__(self, store: Store, openid: str, timeout: int) -> None:
        self._store = store
        self._key = f"conv:{openid}"
        self.timeout = timeout
        saved = store.get_json(self._key) or {}
        self.state: str | None = saved.get("state")
        self.data: dict[str, Any] = dict(saved.get("data") or {})
        self.started_at: float | None = saved.get("started_at")
        self._dirty = False

    def enter(self, state: str, **data: Any) -> None:
        """Move to ``state``; keeps existing data unless new values are given."""
        if self.state is None:
            self.started_at = epoch()
        self.state = state
        self.data.update(data)
        self._dirty = True

    def update(self, **data: Any) -> None:
        self.data.update(data)
        self._dirty = True

    def end(self) -> None:
        self.state = None
        self.data = {}
        self.started_at = None
        self._dirty = True

    def in_state(self, *states: str) -> bool:
        return self.state in states

    def save(self) -> None:
        if not self._dirty:
            return
        if self.state is None:
            self._store.delete(self._key)
        else:
            self._store.set_json(
                self._key,
                {"state": self.state, "data": self.data, "started_at": self.started_at},
                ttl=self.timeout,
            )
        self._dirty = False

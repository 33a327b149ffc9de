"""The chat engine's services, one part of the app's container: ``services.of(app).get(ChatServices)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.chat.routing import Dispatcher
    from bot.chat.spool import Spool
    from bot.wechat.crypto import MessageCrypto


class Loop(Protocol):
    """A background loop of this process (bot.chat.recovery.RecoveryLoop)."""

    def stop(self) -> None: ...


@dataclass(eq=False)
class ChatServices:
    """The dispatcher is handed over by the composition root (the features' routers); the spool and
    the recovery loop are built on first use, never at app creation."""

    dispatcher: Dispatcher
    # the safe-mode cipher, None in plain mode
    crypto: MessageCrypto | None = None
    spool: Spool | None = None
    # started by the first webhook request; the loop stays None when disabled
    recovery_started: bool = False
    recovery: Loop | None = None

"""The local spool: verified messages kept on disk while the database cannot take them.

When the journal insert fails because the database is unreachable, the webhook writes the
message's plaintext XML here (write to a temporary file, fsync, rename, fsync the directory) and
answers ``success``; the recovery loop replays the files, oldest first in WeChat's order, as soon
as the database is back, and the reply goes out as a customer-service message.

File names sort in WeChat's order and carry digests of the sender and the dedupe key::

    <CreateTime:011>-<MsgId:020>-<sender digest>-<key digest>.xml

so a WeChat retry of a spooled message rewrites the same file (idempotent), and the intake can
tell cheaply that a resident still has spooled messages (their later messages join the spool, so
one resident's messages are never answered out of order). Several workers replay the same folder:
each file is claimed with ``flock``, which the kernel releases if the worker dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("citybot.spool")

SUFFIX = ".xml"


def _digest(value: str, size: int = 16) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:size]


@dataclass(frozen=True)
class Spooled:
    path: Path
    sender_digest: str

    def read(self) -> str:
        return self.path.read_text("utf-8")


class Spool:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _name(self, *, key: str, sender: str, sent_at: int, msg_id: int) -> str:
        return f"{sent_at:011d}-{msg_id:020d}-{_digest(sender)}-{_digest(key, 24)}{SUFFIX}"

    def put(self, xml: str, *, key: str, sender: str, sent_at: int, msg_id: int) -> Path:
        """Keep ``xml`` durably; returns once it is on disk (the same key writes the same file)."""
        final = self.folder / self._name(
            key=key, sender=sender, sent_at=max(0, sent_at), msg_id=max(0, msg_id)
        )
        if final.exists():
            return final
        temporary = final.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, xml.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, final)
        self._sync_folder()
        return final

    def _sync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[Spooled]:
        """Spooled messages, oldest first in WeChat's order."""
        try:
            names = sorted(name for name in os.listdir(self.folder) if name.endswith(SUFFIX))
        except FileNotFoundError:
            return []
        return [Spooled(self.folder / name, name.split("-")[2]) for name in names]

    def depth(self) -> int:
        return len(self.entries())

    def holds_sender(self, sender: str) -> bool:
        """Whether ``sender`` still has spooled messages (their next ones must queue behind)."""
        digest = _digest(sender)
        return any(entry.sender_digest == digest for entry in self.entries())

    @contextlib.contextmanager
    def claim(self, entry: Spooled) -> Iterator[bool]:
        """Hold ``entry`` exclusively (True), or yield False if another worker holds it or it is gone."""
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield entry.path.exists()
        finally:
            os.close(fd)

    def remove(self, entry: Spooled) -> None:
        with contextlib.suppress(FileNotFoundError):
            entry.path.unlink()
        self._sync_folder()

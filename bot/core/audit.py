"""The one audit trail: who did what to which target, through which channel, from where, and when.

Every channel writes here: the web console, the command line, the chat, the mini-program API and
the system's own jobs. Rows are written in the same unit of work as the act they record and are
never changed or deleted (the ORM refuses it).

The kernel owns the trail, not its vocabulary: action codes (``report.accept``, ``draft.approve``,
``staff.disable``, ``dataset.load``...) and target kinds are strings owned by the domains that
write them. The channel and the client address come from the adapter the act came through
(:func:`through` for the command line and the chat, :func:`enter` per request for web adapters),
so domain code names neither.

What staff read about an entry is worded from the catalogue (:func:`describe`, :func:`actor_name`):
``audit.details.<action>`` is the action's sentence, ``audit.fields.<detail>`` the words for a detail
it does not use; a value that is a code (a role, a status, a reason) is looked up in the catalogue
namespaces the adapter's vocabulary names for it. Empty values are left out; nothing reads a raw
code, ``None`` or a Python list.
"""

from __future__ import annotations

import enum
import getpass
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import JSON, Enum, Index, Integer, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core.clock import utcnow
from bot.core.database import Base
from bot.core.paging import Page, paginate
from bot.core.texts import Texts


class Channel(enum.StrEnum):
    CONSOLE = "console"
    CLI = "cli"
    CHAT = "chat"
    API = "api"
    SYSTEM = "system"


@dataclass(frozen=True)
class Via:
    """The channel an act comes through, the client's address, and who acts when no one is named."""

    channel: Channel
    ip: str = ""
    actor: str = "system"


_SYSTEM = Via(Channel.SYSTEM)
_via: ContextVar[Via] = ContextVar("audit_via", default=_SYSTEM)


def current() -> Via:
    """The channel of the act under way: the request's (web adapters), else the one entered with
    :func:`through` (command line, chat), else the system."""
    if has_app_context():
        found = g.get("audit_via")
        if isinstance(found, Via):
            return found
    return _via.get()


@contextmanager
def through(channel: Channel, *, ip: str = "", actor: str | None = None) -> Iterator[Via]:
    """Acts inside the block come through ``channel``."""
    via = Via(channel, ip[:64], actor if actor is not None else str(channel))
    token = _via.set(via)
    try:
        yield via
    finally:
        _via.reset(token)


def enter(channel: Channel, *, ip: str = "") -> None:
    """Acts of the current request come through ``channel`` (call from a ``before_request``)."""
    g.audit_via = Via(channel, ip[:64], str(channel))


def os_user() -> str:
    """Who runs a command that names no staff member: ``cli:<login name>``."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class AuditEntry(Base):
    __tablename__ = "audit_trail"
    __table_args__ = (
        Index("ix_audit_trail_at", "at"),
        Index("ix_audit_trail_action_at", "action", "at"),
        Index("ix_audit_trail_channel_at", "channel", "at"),
        Index("ix_audit_trail_target", "target_kind", "target_id"),
        Index("ix_audit_trail_actor", "actor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The acting staff member's id, if one acted (not a foreign key: the trail outlives accounts).
    staff_id: Mapped[int | None] = mapped_column(Integer)
    # The name as typed or held at the time: a username, "system", "resident", "cli:<login>".
    actor: Mapped[str] = mapped_column(String(64))
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    action: Mapped[str] = mapped_column(String(64))
    # What was acted on: a kind ("report", "draft", "staff", "dataset", ...), its numeric id where it
    # has one, the version acted on, and a text naming it (a username, "draft:12", a dataset kind).
    target_kind: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    target_version: Mapped[int | None] = mapped_column(Integer)
    target: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")

    @property
    def detail_data(self) -> dict[str, Any]:
        return dict(self.details or {})


class AuditTamperError(RuntimeError):
    """An audit entry was about to be changed or deleted."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditTamperError(f"audit entry {target.id} is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditTamperError(f"audit entry {target.id} is append-only")


def _plain(value: Any) -> Any:
    """``value`` as JSON: enums by value, tuples and sets as lists, other objects as text."""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record(
    session: Session,
    action: str,
    *,
    actor: str | None = None,
    staff_id: int | None = None,
    target: str = "",
    target_kind: str = "",
    target_id: int | None = None,
    version: int | None = None,
    details: Mapping[str, Any] | None = None,
    channel: Channel | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry; the channel, address and default actor come from :func:`current`."""
    via = current()
    if not target and target_kind and target_id is not None:
        target = f"{target_kind}:{target_id}"
    entry = AuditEntry(
        at=at or utcnow(),
        staff_id=staff_id,
        actor=(via.actor if actor is None else actor)[:64],
        channel=channel or via.channel,
        action=action[:64],
        target_kind=target_kind[:32],
        target_id=target_id,
        target_version=version,
        target=target[:128],
        details={k: _plain(v) for k, v in (details or {}).items() if v is not None},
        ip=(via.ip if ip is None else ip)[:64],
    )
    session.add(entry)
    session.flush()
    return entry


def of_target(session: Session, kind: str, target_id: int, *, version: int | None = None) -> list[AuditEntry]:
    """Everything done to one target, oldest first (a report's history, a draft's trail)."""
    query = select(AuditEntry).where(AuditEntry.target_kind == kind, AuditEntry.target_id == target_id)
    if version is not None:
        query = query.where(AuditEntry.target_version == version)
    return list(session.scalars(query.order_by(AuditEntry.id)))


def search(
    session: Session,
    *,
    actor: str = "",
    action: str = "",
    channel: Channel | str = "",
    target: str = "",
    target_kind: str = "",
    target_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEntry]:
    """Newest first, filtered by exact actor, action prefix, channel, target and ``[since, until)``."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if channel:
        query = query.where(AuditEntry.channel == Channel(channel))
    if target:
        query = query.where(AuditEntry.target == target)
    if target_kind:
        query = query.where(AuditEntry.target_kind == target_kind)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return paginate(session, query, page=page, per_page=per_page, order_by=(AuditEntry.id.desc(),))


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


# -- wording an entry for staff ---------------------------------------------------------------------

#: "<action family>.<detail>" or "<detail>" -> the catalogue namespaces its code values are words in
Vocabulary = Mapping[str, tuple[str, ...]]

_CHANNEL_ACTORS = frozenset(channel.value for channel in Channel)


def actor_name(texts: Texts, actor: str) -> str:
    """Who acted, as staff read it: a username as is; 系统, 市民, 命令行（root）... from ``audit.actors``."""
    if actor in ("system", "resident") or actor in _CHANNEL_ACTORS:
        key = f"audit.actors.{actor}"
        return texts(key) if key in texts else actor
    if actor == "cli" or actor.startswith("cli:"):
        login = actor.partition(":")[2]
        return texts("audit.actors.cli_user", login=login) if login else texts("audit.actors.cli")
    return actor or texts("audit.actors.system")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _word(texts: Texts, namespaces: tuple[str, ...], value: Any) -> str:
    if isinstance(value, bool):
        return texts("audit.values.yes" if value else "audit.values.no")
    if isinstance(value, Mapping):  # e.g. a screening hit: its term is what a person reads
        shown = value.get("term") or value.get("name")
        return _word(texts, namespaces, shown) if shown is not None else ""
    if isinstance(value, list | tuple):
        words = [_word(texts, namespaces, item) for item in value if not _empty(item)]
        return "、".join(word for word in words if word)
    text = str(value)
    for namespace in namespaces:
        key = f"{namespace}.{text}"
        if key in texts:
            return texts(key)
    return text


def describe(texts: Texts, entry: AuditEntry, vocabulary: Vocabulary) -> str:
    """The entry's details as one sentence: its action's template, then the details it leaves out."""
    family = entry.action.split(".", 1)[0]
    words: dict[str, str] = {}
    for name, value in entry.detail_data.items():
        if _empty(value):
            continue
        namespaces = vocabulary.get(f"{family}.{name}") or vocabulary.get(name) or ()
        word = _word(texts, namespaces, value)
        if word:
            words[name] = word
    parts: list[str] = []
    template = f"audit.details.{entry.action}"
    if template in texts:
        needed = texts.placeholders(template)
        if needed <= words.keys():
            parts.append(texts(template, **{name: words.pop(name) for name in needed}))
    for name, word in words.items():
        for key in (f"audit.fields.{family}.{name}", f"audit.fields.{name}"):
            if key in texts:
                parts.append(texts(key, value=word))
                break
        else:
            parts.append(texts("audit.fields.other", value=word))
    return texts("audit.separator").join(parts)

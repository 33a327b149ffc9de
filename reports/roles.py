"""Who may act on reports: roles, and the actor who carries one."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from staff.models import Staff


class Role(enum.StrEnum):
    REVIEWER = "reviewer"
    REWARDS_OFFICER = "rewards_officer"
    ADMIN = "admin"
    SYSTEM = "system"  # automatic acts (jobs, timeouts)
    RESIDENT = "resident"  # the reporter, for the submission's audit entry


class PermissionDeniedError(Exception):
    """The actor's role does not allow the act."""


@dataclass(frozen=True)
class Actor:
    """A named actor with a role. ``openid`` is set for staff who also follow the account, so that
    nobody reviews a report of their own."""

    name: str
    role: Role
    openid: str | None = None

    def require(self, allowed: Iterable[Role], act: str) -> None:
        allowed = tuple(allowed)
        if self.role not in allowed and self.role != Role.ADMIN:
            names = ", ".join(sorted(role.value for role in allowed))
            raise PermissionDeniedError(f"{act} needs one of the roles {names}; {self.name} is {self.role}")


SYSTEM = Actor("system", Role.SYSTEM)
RESIDENT = Actor("resident", Role.RESIDENT)


def actor_for_staff(member: Staff, acting_as: Role) -> Actor:
    """The staff member acting in ``acting_as`` if they hold it, else as admin if they are one."""
    held = {role.value for role in member.roles} if member.active else set()
    for role in (acting_as, Role.ADMIN):
        if role.value in held:
            return Actor(member.username, role, openid=member.wechat_openid)
    state = "inactive" if not member.active else f"holds {member.roles_text or 'no role'}"
    raise PermissionDeniedError(f"{member.username} cannot act as {acting_as} ({state})")

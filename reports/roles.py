"""Who may act on reports: roles, and the actor who carries one."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


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


class UnknownActorError(LookupError):
    """The name is not on the staff roster."""


def actor_from_roster(staff: Mapping[str, str], name: str) -> Actor:
    """The actor named ``name`` with the role the roster gives them."""
    role = staff.get(name)
    if role is None:
        raise UnknownActorError(f"{name!r} is not on the staff roster ([reports] staff in the configuration)")
    return Actor(name, Role(role))

"""Who acts on reports: an actor carrying staff permissions.

Which role grants which permission is said once, in ``staff/roles.py``; the reports domain checks
permissions only. An actor's ``role`` is what the audit trail records the act under (a staff role,
``system`` or ``resident``), never something a check looks at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from bot.core.errors import Codes
from reports.errors import ReportsError
from staff.roles import GRANTS, Permission, permissions_of
from staff.roles import Role as StaffRole

if TYPE_CHECKING:
    from staff.models import Staff


class PermissionDeniedError(ReportsError):
    """The actor may not do the act. ``code`` says why:

    - ``not_permitted``: the actor lacks the permission the act needs (or the account is inactive);
    - ``own_report``: a decision on a report the staff member submitted themselves;
    - ``own_batch``: a payout batch confirmed by its creator (four eyes).
    """

    codes: ClassVar[Codes] = {"not_permitted": (), "own_report": (), "own_batch": ()}


@dataclass(frozen=True)
class Actor:
    """A named actor and the permissions they act with. ``openid`` is set for staff who also follow
    the account, so that nobody decides on a report of their own."""

    name: str
    permissions: frozenset[Permission]
    role: str  # recorded in the audit trail
    openid: str | None = None
    staff_id: int | None = None  # the staff account acting, recorded in the audit trail

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission, act: str) -> None:
        if permission not in self.permissions:
            raise PermissionDeniedError(
                "not_permitted", f"{act} needs the permission {permission}; {self.name} lacks it"
            )


SYSTEM = Actor("system", frozenset({Permission.REPORTS_ADVANCE}), "system")  # jobs, timeouts
RESIDENT = Actor("resident", frozenset(), "resident")  # the reporter, for the submission's audit entry


def recorded_role(roles: Iterable[StaffRole], duty: Permission) -> str:
    """The role an act needing ``duty`` is recorded under: the first of ``roles`` (in the order of
    staff/roles.py, admin last) that grants it; "" when none does."""
    held = set(roles)
    return next((role.value for role in StaffRole if role in held and duty in GRANTS[role]), "")


def staff_actor(name: str, *roles: StaffRole, openid: str | None = None) -> Actor:
    """An actor with the permissions of ``roles``, recorded under the first of them (jobs, tests)."""
    return Actor(name, permissions_of(set(roles)), roles[0].value if roles else "", openid=openid)


def actor_for_staff(member: Staff, duty: Permission) -> Actor:
    """The staff member acting with their permissions, for an act that needs ``duty``; refused
    at once when they lack it (an inactive account has no permissions)."""
    if not member.can(duty):
        state = "inactive" if not member.active else f"holds {member.roles_text or 'no role'}"
        raise PermissionDeniedError(
            "not_permitted", f"{member.username} lacks the permission {duty} ({state})"
        )
    return Actor(
        member.username,
        member.permissions,
        recorded_role(member.roles, duty),
        openid=member.wechat_openid,
        staff_id=member.id,
    )

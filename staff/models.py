"""Staff accounts and the functions that change them."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from bot.core.clock import utcnow
from bot.core.database import Base
from staff.errors import StaffError
from staff.roles import Permission, Role, parse_roles, permissions_of

__all__ = ["StaffError"]  # raised by every function here

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,31}$")
MIN_PASSWORD = 10
# werkzeug's scrypt (memory-hard); the method is recorded in each hash, so it can be raised later.
PASSWORD_METHOD = "scrypt"

# The audit trail's target kind of a staff account, and the act that disables one: sessions begun
# before it stay void after re-enabling.
STAFF = "staff"
STAFF_DISABLE = "staff.disable"


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles_text: Mapped[str] = mapped_column("roles", String(255), default="")
    active: Mapped[bool] = mapped_column(default=True)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Console sessions that started before this instant are over (set when the account is disabled).
    sessions_revoked_at: Mapped[datetime | None]

    @property
    def roles(self) -> frozenset[Role]:
        return parse_roles(self.roles_text)

    @roles.setter
    def roles(self, roles: frozenset[Role] | set[Role]) -> None:
        self.roles_text = ",".join(sorted(role.value for role in roles))

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles) if self.active else frozenset()

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(
            "password_too_short", f"password must have at least {MIN_PASSWORD} characters", min=MIN_PASSWORD
        )


def add(
    session: Session, username: str, password: str, roles: frozenset[Role], display_name: str = ""
) -> Staff:
    if not USERNAME.fullmatch(username):
        raise StaffError(
            "bad_username",
            "username: 3-32 characters, lowercase letters, digits, '_', '.', '-', starting with a letter",
        )
    if by_username(session, username) is not None:
        raise StaffError("exists", f"staff {username!r} already exists", username=username)
    _validate_password(password)
    member = Staff(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
        active=True,
    )
    member.roles = roles
    session.add(member)
    session.flush()
    return member


def by_username(session: Session, username: str) -> Staff | None:
    if not USERNAME.fullmatch(username):
        return None  # never a stored name (and PostgreSQL refuses NUL bytes in a query)
    return session.scalars(select(Staff).where(Staff.username == username)).one_or_none()


def by_openid(session: Session, openid: str) -> Staff | None:
    return session.scalars(
        select(Staff).where(Staff.wechat_openid == openid, Staff.active.is_(True))
    ).one_or_none()


def linked(session: Session, openid: str) -> bool:
    """Whether ``openid`` is linked to a staff account (active or not)."""
    found = session.scalar(select(Staff.id).where(Staff.wechat_openid == openid).limit(1))
    return found is not None


def require(session: Session, username: str) -> Staff:
    member = by_username(session, username)
    if member is None:
        raise StaffError("no_such_staff", f"no staff member {username!r}", username=username)
    return member


def set_roles(session: Session, username: str, roles: frozenset[Role]) -> Staff:
    member = require(session, username)
    member.roles = roles
    return member


def set_active(session: Session, username: str, active: bool) -> Staff:
    """Enable or disable the account; disabling ends every console session it has, for good
    (re-enabling it later does not bring an idle session back)."""
    member = require(session, username)
    member.active = active
    if not active:
        member.sessions_revoked_at = utcnow()
    return member


def set_password(session: Session, username: str, password: str) -> Staff:
    member = require(session, username)
    _validate_password(password)
    member.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    member.password_changed_at = utcnow()
    return member


def link_wechat(session: Session, username: str, openid: str | None) -> Staff:
    member = require(session, username)
    if openid:
        other = session.scalars(select(Staff).where(Staff.wechat_openid == openid)).one_or_none()
        if other is not None and other.id != member.id:
            raise StaffError(
                "openid_linked", f"openid already linked to {other.username!r}", username=other.username
            )
    member.wechat_openid = openid or None
    return member


def all_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.username)))


def with_permission(session: Session, permission: Permission) -> list[Staff]:
    return [member for member in all_staff(session) if member.can(permission)]

"""``citybot staff``: staff accounts and roles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from bot.core import audit, services
from bot.core.texts import Texts
from bot.wechat.errors import WeChatAPIError
from bot.wechat.service import api as wechat_api
from broadcasts.settings import BroadcastSettings
from cli.env import Env, pass_env, refusals
from menu import staff_tag
from staff import models
from staff.roles import Role, parse_roles, role_names

ROLE_HELP = "Comma-separated roles: " + ", ".join(r.value for r in Role)


def _audit(session: Session, action: str, member: models.Staff, **details: object) -> None:
    """Write the act to the audit trail: channel cli, the operating-system user as the actor."""
    audit.record(
        session,
        action,
        target=member.username,
        target_kind=models.STAFF,
        target_id=member.id,
        details=details,
    )


def _texts(env: Env) -> Texts:
    return services.texts(env.app)


def _say(env: Env, key: str, **values: object) -> str:
    """What a command prints, from ``staff.cli`` in the catalogue."""
    return _texts(env)(f"staff.cli.{key}", **values)


@contextmanager
def _unit(env: Env) -> Iterator[Session]:
    """A committed unit of work whose StaffError becomes a command-line error."""
    with refusals(env), env.session() as session:
        yield session


@click.group()
def staff() -> None:
    """Staff accounts and roles."""


@staff.command("add")
@click.argument("username")
@click.option("--role", "roles", required=True, help=ROLE_HELP)
@click.option("--name", "display_name", default="", help="Display name (default: the username).")
@click.password_option(envvar="CITYBOT_STAFF_PASSWORD", help="Password (prompted when not given).")
@pass_env
def add(env: Env, username: str, roles: str, display_name: str, password: str) -> None:
    """Create a staff account."""
    with _unit(env) as session:
        member = models.add(session, username, password, parse_roles(roles), display_name)
        _audit(session, "staff.add", member, roles=sorted(r.value for r in member.roles))
        click.echo(_say(env, "added", username=member.username, roles=role_names(_texts(env), member.roles)))


@staff.command("set-role")
@click.argument("username")
@click.argument("roles")
@pass_env
def set_role(env: Env, username: str, roles: str) -> None:
    """Replace USERNAME's roles with ROLES (comma-separated)."""
    with _unit(env) as session:
        found = models.by_username(session, username)
        before = [] if found is None else sorted(r.value for r in found.roles)
        member = models.set_roles(session, username, parse_roles(roles))
        _audit(session, "staff.roles", member, before=before, after=sorted(r.value for r in member.roles))
        click.echo(
            _say(env, "roles_set", username=member.username, roles=role_names(_texts(env), member.roles))
        )


@staff.command("disable")
@click.argument("username")
@pass_env
def disable(env: Env, username: str) -> None:
    """Disable an account (it keeps its history; it can no longer log in or act).

    Its console sessions end at once and stay ended if the account is enabled again.
    """
    with _unit(env) as session:
        _audit(session, models.STAFF_DISABLE, models.set_active(session, username, False))
        click.echo(_say(env, "disabled", username=username))


@staff.command("enable")
@click.argument("username")
@pass_env
def enable(env: Env, username: str) -> None:
    """Enable a disabled account."""
    with _unit(env) as session:
        _audit(session, "staff.enable", models.set_active(session, username, True))
        click.echo(_say(env, "enabled", username=username))


@staff.command("password")
@click.argument("username")
@click.password_option(envvar="CITYBOT_STAFF_PASSWORD")
@pass_env
def password(env: Env, username: str, password: str) -> None:
    """Set a new password."""
    with _unit(env) as session:
        _audit(session, "staff.password", models.set_password(session, username, password))
        click.echo(_say(env, "password_set", username=username))


@staff.command("list")
@pass_env
def list_staff(env: Env) -> None:
    """All accounts with their roles."""
    texts = _texts(env)
    with env.session() as session:
        for member in models.all_staff(session):
            state = texts("staff.cli.active" if member.active else "staff.cli.inactive")
            linked = texts("staff.cli.linked") if member.wechat_openid else ""
            click.echo(f"{member.username:<20} {state}  {role_names(texts, member.roles)}{linked}")


@staff.command("link-wechat")
@click.argument("username")
@click.argument("openid")
@pass_env
def link_wechat(env: Env, username: str, openid: str) -> None:
    """Link USERNAME to the WeChat follower OPENID and tag it as staff (the staff menu)."""
    tag = services.settings(env.app).section(BroadcastSettings).staff_tag
    try:
        with _unit(env) as session:
            member = staff_tag.link(session, wechat_api(env.app), username, openid, tag)
            click.echo(_say(env, "linked_to", username=member.username, openid=openid, tag=tag))
    except WeChatAPIError as exc:
        raise click.ClickException(f"{exc} (nothing was changed)") from None

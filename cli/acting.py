"""Staff acting from the command line: ``--actor USERNAME``, a staff account (``citybot staff``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from cli.env import Env
from reports.rewards import PayoutError
from reports.roles import PermissionDeniedError, actor_for_staff
from reports.workflow import WorkflowError
from staff.models import by_username
from staff.roles import Permission


def actor_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--actor",
        "actor_name",
        required=True,
        envvar="CITYBOT_ACTOR",
        help="Who acts (a name on the staff roster).",
    )(func)


def resolve_actor(env: Env, name: str, duty: Permission) -> Any:
    """The staff member ``name`` acting with their permissions; refused unless they hold ``duty``."""
    with env.session() as session:
        member = by_username(session, name)
        if member is None:
            raise click.ClickException(f"no staff member {name!r} (see `citybot staff list`)")
        try:
            return actor_for_staff(member, duty)
        except PermissionDeniedError as exc:
            raise click.ClickException(str(exc)) from None


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the domain's refusals into a clean command-line error."""
    try:
        yield
    except (WorkflowError, PermissionDeniedError, PayoutError) as exc:
        raise click.ClickException(str(exc)) from None

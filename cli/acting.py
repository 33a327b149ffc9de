"""Staff acting from the command line: ``--actor USERNAME``, a staff account (``citybot staff``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from cli.env import Env, refusals
from reports.roles import actor_for_staff
from staff.models import require
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
    with env.session() as session, refusals(env):
        return actor_for_staff(require(session, name), duty)

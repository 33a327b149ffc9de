"""Staff acting from the command line: ``--actor NAME``, resolved against the roster in settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from bot.cli import Env


def actor_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--actor",
        "actor_name",
        required=True,
        envvar="CITYBOT_ACTOR",
        help="Who acts (a name on the staff roster).",
    )(func)


def resolve_actor(env: Env, name: str) -> Any:
    from reports.roles import UnknownActorError, actor_from_roster

    try:
        return actor_from_roster(env.app.config["CITYBOT"].reports.staff, name)
    except UnknownActorError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def refusals() -> Iterator[None]:
    """Turn the domain's refusals into a clean command-line error."""
    from reports.rewards import PayoutError
    from reports.roles import PermissionDeniedError
    from reports.workflow import WorkflowError

    try:
        yield
    except (WorkflowError, PermissionDeniedError, PayoutError) as exc:
        raise click.ClickException(str(exc)) from None

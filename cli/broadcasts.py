"""``citybot broadcasts``: the monthly quota, screening a text, publishing and withdrawing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import click
from sqlalchemy.orm import Session

from bot.core import services
from bot.core.clock import utcnow
from bot.wechat.errors import WeChatAPIError
from bot.wechat.service import api as wechat_api
from broadcasts import drafts, publishing, quota
from broadcasts.errors import BroadcastError
from broadcasts.models import Publication, PublicationKind
from broadcasts.screening import LexiconError, load_lexicon
from broadcasts.settings import BroadcastSettings
from cli.env import Env, pass_env, refusals
from staff import models as staff_models


@click.group()
def broadcasts() -> None:
    """城管发布: quota, screening, publishing."""


@contextmanager
def _unit(env: Env) -> Iterator[Session]:
    """A committed unit of work whose refusals become command-line errors."""
    with refusals(env), env.session() as session:
        try:
            yield session
        except WeChatAPIError as exc:
            raise click.ClickException(str(exc)) from None


@broadcasts.command("rhythm")
@pass_env
def rhythm(env: Env) -> None:
    """This month's mass sends against the quota."""
    with env.session() as session:
        status = quota.rhythm(session, services.settings(env.app).section(BroadcastSettings), utcnow())
    click.echo(
        f"{status.month:%Y-%m}: {status.used} of {status.quota} mass sends used, {status.remaining} left, "
        f"{status.days_left} days left (an even pace would be at {status.expected:.1f})"
    )
    if status.warning:
        click.echo("warning: publishing is clearly behind the monthly rhythm")


@broadcasts.command("screen")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@pass_env
def screen(env: Env, file: IO[str]) -> None:
    """Screen FILE ('-' for standard input) against the lexicon; exit 1 on a forbidden hit."""
    try:
        lexicon = load_lexicon(services.settings(env.app).section(BroadcastSettings).lexicon_file)
    except LexiconError as exc:
        raise click.ClickException(str(exc)) from None
    text = file.read()
    hits = lexicon.screen_text(text, "text")
    for hit in hits:
        line = text.count("\n", 0, hit.start) + 1
        click.echo(f"{hit.kind.value:<9} line {line}: {hit.text!r} ({hit.term}, {hit.category})")
    click.echo(f"{len(hits)} hit(s)")
    if any(hit.kind.value == "forbidden" for hit in hits):
        sys.exit(1)


@broadcasts.command("publish")
@click.argument("draft_id", type=int)
@click.option("--as", "username", required=True, help="The publishing staff member (broadcast.publish).")
@click.option("--tag", "tag_id", type=int, default=None, help="Send to this user tag only.")
@click.option("--no-notify", is_flag=True, help="Publish without a mass send (uses no quota).")
@click.option(
    "--acknowledge-sensitive", is_flag=True, help="Acknowledge sensitive terms not yet acknowledged."
)
@pass_env
def publish(
    env: Env, draft_id: int, username: str, tag_id: int | None, no_notify: bool, acknowledge_sensitive: bool
) -> None:
    """Publish an approved draft: mass send to every follower (or a tag), or publish only."""
    settings = services.settings(env.app).section(BroadcastSettings)
    with _unit(env) as session:
        publication = publishing.publish(
            session,
            wechat_api(env.app),
            drafts.get(session, draft_id),
            staff_models.require(session, username),
            settings=settings,
            lexicon=load_lexicon(settings.lexicon_file),
            now=utcnow(),
            kind=PublicationKind.PUBLISH if no_notify else PublicationKind.MASS,
            tag_id=tag_id,
            acknowledge_sensitive=acknowledge_sensitive,
        )
        click.echo(
            f"publication {publication.id}: {publication.kind.value} {publication.status.value} "
            f"(clientmsgid {publication.clientmsgid}, msg_id {publication.msg_id}, "
            f"publish_id {publication.publish_id})"
        )


@broadcasts.command("withdraw")
@click.argument("publication_id", type=int)
@click.option("--as", "username", required=True, help="The staff member withdrawing (broadcast.publish).")
@click.option("--reason", required=True, help="Why; kept in the audit trail.")
@pass_env
def withdraw(env: Env, publication_id: int, username: str, reason: str) -> None:
    """一键撤稿: delete a sent or published item."""
    with _unit(env) as session:
        publication = session.get(Publication, publication_id)
        if publication is None:
            raise BroadcastError("no_such_publication", f"no publication {publication_id}", id=publication_id)
        publishing.withdraw(
            session,
            wechat_api(env.app),
            publication,
            staff_models.require(session, username),
            reason=reason,
            now=utcnow(),
        )
        click.echo(f"publication {publication_id} withdrawn")

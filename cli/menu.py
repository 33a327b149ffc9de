"""``citybot menu``: the custom menu from its versioned file (``[broadcasts] menu_file``)."""

from __future__ import annotations

import click

from bot.core import services
from bot.core.errors import render
from bot.wechat.errors import WeChatAPIError
from bot.wechat.service import api as wechat_api
from broadcasts.settings import BroadcastSettings
from cli.env import Env, pass_env
from menu import push as pushing
from menu import staff_tag
from menu.errors import MenuError
from menu.keys import describe, known_keys
from menu.loading import load_menu


@click.group()
def menu() -> None:
    """The account's custom menu."""


@menu.command("keys")
@pass_env
def keys(env: Env) -> None:
    """List the keys a button may carry, each with what it does in the chat."""
    texts = services.texts(env.app)
    for key in known_keys():
        click.echo(f"{key}\t{describe(texts, key)}")


@menu.command("push")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be sent; call nothing.")
@pass_env
def push(env: Env, dry_run: bool) -> None:
    """Validate the menu file, then create the menu and the staff-only conditional menu."""
    settings = services.settings(env.app).section(BroadcastSettings)
    texts = services.texts(env.app)
    try:
        definition = load_menu(settings.menu_file)
    except MenuError as exc:
        raise click.ClickException(render(texts, exc)) from None
    if dry_run:
        with env.session() as session:
            tag_id = staff_tag.known_id(session, settings.staff_tag)
        click.echo(texts("menu.cli.create_heading"))
        click.echo(pushing.render(definition.payload()))
        if definition.staff_buttons:
            shown = tag_id if tag_id is not None else texts("menu.cli.tag_to_create", tag=settings.staff_tag)
            click.echo(texts("menu.cli.conditional_heading"))
            click.echo(pushing.render(definition.staff_payload(shown)))
        click.echo(texts("menu.cli.dry_run_done"))
        return

    api = wechat_api(env.app)
    try:
        with env.session() as session:
            tag_id = staff_tag.ensure(session, api, settings.staff_tag) if definition.staff_buttons else None
            menu_id = pushing.push(session, api, definition, staff_tag_id=tag_id)
    except WeChatAPIError as exc:
        raise click.ClickException(
            texts("menu.cli.wechat_error", code=exc.errcode, message=exc.errmsg)
        ) from None
    click.echo(texts("menu.cli.pushed", count=len(definition.buttons)))
    if menu_id:
        click.echo(texts("menu.cli.staff_menu", id=menu_id, tag=settings.staff_tag, tag_id=tag_id))

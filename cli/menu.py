"""``citybot menu``: the custom menu from its versioned file (``[broadcasts] menu_file``)."""

from __future__ import annotations

import click

from bot.core import services
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
def keys() -> None:
    """List the keys a button may carry, each with what it does in the chat."""
    for key in known_keys():
        click.echo(f"{key}\t{describe(key)}")


@menu.command("push")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be sent; call nothing.")
@pass_env
def push(env: Env, dry_run: bool) -> None:
    """Validate the menu file, then create the menu and the staff-only conditional menu."""
    settings = services.settings(env.app).section(BroadcastSettings)
    try:
        definition = load_menu(settings.menu_file)
    except MenuError as exc:
        raise click.ClickException(str(exc)) from None
    if dry_run:
        with env.session() as session:
            tag_id = staff_tag.known_id(session, settings.staff_tag)
        click.echo("menu/create:")
        click.echo(pushing.render(definition.payload()))
        if definition.staff_buttons:
            shown = tag_id if tag_id is not None else f"<id of tag {settings.staff_tag!r}, created on push>"
            click.echo("menu/addconditional:")
            click.echo(pushing.render(definition.staff_payload(shown)))
        click.echo("dry run: nothing was sent")
        return

    api = wechat_api(env.app)
    try:
        with env.session() as session:
            tag_id = staff_tag.ensure(session, api, settings.staff_tag) if definition.staff_buttons else None
            menu_id = pushing.push(session, api, definition, staff_tag_id=tag_id)
    except WeChatAPIError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"menu pushed: {len(definition.buttons)} top buttons")
    if menu_id:
        click.echo(f"staff menu {menu_id} for tag {settings.staff_tag!r} ({tag_id})")

"""Sending the menu to WeChat: the default menu, then the staff-only conditional menu, whose id is
remembered so that the next push replaces it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sqlalchemy.orm import Session

from broadcasts.models import audit, remember, remembered
from menu.definition import Menu
from menu.remote import MenuAPI

CONDITIONAL_MENU = "menu.conditional"


def render(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2)


def push(session: Session, api: MenuAPI, menu: Menu, *, staff_tag_id: int | None) -> str | None:
    """Create the menu, then replace the staff conditional menu; returns the conditional menu id."""
    api.create_menu(menu.payload())
    menu_id: str | None = None
    if menu.staff_buttons and staff_tag_id is not None:
        previous = remembered(session, CONDITIONAL_MENU)
        if previous:
            # It may be gone already (removed on the platform): then there is nothing to delete.
            with contextlib.suppress(Exception):
                api.delete_conditional_menu(previous)
        menu_id = str(api.create_conditional_menu(menu.staff_payload(staff_tag_id)))
        remember(session, CONDITIONAL_MENU, menu_id)
    audit(session, "menu_push", actor=None, conditional_menu=menu_id, keys=sorted(menu.keys()))
    return menu_id

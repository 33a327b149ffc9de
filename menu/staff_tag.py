"""The WeChat user tag that marks staff: it selects the staff-only conditional menu.

The tag is created once and its id remembered in the database; linking a staff member's openid
tags that follower through the API. Nothing else reads the tag (notices to staff go to their
openids), so it is the menu's: its audience, not part of 城管发布.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.core import audit
from broadcasts.models import remember, remembered
from broadcasts.remote import errcode_of
from menu.remote import TAG_NAME_EXISTS, MenuAPI
from staff import models as staff_models
from staff.models import Staff


def _name(tag: str) -> str:
    return f"tag:{tag}"


def known_id(session: Session, tag: str) -> int | None:
    value = remembered(session, _name(tag))
    return None if value is None else int(value)


def ensure(session: Session, api: MenuAPI, tag: str) -> int:
    """The tag's id, creating the tag on first use (or finding it if it exists already)."""
    found = known_id(session, tag)
    if found is not None:
        return found
    try:
        tag_id = int(api.create_tag(tag))
    except Exception as exc:
        if errcode_of(exc) != TAG_NAME_EXISTS:
            raise
        matches = [t for t in api.list_tags() if t.get("name") == tag]
        if not matches:
            raise
        tag_id = int(matches[0]["id"])
    remember(session, _name(tag), str(tag_id))
    return tag_id


def link(session: Session, api: MenuAPI, username: str, openid: str, tag: str) -> Staff:
    """Store ``openid`` on the staff row and tag that follower as staff."""
    member = staff_models.link_wechat(session, username, openid)
    session.flush()
    tag_id = ensure(session, api, tag)
    api.tag_users(tag_id, [openid])
    audit.record(
        session,
        "staff.link_wechat",
        target=member.username,
        target_kind=staff_models.STAFF,
        target_id=member.id,
        details={"openid": openid, "tag_id": tag_id},
    )
    return member

"""Reads and writes of gift lists, each with the count of gifts on it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.datastructures import ETags

from app import ids
from app.counted import Counted
from app.gifts.links import add_links, lock_gifts, touch_gifts
from app.keyset import name_page
from app.models import Gift, GiftList, Person, gift_lists
from app.transactions import (
    UnknownIds,
    autocommit,
    check_ids,
    retry_read,
    transaction,
)
from app.visibility import Viewer, lists_visible_to, visible_to, wish_view
from app.wishes import track_wishes

gifts = Gift.__table__
lists = GiftList.__table__
people = Person.__table__


class WishListed(Exception):
    """A list made with ``gift_ids`` naming one of the asker's wishes, whose
    lists are not theirs to change (403)."""


_ROWS = Counted(lists, gift_lists.c.list_id, lists_visible_to)
# A list as its creator or editor gets it back, even when it is now one of
# their planning lists (hidden from them from the next request on).
_ANY = Counted(lists, gift_lists.c.list_id)


def _on_list(list_id: int) -> Any:
    return gifts.c.id.in_(
        sa.select(gift_lists.c.gift_id).where(gift_lists.c.list_id == list_id)
    )


def _check_person(connection: Connection, fields: dict[str, Any]) -> None:
    if fields.get("person_id") is not None:
        check_ids(connection, {"person_id": (people, "person", {fields["person_id"]})})


@retry_read
def get_list(list_id: int, viewer: Viewer) -> RowMapping:
    with autocommit() as connection:
        return _ROWS.read(connection, list_id, viewer)


def create_list(fields: dict[str, Any], viewer: Viewer) -> RowMapping:
    """A new list, holding ``gift_ids`` at once (all of them, or no list)."""
    fields = dict(fields)
    gift_ids = sorted(set(fields.pop("gift_ids", None) or ()))
    with transaction() as connection:
        _check_person(connection, fields)
        if gift_ids:
            selected = gifts.c.id.in_(gift_ids) & visible_to(viewer)
            found = lock_gifts(connection, selected)
            if missing := sorted(set(gift_ids) - set(found)):
                raise UnknownIds({"gift_ids": ("gift", missing)})
            wishes = sa.select(gifts.c.id).where(
                gifts.c.id.in_(gift_ids), wish_view(viewer)
            )
            if viewer.linked and connection.scalar(wishes.limit(1)) is not None:
                raise WishListed()
        list_id = ids.insert(connection, lists, {**fields, "version": 1})["id"]
        if gift_ids:
            with track_wishes(connection, gifts.c.id.in_(gift_ids)):
                add_links(connection, "list_ids", gift_ids, [list_id])
            touch_gifts(connection, gifts.c.id.in_(gift_ids))
        return _ANY.read(connection, list_id, viewer)


def update_list(
    list_id: int, changes: dict[str, Any], if_match: ETags | None, viewer: Viewer
) -> RowMapping:
    with transaction() as connection:
        # The person first, as everywhere: people, then lists, then gifts.
        _check_person(connection, changes)
        gift_list = _ROWS.lock(connection, list_id, if_match, viewer)
        if not changes:
            return gift_list
        # Another kind or person may hide the list from (or show it to) the
        # wishers of its gifts.
        with track_wishes(connection, _on_list(list_id)):
            connection.execute(
                sa.update(lists)
                .where(lists.c.id == list_id)
                .values(**changes, version=lists.c.version + 1)
            )
        return _ANY.read(connection, list_id, viewer)


def delete_list(list_id: int, if_match: ETags | None, viewer: Viewer) -> None:
    """Delete the list: its gifts remain, on one list fewer (so they change)."""
    with transaction() as connection:
        _ROWS.lock(connection, list_id, if_match, viewer)
        with track_wishes(connection, _on_list(list_id)):
            touch_gifts(connection, _on_list(list_id))
            connection.execute(sa.delete(lists).where(lists.c.id == list_id))


@retry_read
def list_lists(
    args: dict[str, Any], viewer: Viewer
) -> tuple[list[RowMapping], bool, str | None]:
    statement = _ROWS.select(viewer)
    if args.get("person_id") is not None:
        statement = statement.where(lists.c.person_id == args["person_id"])
    with autocommit() as connection:
        return name_page(
            connection, statement, lists, args["limit"], args.get("cursor")
        )

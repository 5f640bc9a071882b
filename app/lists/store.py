"""Reads and writes of gift lists, each with the count of gifts on it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.datastructures import ETags

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

gifts = Gift.__table__
lists = GiftList.__table__
people = Person.__table__

_ROWS = Counted(lists, gift_lists.c.list_id)


def _check_person(connection: Connection, fields: dict[str, Any]) -> None:
    if fields.get("person_id") is not None:
        check_ids(connection, {"person_id": (people, "person", {fields["person_id"]})})


@retry_read
def get_list(list_id: int, visible: Any) -> RowMapping:
    with autocommit() as connection:
        return _ROWS.read(connection, list_id, visible)


def create_list(fields: dict[str, Any], visible: Any) -> RowMapping:
    """A new list, holding ``gift_ids`` at once (all of them, or no list)."""
    fields = dict(fields)
    gift_ids = sorted(set(fields.pop("gift_ids", None) or ()))
    with transaction() as connection:
        _check_person(connection, fields)
        if gift_ids:
            found = lock_gifts(connection, gifts.c.id.in_(gift_ids) & visible)
            if missing := sorted(set(gift_ids) - set(found)):
                raise UnknownIds({"gift_ids": ("gift", missing)})
        list_id = connection.scalar(
            sa.insert(lists).values(**fields, version=1).returning(lists.c.id)
        )
        if gift_ids:
            add_links(connection, "list_ids", gift_ids, [list_id])
            touch_gifts(connection, gifts.c.id.in_(gift_ids))
        return _ROWS.read(connection, list_id, visible)


def update_list(
    list_id: int, changes: dict[str, Any], if_match: ETags | None, visible: Any
) -> RowMapping:
    with transaction() as connection:
        # The person first, as everywhere: people, then lists, then gifts.
        _check_person(connection, changes)
        gift_list = _ROWS.lock(connection, list_id, if_match, visible)
        if not changes:
            return gift_list
        connection.execute(
            sa.update(lists)
            .where(lists.c.id == list_id)
            .values(**changes, version=lists.c.version + 1)
        )
        return _ROWS.read(connection, list_id, visible)


def delete_list(list_id: int, if_match: ETags | None, visible: Any) -> None:
    """Delete the list: its gifts remain, on one list fewer (so they change)."""
    with transaction() as connection:
        _ROWS.lock(connection, list_id, if_match, visible)
        touch_gifts(
            connection,
            gifts.c.id.in_(
                sa.select(gift_lists.c.gift_id).where(gift_lists.c.list_id == list_id)
            ),
        )
        connection.execute(sa.delete(lists).where(lists.c.id == list_id))


@retry_read
def list_lists(
    args: dict[str, Any], visible: Any
) -> tuple[list[RowMapping], bool, str | None]:
    statement = _ROWS.select(visible)
    if args.get("person_id") is not None:
        statement = statement.where(lists.c.person_id == args["person_id"])
    with autocommit() as connection:
        return name_page(
            connection, statement, lists, args["limit"], args.get("cursor")
        )

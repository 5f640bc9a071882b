"""Reads and writes of people, each with the count of gifts for them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from werkzeug.datastructures import ETags

from app.counted import Counted
from app.gifts.links import touch_gifts
from app.keyset import name_page
from app.models import Gift, GiftList, Person, gift_recipients
from app.transactions import autocommit, retry_read, transaction

gifts = Gift.__table__
lists = GiftList.__table__
people = Person.__table__

_ROWS = Counted(people, gift_recipients.c.person_id)


@retry_read
def get_person(person_id: int, visible: Any) -> RowMapping:
    with autocommit() as connection:
        return _ROWS.read(connection, person_id, visible)


def create_person(fields: dict[str, Any], visible: Any) -> RowMapping:
    with autocommit(write=True) as connection:
        person_id = connection.scalar(
            sa.insert(people).values(**fields, version=1).returning(people.c.id)
        )
        return _ROWS.read(connection, person_id, visible)


def update_person(
    person_id: int, changes: dict[str, Any], if_match: ETags | None, visible: Any
) -> RowMapping:
    with transaction() as connection:
        person = _ROWS.lock(connection, person_id, if_match, visible)
        if not changes:
            return person
        connection.execute(
            sa.update(people)
            .where(people.c.id == person_id)
            .values(**changes, version=people.c.version + 1)
        )
        return _ROWS.read(connection, person_id, visible)


def delete_person(person_id: int, if_match: ETags | None, visible: Any) -> None:
    """Delete the person: the gifts for them lose a recipient (and so change);
    their lists remain, belonging to no one."""
    with transaction() as connection:
        _ROWS.lock(connection, person_id, if_match, visible)
        touch_gifts(
            connection,
            gifts.c.id.in_(
                sa.select(gift_recipients.c.gift_id).where(
                    gift_recipients.c.person_id == person_id
                )
            ),
        )
        connection.execute(
            sa.update(lists)
            .where(lists.c.person_id == person_id)
            .values(person_id=None, version=lists.c.version + 1)
        )
        connection.execute(sa.delete(people).where(people.c.id == person_id))


@retry_read
def list_people(
    args: dict[str, Any], visible: Any
) -> tuple[list[RowMapping], bool, str | None]:
    with autocommit() as connection:
        return name_page(
            connection, _ROWS.select(visible), people, args["limit"], args.get("cursor")
        )

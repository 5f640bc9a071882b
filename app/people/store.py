"""Reads and writes of people, each with the count of gifts for them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from werkzeug.datastructures import ETags

from app.counted import Counted
from app.gifts.links import touch_gifts
from app.keyset import name_page
from app.models import (
    Gift,
    GiftList,
    Member,
    Occasion,
    Person,
    gift_lists,
    gift_recipients,
)
from app.transactions import autocommit, retry_read, transaction
from app.visibility import Viewer
from app.wishes import track_wishes

gifts = Gift.__table__
lists = GiftList.__table__
people = Person.__table__
members = Member.__table__
occasions = Occasion.__table__


class LinkedPerson(Exception):
    """The person is a member: they cannot be deleted (409)."""


_ROWS = Counted(people, gift_recipients.c.person_id)


@retry_read
def get_person(person_id: int, viewer: Viewer) -> RowMapping:
    with autocommit() as connection:
        return _ROWS.read(connection, person_id, viewer)


def create_person(fields: dict[str, Any], viewer: Viewer) -> RowMapping:
    with autocommit(write=True) as connection:
        person_id = connection.scalar(
            sa.insert(people).values(**fields, version=1).returning(people.c.id)
        )
        return _ROWS.read(connection, person_id, viewer)


def update_person(
    person_id: int, changes: dict[str, Any], if_match: ETags | None, viewer: Viewer
) -> RowMapping:
    with transaction() as connection:
        person = _ROWS.lock(connection, person_id, if_match, viewer)
        if not changes:
            return person
        connection.execute(
            sa.update(people)
            .where(people.c.id == person_id)
            .values(**changes, version=people.c.version + 1)
        )
        return _ROWS.read(connection, person_id, viewer)


def delete_person(person_id: int, if_match: ETags | None, viewer: Viewer) -> None:
    """Delete the person: the gifts for them lose a recipient (and so change);
    their lists and occasions remain, belonging to no one; their budgets go."""
    with transaction() as connection:
        _ROWS.lock(connection, person_id, if_match, viewer)
        member = connection.scalar(
            sa.select(members.c.id).where(members.c.person_id == person_id)
        )
        if member is not None:
            raise LinkedPerson()
        theirs = gifts.c.id.in_(
            sa.select(gift_recipients.c.gift_id).where(
                gift_recipients.c.person_id == person_id
            )
        )
        on_their_lists = gifts.c.id.in_(
            sa.select(gift_lists.c.gift_id)
            .join(lists, lists.c.id == gift_lists.c.list_id)
            .where(lists.c.person_id == person_id)
        )
        # Their gifts lose a recipient and their lists an owner: the wishers
        # of those gifts may see them change.
        with track_wishes(connection, theirs | on_their_lists):
            touch_gifts(connection, theirs)
            connection.execute(
                sa.update(lists)
                .where(lists.c.person_id == person_id)
                .values(person_id=None, version=lists.c.version + 1)
            )
            # Their occasions remain, for nobody (and so change); their
            # budgets go with them (ON DELETE CASCADE).
            connection.execute(
                sa.update(occasions)
                .where(occasions.c.person_id == person_id)
                .values(person_id=None, version=occasions.c.version + 1)
            )
            connection.execute(sa.delete(people).where(people.c.id == person_id))


@retry_read
def list_people(
    args: dict[str, Any], viewer: Viewer
) -> tuple[list[RowMapping], bool, str | None]:
    with autocommit() as connection:
        return name_page(
            connection, _ROWS.select(viewer), people, args["limit"], args.get("cursor")
        )

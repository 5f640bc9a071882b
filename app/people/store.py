"""Reads and writes of people, each with the count of gifts for them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.datastructures import ETags

from app.database import retry_read
from app.gifts.store import (
    NotFound,
    PreconditionFailed,
    autocommit,
    gifts,
    lists,
    people,
    touch_gifts,
    transaction,
)
from app.keyset import name_page
from app.models import gift_recipients


def gift_count(visible: Any) -> sa.ScalarSelect[int]:
    """The number of gifts, of those ``visible``, that are for the person."""
    return (
        sa.select(sa.func.count())
        .select_from(gift_recipients.join(gifts))
        .where(gift_recipients.c.person_id == people.c.id, visible)
        .scalar_subquery()
        .label("gift_count")
    )


def _select(visible: Any) -> sa.Select[Any]:
    return sa.select(people, gift_count(visible))


def etag(person: RowMapping) -> str:
    """Moves with every change of the person and of its gift count."""
    return f"{person['id']}-{person['version']}-{person['gift_count']}"


def _read(connection: Connection, person_id: int, visible: Any) -> RowMapping:
    statement = _select(visible).where(people.c.id == person_id)
    person = connection.execute(statement).mappings().first()
    if person is None:
        raise NotFound([person_id])
    return person


def _lock(
    connection: Connection, person_id: int, if_match: ETags | None, visible: Any
) -> RowMapping:
    """The person, locked until the transaction ends; checks ``If-Match``."""
    locked = sa.select(people.c.id).where(people.c.id == person_id)
    if connection.dialect.name != "sqlite":
        locked = locked.with_for_update()
    connection.execute(locked)
    try:
        person = _read(connection, person_id, visible)
    except NotFound:
        # If-Match: * asks that it exist: on a missing one, 412 (RFC 9110).
        if if_match is not None and if_match.star_tag:
            raise PreconditionFailed() from None
        raise
    if if_match is not None and not if_match.contains(etag(person)):
        raise PreconditionFailed()
    return person


@retry_read
def get_person(person_id: int, visible: Any) -> RowMapping:
    with autocommit() as connection:
        return _read(connection, person_id, visible)


def create_person(fields: dict[str, Any], visible: Any) -> RowMapping:
    with autocommit(write=True) as connection:
        person_id = connection.scalar(
            sa.insert(people).values(**fields, version=1).returning(people.c.id)
        )
        return _read(connection, person_id, visible)


def update_person(
    person_id: int, changes: dict[str, Any], if_match: ETags | None, visible: Any
) -> RowMapping:
    with transaction() as connection:
        person = _lock(connection, person_id, if_match, visible)
        if not changes:
            return person
        connection.execute(
            sa.update(people)
            .where(people.c.id == person_id)
            .values(**changes, version=people.c.version + 1)
        )
        return _read(connection, person_id, visible)


def delete_person(person_id: int, if_match: ETags | None, visible: Any) -> None:
    """Delete the person: the gifts for them lose a recipient (and so change);
    their lists remain, belonging to no one."""
    with transaction() as connection:
        _lock(connection, person_id, if_match, visible)
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
            connection, _select(visible), people, args["limit"], args.get("cursor")
        )

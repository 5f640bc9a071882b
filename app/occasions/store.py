"""Reads and writes of occasions, each with its next date and gift count.

``next_date`` is computed by the database in every statement that reads an
occasion, as of today in the family's time zone (app/occasions/dates.py); so
is ``gift_count``, over the gifts the asking member sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.datastructures import ETags

from app.dump_schemas import Row
from app.gifts.links import lock_gifts
from app.keyset import decode_keyed_cursor, encode_keyed_cursor
from app.models import Occasion, Person, budgets, utcnow
from app.occasions.dates import date_of, key_of, next_key, sort_key, today
from app.transactions import (
    NotFound,
    PreconditionFailed,
    autocommit,
    check_ids,
    retry_read,
    transaction,
)
from app.visibility import Viewer, gifts, visible_to

occasions = Occasion.__table__
people = Person.__table__


def gift_count(viewer: Viewer) -> sa.Label[int]:
    """The occasion's gifts, of those ``viewer`` sees."""
    return (
        sa.select(sa.func.count())
        .select_from(gifts)
        .where(gifts.c.occasion_id == occasions.c.id, visible_to(viewer))
        .scalar_subquery()
        .label("gift_count")
    )


def _select(viewer: Viewer, on: dt.date) -> sa.Select[Any]:
    return sa.select(occasions, gift_count(viewer), next_key(on).label("next_key"))


def _shown(row: RowMapping) -> Row:
    """The occasion as the API answers it: ``next_key`` read as a date."""
    shown = Row(row)
    shown["next_date"] = date_of(row["next_key"])
    return shown


def etag(occasion: Any) -> str:
    """Moves with every change of the occasion, of its gift count, and of its
    next date (which moves with today)."""
    return (
        f"{occasion['id']}-{occasion['version']}-{occasion['gift_count']}"
        f"-{occasion['next_key'] or 0}"
    )


def _read(connection: Connection, occasion_id: int, viewer: Viewer) -> Row:
    statement = _select(viewer, today()).where(occasions.c.id == occasion_id)
    row = connection.execute(statement).mappings().first()
    if row is None:
        raise NotFound([occasion_id])
    return _shown(row)


def lock(
    connection: Connection, occasion_id: int, if_match: ETags | None, viewer: Viewer
) -> Row:
    """The occasion, locked until the transaction ends; checks ``If-Match``."""
    locked = sa.select(occasions.c.id).where(occasions.c.id == occasion_id)
    if connection.dialect.name != "sqlite":
        locked = locked.with_for_update()
    if connection.scalar(locked) is None:
        # If-Match: * asks that it exist: on a missing one, 412 (RFC 9110).
        if if_match is not None and if_match.star_tag:
            raise PreconditionFailed()
        raise NotFound([occasion_id])
    occasion = _read(connection, occasion_id, viewer)
    if if_match is not None and not if_match.contains(etag(occasion)):
        raise PreconditionFailed()
    return occasion


def _check_person(connection: Connection, fields: dict[str, Any]) -> None:
    if fields.get("person_id") is not None:
        check_ids(connection, {"person_id": (people, "person", {fields["person_id"]})})


@retry_read
def get_occasion(occasion_id: int, viewer: Viewer) -> Row:
    with autocommit() as connection:
        return _read(connection, occasion_id, viewer)


def create_occasion(fields: dict[str, Any], viewer: Viewer) -> Row:
    with transaction() as connection:
        _check_person(connection, fields)
        occasion_id = connection.scalar(
            sa.insert(occasions).values(**fields, version=1).returning(occasions.c.id)
        )
        return _read(connection, occasion_id, viewer)


def update_occasion(
    occasion_id: int, changes: dict[str, Any], if_match: ETags | None, viewer: Viewer
) -> Row:
    with transaction() as connection:
        # The person first, as everywhere: people before what refers to them.
        _check_person(connection, changes)
        occasion = lock(connection, occasion_id, if_match, viewer)
        if not changes:
            return occasion
        connection.execute(
            sa.update(occasions)
            .where(occasions.c.id == occasion_id)
            .values(**changes, version=occasions.c.version + 1)
        )
        return _read(connection, occasion_id, viewer)


def delete_occasion(occasion_id: int, if_match: ETags | None, viewer: Viewer) -> None:
    """Delete the occasion and its budgets; its gifts remain, for no
    occasion, and so change (their ETags move, and their wishers see it)."""
    with transaction() as connection:
        lock(connection, occasion_id, if_match, viewer)
        unlinked = lock_gifts(connection, gifts.c.occasion_id == occasion_id)
        if unlinked:
            now = utcnow()
            connection.execute(
                sa.update(gifts)
                .where(gifts.c.id.in_(unlinked))
                .values(
                    occasion_id=None,
                    version=gifts.c.version + 1,
                    updated_at=now,
                    wish_version=gifts.c.wish_version + 1,
                    wish_updated_at=now,
                )
            )
        connection.execute(
            sa.delete(budgets).where(budgets.c.occasion_id == occasion_id)
        )
        connection.execute(sa.delete(occasions).where(occasions.c.id == occasion_id))


@retry_read
def list_occasions(
    args: dict[str, Any], viewer: Viewer
) -> tuple[list[Row], bool, str | None]:
    """One page by next date (the past ones last), then name, then id: keyset
    pages on the key computed as of today."""
    on = today()
    key = sort_key(on)
    statement = _select(viewer, on).add_columns(key.label("sort_key"))
    if (days := args.get("upcoming")) is not None:
        statement = statement.where(next_key(on) <= key_of(on + dt.timedelta(days)))
    if args.get("cursor"):
        last_key, name, last_id = decode_keyed_cursor(args["cursor"])
        row = sa.tuple_(key, occasions.c.name, occasions.c.id)
        statement = statement.where(
            row
            > sa.tuple_(
                sa.literal(last_key),
                sa.literal(name, occasions.c.name.type),
                sa.literal(last_id),
            )
        )
    limit = args["limit"]
    statement = statement.order_by(key, occasions.c.name, occasions.c.id).limit(
        limit + 1
    )
    with autocommit() as connection:
        rows = list(connection.execute(statement).mappings())
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_keyed_cursor(rows[-1]["sort_key"], rows[-1]) if has_more else None
    return [_shown(row) for row in rows], has_more, cursor

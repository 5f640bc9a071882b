"""A gift's links: the people it is for and the lists it is on.

Read in the same statement as the gift (``link_columns``), written in the
transaction that changes it. People and lists come here too when they change
which gifts they hold, and lock or touch those gifts as a gift change would.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.models import Gift, GiftList, Person, gift_lists, gift_recipients, utcnow

gifts = Gift.__table__
people = Person.__table__
lists = GiftList.__table__

# A gift's link field -> (link table, its column naming the other side, the
# table that column refers to, what the other side is called in errors).
LINKS: dict[str, tuple[sa.Table, sa.Column[int], sa.Table, str]] = {
    "recipient_ids": (gift_recipients, gift_recipients.c.person_id, people, "person"),
    "list_ids": (gift_lists, gift_lists.c.list_id, lists, "list"),
}


class LinkedIds(sa.types.TypeDecorator[list[int]]):
    """Ids aggregated by ``link_columns``, read back as a list: PostgreSQL
    answers an array, SQLite a comma-separated string (or NULL for none)."""

    impl = sa.String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> list[int]:
        if value is None:
            return []
        if isinstance(value, str):
            return [int(part) for part in value.split(",")]
        return list(value)


@lru_cache(maxsize=64)
def link_columns(
    dialect: str, hidden_from: int | None = None
) -> tuple[sa.ColumnElement[Any], ...]:
    """``recipient_ids`` and ``list_ids`` as columns of any query of gifts;
    with ``hidden_from`` (a person), ``list_ids`` leaves out that person's
    planning lists (app/visibility.py: hidden from their member).

    Each is a correlated subquery on its link table's primary key, so a
    gift, a page of 50 or an INSERT/UPDATE ... RETURNING reads its links in
    the same statement: no query per gift, and no second query either (a
    second query made a GET of one gift about a quarter slower).
    """
    columns = []
    for field, (table, column, _, _) in LINKS.items():
        hiding = ""
        if field == "list_ids" and hidden_from is not None:
            # int(): a person id from the database, never text from a client.
            hiding = (
                f" AND {column.name} NOT IN (SELECT id FROM lists"
                f" WHERE person_id = {int(hidden_from)} AND kind <> 'wishlist')"
            )
        ids = (
            f"SELECT {column.name} FROM {table.name}"
            f" WHERE {table.name}.gift_id = gifts.id{hiding} ORDER BY {column.name}"
        )
        if dialect == "postgresql":
            sql = f"ARRAY({ids})"
        else:  # group_concat keeps the subquery's order
            sql = f"(SELECT group_concat({column.name}) FROM ({ids}))"
        columns.append(sa.literal_column(sql, LinkedIds()).label(field))
    return tuple(columns)


def link_ids(changes: dict[str, Any]) -> dict[str, tuple[sa.Table, str, set[int]]]:
    """The ids each link field of ``changes`` (sets and add_ variants) names."""
    wanted: dict[str, tuple[sa.Table, str, set[int]]] = {}
    for field, (_, _, table, noun) in LINKS.items():
        for key in (field, f"add_{field}"):
            if changes.get(key):
                wanted[key] = (table, noun, set(changes[key]))
    return wanted


def _insert_ignoring_duplicates(connection: Connection, table: sa.Table) -> Any:
    insert = (
        postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    )
    return insert(table)


def add_links(
    connection: Connection,
    field: str,
    gift_ids: Sequence[int],
    other_ids: Sequence[int],
) -> None:
    """Link every gift to every other id; links already there stay as they are."""
    if not gift_ids or not other_ids:
        return
    table, column, other, _ = LINKS[field]
    pairs = (
        sa.select(gifts.c.id, other.c.id)
        .select_from(gifts.join(other, sa.true()))  # every pair: a cross join
        .where(gifts.c.id.in_(sorted(gift_ids)), other.c.id.in_(sorted(other_ids)))
    )
    statement = (
        _insert_ignoring_duplicates(connection, table)
        .from_select(["gift_id", column.key], pairs)
        .on_conflict_do_nothing()
    )
    connection.execute(statement)


def remove_links(
    connection: Connection,
    field: str,
    gift_ids: Sequence[int],
    other_ids: Sequence[int] | None,
    *,
    keep: bool = False,
) -> None:
    """Unlink the gifts from ``other_ids`` (or, with ``keep``, from all but them)."""
    table, column, _, _ = LINKS[field]
    condition = table.c.gift_id.in_(sorted(gift_ids))
    if keep:
        if other_ids:
            condition &= column.not_in(sorted(other_ids))
    else:
        if not other_ids:
            return
        condition &= column.in_(sorted(other_ids))
    connection.execute(sa.delete(table).where(condition))


def apply_link_changes(
    connection: Connection,
    gift_ids: Sequence[int],
    changes: dict[str, Any],
    hidden_lists: Collection[int] = (),
) -> None:
    """Replace, add or remove the links ``changes`` names (ids checked already).
    The ``hidden_lists`` (the asker's planning lists) are never touched: a
    replaced set keeps them, and a removal leaves them."""
    for field in LINKS:
        hidden = sorted(hidden_lists) if field == "list_ids" else []
        if changes.get(field) is not None:
            kept = [*changes[field], *hidden]
            remove_links(connection, field, gift_ids, kept, keep=True)
            add_links(connection, field, gift_ids, changes[field])
        if removed := [
            i for i in changes.get(f"remove_{field}") or () if i not in hidden
        ]:
            remove_links(connection, field, gift_ids, removed)
        if changes.get(f"add_{field}"):
            add_links(connection, field, gift_ids, changes[f"add_{field}"])


def lock_gifts(connection: Connection, selected: Any) -> list[int]:
    """Lock the gifts ``selected`` picks, in id order (as a bulk change does,
    so two writers never deadlock); their ids, ascending."""
    statement = sa.select(gifts.c.id).where(selected).order_by(gifts.c.id)
    if connection.dialect.name != "sqlite":
        statement = statement.with_for_update()
    return list(connection.scalars(statement))


def touch_gifts(connection: Connection, selected: Any) -> None:
    """Move updated_at and the version (ETag) of the gifts ``selected`` picks:
    gaining or losing a recipient or a list is a change of the gift."""
    ids = lock_gifts(connection, selected)
    if ids:
        connection.execute(
            sa.update(gifts)
            .where(gifts.c.id.in_(ids))
            .values(updated_at=utcnow(), version=gifts.c.version + 1)
        )

"""Ids that tell nothing: random, not handed out in sequence.

A sequence lets a member count the rows made between two of their own, the
hidden ones included (API.md "Ids tell nothing"). Gifts and lists take a
random id within 1 ... 2 147 483 647 (an INTEGER on PostgreSQL) instead; an
insert whose id is taken inserts nothing (ON CONFLICT DO NOTHING, no error,
so a transaction around it goes on) and is tried again with another id.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

MAX_ID = 2**31 - 1
# Each try collides with probability rows / MAX_ID: at a million rows, eight
# tries in a row fail about once in 10^26 inserts.
ATTEMPTS = 8


class IdsExhausted(Exception):
    """Every try hit a taken id (the table is all but full)."""


def random_id() -> int:
    return 1 + secrets.randbelow(MAX_ID)


def random_ids(count: int) -> list[int]:
    """``count`` distinct random ids (for inserts of many rows at once)."""
    ids: set[int] = set()
    while len(ids) < count:
        ids.add(random_id())
    return list(ids)


def insert(
    connection: Connection, table: sa.Table, values: dict[str, Any]
) -> RowMapping:
    """Insert one row under a random id; its id."""
    statement = _insert_returning_id(connection.dialect.name, table)
    return insert_with(connection, statement, values)


def insert_with(
    connection: Connection, statement: Any, values: dict[str, Any]
) -> RowMapping:
    """Insert one row under a random id through ``statement``, an
    ``insert_statement`` built once by the caller; the row it returns."""
    for _ in range(ATTEMPTS):
        parameters = {**values, "id": random_id()}
        row = connection.execute(statement, parameters).mappings().first()
        if row is not None:
            return row
    raise IdsExhausted(statement.table.name)


def insert_statement(dialect_name: str, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT (id) DO NOTHING; the values come as parameters."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[table.c.id])


@lru_cache(maxsize=16)
def _insert_returning_id(dialect_name: str, table: sa.Table) -> Any:
    """Built once per table: building the statement with its values and
    caching-key it took a third of creating a gift (POST, in-process)."""
    return insert_statement(dialect_name, table).returning(table.c.id)


def insert_many(
    connection: Connection, table: sa.Table, rows: list[dict[str, Any]]
) -> int:
    """Insert the rows under random ids (those whose id is taken try again);
    how many were inserted."""
    statement = _insert_returning_id(connection.dialect.name, table)
    pending = rows
    for _ in range(ATTEMPTS):
        if not pending:
            break
        drawn = [
            {**row, "id": new}
            for row, new in zip(pending, random_ids(len(pending)), strict=True)
        ]
        inserted = set(connection.scalars(statement, drawn))
        pending = [
            row
            for row, new in zip(pending, drawn, strict=True)
            if new["id"] not in inserted
        ]
    if pending:
        raise IdsExhausted(table.name)
    return len(rows)

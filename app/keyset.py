"""Keyset pages in (name, id) order, as people and lists are listed."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.engine import Connection, RowMapping

from app.gifts.schemas import STORABLE_TEXT
from app.gifts.store import BadCursor


def encode_cursor(row: RowMapping) -> str:
    raw = json.dumps([row["name"], row["id"]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """The (name, id) of the last row of the previous page."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, last_id = json.loads(raw)
        STORABLE_TEXT(name)  # a forged key the database cannot compare
    except (ValueError, TypeError, binascii.Error, ValidationError) as error:
        raise BadCursor() from error
    if type(last_id) is not int or not isinstance(name, str):
        raise BadCursor()
    return name, last_id


def name_page(
    connection: Connection,
    statement: sa.Select[Any],
    table: sa.Table,
    limit: int,
    cursor: str | None,
) -> tuple[list[RowMapping], bool, str | None]:
    """One page of ``statement``'s rows by (name, id): (rows, has_more, cursor).

    Walks the table's (name, id) index, so a deep page costs a first page's time.
    """
    if cursor:
        name, last_id = decode_cursor(cursor)
        row = sa.tuple_(table.c.name, table.c.id)
        statement = statement.where(
            row > sa.tuple_(sa.literal(name, table.c.name.type), sa.literal(last_id))
        )
    statement = statement.order_by(table.c.name, table.c.id).limit(limit + 1)
    rows = list(connection.execute(statement).mappings())
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, has_more, encode_cursor(rows[-1]) if has_more else None

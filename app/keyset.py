"""Keyset pages: cursors checked as strictly as a body, and pages in (name, id)
order, as people and lists are listed."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields, validate
from sqlalchemy.engine import Connection, RowMapping

from app import limits
from app.fields import MAX_CURSOR, MAX_ID, STORABLE_TEXT, StrictInteger
from app.sealing import Unsealable, sealer

PURPOSE = b"name listing"  # people and lists: cursors sealed (app/sealing.py)


class BadCursor(Exception):
    """A cursor that this API did not hand out (or of another listing or sort)."""


# What a cursor holds, checked as strictly as a request body: a forged one
# (huge ids, deep nesting, a name no column can hold) is a 422, never a 500.
CURSOR = ma.Schema.from_dict(
    {
        "name": fields.String(
            required=True, validate=[validate.Length(max=255), STORABLE_TEXT]
        ),
        "id": StrictInteger(required=True, validate=validate.Range(1, MAX_ID)),
    },
    name="NameCursor",
)()


class PageArgsSchema(ma.Schema):
    """A page of a listing by name."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=MAX_CURSOR))

    class Meta:
        unknown = ma.RAISE


def encode_cursor(row: RowMapping) -> str:
    contents = [row["name"], row["id"]]
    raw = json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode()
    return sealer().seal(PURPOSE, raw)


def decode_cursor(cursor: str) -> tuple[str, int]:
    """The (name, id) of the last row of the previous page."""
    try:
        contents = limits.loads(sealer().open(PURPOSE, cursor))
    except (Unsealable, ValueError) as error:  # JSONDecodeError included
        raise BadCursor() from error
    if not isinstance(contents, list) or len(contents) != 2:
        raise BadCursor()
    try:
        loaded = CURSOR.load(dict(zip(("name", "id"), contents, strict=True)))
    except ma.ValidationError as error:
        raise BadCursor() from error
    return loaded["name"], loaded["id"]


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

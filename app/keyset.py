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
def _name_and_id() -> dict[str, fields.Field]:
    return {
        "name": fields.String(
            required=True, validate=[validate.Length(max=255), STORABLE_TEXT]
        ),
        "id": StrictInteger(required=True, validate=validate.Range(1, MAX_ID)),
    }


CURSOR = ma.Schema.from_dict(_name_and_id(), name="NameCursor")()


class PageArgsSchema(ma.Schema):
    """A page of a listing by name."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=MAX_CURSOR))

    class Meta:
        unknown = ma.RAISE


def _pack(contents: list[Any]) -> str:
    """A sealed cursor holding ``contents`` (every cursor of this module is one)."""
    raw = json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode()
    return sealer().seal(PURPOSE, raw)


def _unpack(cursor: str, schema: ma.Schema) -> dict[str, Any]:
    """What ``_pack`` put in ``cursor``, loaded by ``schema`` (its fields in
    the order packed); BadCursor for anything else."""
    try:
        contents = limits.loads(sealer().open(PURPOSE, cursor))
    except (Unsealable, ValueError) as error:  # JSONDecodeError included
        raise BadCursor() from error
    names = list(schema.fields)
    if not isinstance(contents, list) or len(contents) != len(names):
        raise BadCursor()
    try:
        return schema.load(dict(zip(names, contents, strict=True)))
    except ma.ValidationError as error:
        raise BadCursor() from error


def encode_cursor(row: RowMapping) -> str:
    return _pack([row["name"], row["id"]])


def decode_cursor(cursor: str) -> tuple[str, int]:
    """The (name, id) of the last row of the previous page."""
    loaded = _unpack(cursor, CURSOR)
    return loaded["name"], loaded["id"]


# A listing ordered by an integer key first (occasions: their next date as
# YYYYMMDD), then (name, id).
KEYED_CURSOR = ma.Schema.from_dict(
    {
        "key": StrictInteger(required=True, validate=validate.Range(0, 99_999_999)),
        **_name_and_id(),
    },
    name="KeyedNameCursor",
)()


def encode_keyed_cursor(key: int, row: RowMapping) -> str:
    return _pack([key, row["name"], row["id"]])


def decode_keyed_cursor(cursor: str) -> tuple[int, str, int]:
    """The (key, name, id) of the last row of the previous page."""
    loaded = _unpack(cursor, KEYED_CURSOR)
    return loaded["key"], loaded["name"], loaded["id"]


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

"""Listing cursors: sealed (app/sealing.py), so they show nothing of the gift;
what one holds is still validated as strictly as a request body."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app import limits
from app.fields import MAX_ID, MAX_PRICE, STORABLE_TEXT, StrictInteger
from app.keyset import BadCursor
from app.sealing import Unsealable, sealer

PURPOSE = b"gift listing"

# sort -> the gift column its key comes from (ids are random: newest first
# is by creation time, then id).
SORT_KEYS: dict[str, str | None] = {
    "recent": "created_at",
    "price_asc": "price",
    "price_desc": "price",
    "name": "name",
}


def _cursor_schema(sort: str) -> ma.Schema:
    """The contents of a cursor of this sort: [sort, last key, last id]."""
    column = SORT_KEYS[sort]
    key: fields.Field
    if column == "price":
        key = fields.Decimal(
            required=True,
            allow_none=True,
            allow_nan=False,
            validate=validate.Range(0, MAX_PRICE),
        )
    elif column == "created_at":
        key = fields.AwareDateTime(required=True, format="iso")
    elif column == "name":
        key = fields.String(
            required=True, validate=[validate.Length(max=255), STORABLE_TEXT]
        )
    else:
        key = fields.Raw(required=True, allow_none=True, validate=validate.Equal(None))
    return ma.Schema.from_dict(
        {
            "sort": fields.String(required=True, validate=validate.Equal(sort)),
            "key": key,
            "id": StrictInteger(required=True, validate=validate.Range(1, MAX_ID)),
        },
        name=f"Cursor_{sort}",
    )()


SCHEMAS = {sort: _cursor_schema(sort) for sort in SORT_KEYS}


def encode_cursor(sort: str, gift: Mapping[str, Any]) -> str:
    column = SORT_KEYS[sort]
    key = None if column is None else gift[column]
    if isinstance(key, Decimal):
        key = str(key)
    elif isinstance(key, dt.datetime):
        key = key.isoformat()
    contents = [sort, key, gift["id"]]
    raw = json.dumps(contents, ensure_ascii=False, separators=(",", ":")).encode()
    return sealer().seal(PURPOSE, raw)


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The (sort key, id) of the last gift of the previous page."""
    try:
        contents = limits.loads(sealer().open(PURPOSE, cursor))
    except (Unsealable, ValueError) as error:  # JSONDecodeError included
        raise BadCursor() from error
    if not isinstance(contents, list) or len(contents) != 3:
        raise BadCursor()
    try:
        loaded = SCHEMAS[sort].load(
            dict(zip(("sort", "key", "id"), contents, strict=True))
        )
    except ma.ValidationError as error:
        raise BadCursor() from error
    key = loaded["key"]
    if isinstance(key, dt.datetime):
        try:  # an offset may carry year 1 or 9999 out of range in UTC
            key = key.astimezone(dt.UTC)
        except (OverflowError, ValueError) as error:
            raise BadCursor() from error
    return key, loaded["id"]

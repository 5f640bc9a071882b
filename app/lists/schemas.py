"""What clients may send about a gift list (load) and what they get back (dump)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow_sqlalchemy import auto_field

from app.dump_schemas import ModelDumpSchema
from app.fields import (
    MAX_ID,
    STORABLE_TEXT,
    StrictInteger,
    TrimmedString,
    id_list,
    record_id,
    without_nulls,
)
from app.keyset import PageArgsSchema
from app.models import LIST_KINDS, MAX_LIST_NAME, GiftList


def _person_id() -> StrictInteger:
    return StrictInteger(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Whose list it is; null for no one."},
    )


class ListCreateSchema(ma.Schema):
    """A new list, maybe holding some gifts at once."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, MAX_LIST_NAME), STORABLE_TEXT]
    )
    kind = fields.String(load_default="ideas", validate=validate.OneOf(LIST_KINDS))
    person_id = _person_id()
    gift_ids = id_list(metadata={"description": "Gifts the new list holds."})

    class Meta:
        unknown = ma.RAISE


class ListRecordSchema(ListCreateSchema):
    """A list as a backup holds it: what a POST takes but its gifts (the
    gift_lists section holds them), and the id and version the server set."""

    id = record_id()
    version = record_id()

    class Meta(ListCreateSchema.Meta):
        exclude = ("gift_ids",)


class ListUpdateSchema(ma.Schema):
    """Some fields of a list (load with ``partial=True``); null on ``name`` or
    ``kind`` leaves it unchanged."""

    name = TrimmedString(
        allow_none=True, validate=[validate.Length(1, MAX_LIST_NAME), STORABLE_TEXT]
    )
    kind = fields.String(allow_none=True, validate=validate.OneOf(LIST_KINDS))
    person_id = _person_id()

    class Meta:
        unknown = ma.RAISE

    @ma.post_load
    def _drop_null_non_nullable(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return without_nulls(data, ("name", "kind"))


class ListSchema(ModelDumpSchema):
    """A list as the API returns it."""

    class Meta(ModelDumpSchema.Meta):
        model = GiftList

    id = auto_field(dump_only=True)
    name = auto_field(dump_only=True)
    kind = auto_field(dump_only=True)
    person_id = auto_field(dump_only=True)
    gift_count = fields.Integer(
        required=True, metadata={"description": "Gifts on this list."}
    )


class ListPageSchema(ma.Schema):
    """One page of lists, by name then id."""

    items = fields.Nested(ListSchema, many=True)
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class ListListArgsSchema(PageArgsSchema):
    """A page of lists, maybe only one person's."""

    person_id = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Only this person's lists."},
    )

"""What clients may send about a person (load) and what they get back (dump)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow_sqlalchemy import auto_field

from app.dump_schemas import ModelDumpSchema
from app.fields import STORABLE_TEXT, TrimmedString, record_id, text_field
from app.models import MAX_PERSON_NAME, MAX_TEXT, Person


class PersonCreateSchema(ma.Schema):
    """A new person: ``name`` is required."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, MAX_PERSON_NAME), STORABLE_TEXT]
    )
    relationship = text_field(MAX_PERSON_NAME)
    birthdate = fields.Date(allow_none=True)
    notes = text_field(MAX_TEXT)

    class Meta:
        unknown = ma.RAISE


class PersonUpdateSchema(PersonCreateSchema):
    """Some fields of a person (load with ``partial=True``); null on ``name``
    leaves it unchanged."""

    name = TrimmedString(
        allow_none=True, validate=[validate.Length(1, MAX_PERSON_NAME), STORABLE_TEXT]
    )

    @ma.post_load
    def _drop_null_name(self, data: dict[str, Any], **kwargs: Any) -> Any:
        if data.get("name", "") is None:
            del data["name"]
        return data


class PersonRecordSchema(PersonCreateSchema):
    """A person as a backup holds them: what a POST takes, and the id and
    version the server set."""

    id = record_id()
    version = record_id()


class PersonSchema(ModelDumpSchema):
    """A person as the API returns them."""

    class Meta(ModelDumpSchema.Meta):
        model = Person

    id = auto_field(dump_only=True)
    name = auto_field(dump_only=True)
    relationship = auto_field(dump_only=True)
    birthdate = auto_field(dump_only=True)
    notes = auto_field(dump_only=True)
    gift_count = fields.Integer(
        required=True, metadata={"description": "Gifts for this person."}
    )


class PersonPageSchema(ma.Schema):
    """One page of people, by name then id."""

    items = fields.Nested(PersonSchema, many=True)
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)

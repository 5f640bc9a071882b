"""What clients may send about an occasion or a budget (load), and what they
get back (dump)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
import orjson
from marshmallow import fields, validate
from marshmallow_sqlalchemy import auto_field

from app.dump_schemas import ModelDumpSchema
from app.fields import (
    MAX_ID,
    STORABLE_TEXT,
    Money,
    StrictBoolean,
    StrictInteger,
    TrimmedString,
    record_id,
    without_nulls,
)
from app.keyset import PageArgsSchema
from app.models import MAX_OCCASION_NAME, OCCASION_KINDS, Occasion

# PATCH: null on these leaves the value as it is (the gift's rule).
NOT_NULLABLE = ("name", "kind", "date", "repeats_yearly")
MAX_UPCOMING_DAYS = 366


def _person_id() -> StrictInteger:
    return StrictInteger(
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "Whose birthday it is; null for no one."},
    )


class OccasionCreateSchema(ma.Schema):
    """A new occasion: ``name`` and ``date`` are required."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, MAX_OCCASION_NAME), STORABLE_TEXT]
    )
    kind = fields.String(load_default="other", validate=validate.OneOf(OCCASION_KINDS))
    date = fields.Date(
        required=True, metadata={"description": "The first time it happens."}
    )
    repeats_yearly = StrictBoolean(
        load_default=False,
        metadata={"description": "It comes back every year on the same day."},
    )
    person_id = _person_id()

    class Meta:
        unknown = ma.RAISE


class OccasionUpdateSchema(OccasionCreateSchema):
    """Some fields of an occasion (load with ``partial=True``): null on
    ``name``, ``kind``, ``date`` or ``repeats_yearly`` leaves it unchanged."""

    name = TrimmedString(
        allow_none=True,
        validate=[validate.Length(1, MAX_OCCASION_NAME), STORABLE_TEXT],
    )
    kind = fields.String(allow_none=True, validate=validate.OneOf(OCCASION_KINDS))
    date = fields.Date(allow_none=True)
    repeats_yearly = StrictBoolean(allow_none=True)

    @ma.post_load
    def _drop_null_non_nullable(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return without_nulls(data, NOT_NULLABLE)


class OccasionRecordSchema(OccasionCreateSchema):
    """An occasion as a backup holds it: what a POST takes, and the id and
    version the server set."""

    id = record_id()
    version = record_id()


class BudgetRecordSchema(ma.Schema):
    """A backup's budget of a person at an occasion."""

    occasion_id = record_id()
    person_id = record_id()
    amount = Money(required=True)

    class Meta:
        unknown = ma.RAISE


class OccasionSchema(ModelDumpSchema):
    """An occasion as the API returns it."""

    class Meta(ModelDumpSchema.Meta):
        model = Occasion

    id = auto_field(dump_only=True)
    name = auto_field(dump_only=True)
    kind = auto_field(dump_only=True)
    date = auto_field(dump_only=True)
    repeats_yearly = auto_field(dump_only=True, dump_default=False)
    person_id = auto_field(dump_only=True)
    next_date = fields.Date(
        required=True,
        allow_none=True,
        metadata={
            "description": "The first day on or after today (in the family's "
            "time zone) on which it happens; null once a one-off is past."
        },
    )
    gift_count = fields.Integer(
        required=True, metadata={"description": "Gifts for this occasion."}
    )


class OccasionPageSchema(ma.Schema):
    """One page of occasions, by next date (past ones last), name, then id."""

    items = fields.Nested(OccasionSchema, many=True)
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class OccasionListArgsSchema(PageArgsSchema):
    """A page of occasions, maybe only those coming soon."""

    upcoming = fields.Integer(
        validate=validate.Range(min=1, max=MAX_UPCOMING_DAYS),
        metadata={"description": "Only those whose next date is at most DAYS away."},
    )


class BudgetSetSchema(ma.Schema):
    """The budget of a person at an occasion."""

    amount = Money(required=True)

    class Meta:
        unknown = ma.RAISE


class BudgetSchema(ma.Schema):
    """A budget as set."""

    person_id = fields.Integer(required=True)
    amount = fields.Decimal(required=True, metadata={"example": 50.0})


class Cents(fields.Decimal):
    """A sum of money written as its exact decimal JSON number: a total of
    many gifts may have more digits than a float keeps (about 15)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return orjson.Fragment(format(Decimal(value), "f").encode())


def _amounts() -> dict[str, fields.Field]:
    """The fields of a row of the budget view and of its total."""
    return {
        "budget": Cents(
            required=True,
            allow_none=True,
            metadata={"description": "null: no budget set."},
        ),
        "spent": Cents(
            required=True, metadata={"description": "Purchased and received gifts."}
        ),
        "planned": Cents(
            required=True, metadata={"description": "Ideas and selected gifts."}
        ),
        "remaining": Cents(
            required=True,
            allow_none=True,
            metadata={"description": "budget - spent - planned; null: no budget."},
        ),
        "over_budget": fields.Boolean(required=True),
    }


# What one person's gifts of the occasion cost, against their budget.
BudgetRowSchema = ma.Schema.from_dict(
    {"person_id": fields.Integer(required=True), **_amounts()}, name="BudgetRow"
)
# The occasion's gifts, each counted once, against the rows' budgets.
BudgetTotalSchema = ma.Schema.from_dict(_amounts(), name="BudgetTotal")


class BudgetViewSchema(ma.Schema):
    """What is spent, planned and left at an occasion, per person and in total."""

    occasion_id = fields.Integer(required=True)
    people = fields.Nested(BudgetRowSchema, many=True, required=True)
    total = fields.Nested(BudgetTotalSchema, required=True)

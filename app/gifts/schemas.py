"""What clients may send about a gift (load schemas) and what they get back
(dump schemas, from the model's columns)."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow_sqlalchemy import auto_field

from app.dump_schemas import ModelDumpSchema
from app.fields import (
    MAX_CURSOR,
    MAX_ID,
    MAX_LINKS,
    STORABLE_TEXT,
    BoundedList,
    Money,
    StrictBoolean,
    StrictInteger,
    TrimmedString,
    id_list,
    record_id,
    text_field,
    web_url,
    without_nulls,
)
from app.models import MAX_TEXT, PRIORITIES, STATUSES, Gift

READ_ONLY = frozenset({"id", "created_at", "updated_at"})
# PATCH: null on these leaves the value as it is (API.md "Partial updates").
NOT_NULLABLE = (
    "name",
    "quantity",
    "priority",
    "status",
    "from_santa",
    "recipient_ids",
    "list_ids",
)
BULK_MAX_IDS = 100
# Link sets of a gift (people it is for, lists it is on).
LINK_FIELDS = ("recipient_ids", "list_ids")


class GiftCreateSchema(ma.Schema):
    """A new gift: ``name`` is required, everything else has a default."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, 255), STORABLE_TEXT]
    )
    description = text_field(MAX_TEXT)
    notes = text_field(MAX_TEXT)
    url = web_url()
    image_url = web_url()
    source = text_field(255)
    price = Money(allow_none=True)
    sale_price = Money(allow_none=True)
    quantity = StrictInteger(load_default=1, validate=validate.Range(1, 10_000))
    priority = fields.String(load_default="medium", validate=validate.OneOf(PRIORITIES))
    status = fields.String(load_default="idea", validate=validate.OneOf(STATUSES))
    purchase_date = fields.Date(allow_none=True)
    from_santa = StrictBoolean(
        load_default=False, metadata={"description": "Mark the gift as from Santa."}
    )
    recipient_ids = id_list(metadata={"description": "The people it is for."})
    list_ids = id_list(metadata={"description": "The lists it is on."})
    claimed_by = StrictInteger(
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={
            "description": "Claim it: your own member id (another's is 403; a "
            "gift another member claimed is 409). null releases a claim."
        },
    )
    occasion_id = StrictInteger(
        allow_none=True,
        validate=validate.Range(1, MAX_ID),
        metadata={"description": "The occasion it is for; null for none."},
    )

    # Fields a client may not send: the server sets them.
    read_only: frozenset[str] = READ_ONLY | {"created_by", "wish_withdrawn"}

    class Meta:
        unknown = ma.RAISE

    def load(self, data: Any, **kwargs: Any) -> Any:
        """Load, naming read-only fields (id, timestamps) beside any other error."""
        if not isinstance(data, dict) or not self.read_only & data.keys():
            return super().load(data, **kwargs)
        errors: dict[str, Any] = {}
        try:
            super().load(
                {k: v for k, v in data.items() if k not in self.read_only}, **kwargs
            )
        except ma.ValidationError as error:
            errors = error.normalized_messages()
        for key in self.read_only & data.keys():
            errors[key] = ["Read-only field."]
        raise ma.ValidationError(errors)


class GiftUpdateSchema(GiftCreateSchema):
    """Some fields of a gift (load with ``partial=True``): only those sent change.

    null clears a nullable field and leaves a non-nullable one unchanged.
    """

    name = TrimmedString(
        allow_none=True, validate=[validate.Length(1, 255), STORABLE_TEXT]
    )
    quantity = StrictInteger(allow_none=True, validate=validate.Range(1, 10_000))
    priority = fields.String(allow_none=True, validate=validate.OneOf(PRIORITIES))
    status = fields.String(allow_none=True, validate=validate.OneOf(STATUSES))
    from_santa = StrictBoolean(
        allow_none=True,
        metadata={"description": "Mark the gift as from Santa; null leaves it."},
    )
    recipient_ids = id_list(
        allow_none=True,
        metadata={"description": "Replaces the people it is for; null leaves them."},
    )
    list_ids = id_list(
        allow_none=True,
        metadata={"description": "Replaces the lists it is on; null leaves them."},
    )

    @ma.post_load
    def _drop_null_non_nullable(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return without_nulls(data, NOT_NULLABLE)


class GiftRecordSchema(GiftCreateSchema):
    """A gift as a backup holds it (``flask gifts import``): the fields a client
    may send, validated as a POST validates them, and those the server sets.
    Its people and lists are records of their own (the link sections)."""

    read_only = frozenset()
    id = record_id()
    version = record_id()
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)
    # Absent from backups written before surprises: no creator, no claim.
    created_by = record_id(required=False, allow_none=True, load_default=None)
    claimed_by = record_id(required=False, allow_none=True, load_default=None)
    wish_withdrawn = StrictBoolean(load_default=False)
    wish_version = record_id(required=False, load_default=1)
    wish_updated_at = fields.AwareDateTime(allow_none=True, load_default=None)

    class Meta(GiftCreateSchema.Meta):
        exclude = ("recipient_ids", "list_ids")


class GiftRecipientRecordSchema(ma.Schema):
    """A backup's link of a gift to a person it is for."""

    gift_id = record_id()
    person_id = record_id()

    class Meta:
        unknown = ma.RAISE


class GiftListRecordSchema(ma.Schema):
    """A backup's link of a gift to a list it is on."""

    gift_id = record_id()
    list_id = record_id()

    class Meta:
        unknown = ma.RAISE


def ids_field(description: str) -> fields.List:
    return fields.List(
        fields.Integer(), required=True, metadata={"description": description}
    )


class GiftSchema(ModelDumpSchema):
    """A gift as the API returns it: every field, always."""

    class Meta(ModelDumpSchema.Meta):
        model = Gift

    id = auto_field(dump_only=True)
    name = auto_field(dump_only=True)
    description = auto_field(dump_only=True)
    notes = auto_field(dump_only=True)
    url = auto_field(dump_only=True)
    image_url = auto_field(dump_only=True)
    source = auto_field(dump_only=True)
    price = auto_field(dump_only=True, metadata={"example": 49.99})
    sale_price = auto_field(dump_only=True, metadata={"example": 39.99})
    quantity = auto_field(dump_only=True)
    priority = auto_field(dump_only=True)
    status = auto_field(dump_only=True)
    purchase_date = auto_field(dump_only=True)
    from_santa = auto_field(dump_only=True, dump_default=False)
    created_by = auto_field(
        dump_only=True,
        metadata={"description": "The member who made it; null: unknown."},
    )
    claimed_by = auto_field(
        dump_only=True,
        metadata={"description": "The member who is getting it; null: nobody."},
    )
    wish_withdrawn = auto_field(
        dump_only=True,
        dump_default=False,
        metadata={"description": "Its wisher deleted this wish after it was planned."},
    )
    occasion_id = auto_field(
        dump_only=True,
        metadata={"description": "The occasion it is for; null: none."},
    )
    created_at = auto_field(dump_only=True)
    updated_at = auto_field(dump_only=True)
    recipient_ids = ids_field("The people it is for, ascending.")
    list_ids = ids_field("The lists it is on, ascending.")


class GiftPageSchema(ma.Schema):
    """One page of a listing."""

    items = fields.Nested(GiftSchema, many=True)  # one dump for the whole list
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class GiftBulkChangesSchema(GiftUpdateSchema):
    """A bulk change: a gift's fields, or links added to or removed from each."""

    add_recipient_ids = id_list(metadata={"description": "People to add."})
    remove_recipient_ids = id_list(metadata={"description": "People to remove."})
    add_list_ids = id_list(metadata={"description": "Lists to put each gift on."})
    remove_list_ids = id_list(metadata={"description": "Lists to take it off."})

    @ma.validates_schema
    def _one_way_per_link(self, data: dict[str, Any], **kwargs: Any) -> None:
        """A set replaces, add_/remove_ edit: sending both is ambiguous."""
        errors = {
            variant: [f"Not together with {field}."]
            for field in LINK_FIELDS
            if data.get(field) is not None
            for variant in (f"add_{field}", f"remove_{field}")
            if variant in data
        }
        if errors:
            raise ma.ValidationError(errors)


class GiftBulkUpdateSchema(ma.Schema):
    """The same change to many gifts, all or nothing."""

    ids = BoundedList(
        StrictInteger(validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(1, BULK_MAX_IDS),
    )
    changes = fields.Nested(GiftBulkChangesSchema(partial=True), required=True)

    class Meta:
        unknown = ma.RAISE


class GiftItemsSchema(ma.Schema):
    """The gifts a bulk change updated, in the order of ``ids``."""

    items = fields.Nested(GiftSchema, many=True)  # one dump for the whole list


MEMBER_ID = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)


def claimer(value: str) -> None:
    """A ``claimed_by`` filter: ``me``, ``none`` or a member id (in range)."""
    if value in ("me", "none"):
        return
    if not MEMBER_ID.fullmatch(value) or int(value) > MAX_ID:
        raise ma.ValidationError("Must be me, none or a member id.")


class GiftListArgsSchema(ma.Schema):
    """Listing filters, sort and page."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=MAX_CURSOR))
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    priority = fields.List(fields.String(validate=validate.OneOf(PRIORITIES)))
    from_santa = fields.Boolean(truthy={"true"}, falsy={"false"})
    search = fields.String(validate=[validate.Length(min=2, max=255), STORABLE_TEXT])
    # At most 100 ids each, like a body's lists (422 above, before any is read).
    person_ids = BoundedList(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(max=MAX_LINKS),
        metadata={"description": "Gifts for any of these people (at most 100)."},
    )
    list_ids = BoundedList(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(max=MAX_LINKS),
        metadata={"description": "Gifts on any of these lists (at most 100)."},
    )
    occasion_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        metadata={"description": "Gifts for any of these occasions."},
    )
    claimed_by = fields.String(
        validate=claimer,
        metadata={"description": "`me`, `none` or a member id: who is getting it."},
    )
    sort = fields.String(
        load_default="recent",
        validate=validate.OneOf(("recent", "price_asc", "price_desc", "name")),
    )

    class Meta:
        unknown = ma.RAISE


class GiftSummaryArgsSchema(GiftListArgsSchema):
    """The listing's filters; no page or sort (a summary covers every match)."""

    class Meta:
        exclude = ("limit", "cursor", "sort")
        unknown = ma.RAISE


class GiftSummarySchema(ma.Schema):
    """Counts and money total of the gifts matching the filters."""

    total = fields.Integer(required=True)
    by_status = fields.Dict(
        keys=fields.String(validate=validate.OneOf(STATUSES)),
        values=fields.Integer(),
        required=True,
        metadata={"description": "Every status, with 0 for none."},
    )
    from_santa = fields.Integer(required=True)
    price_total = fields.Decimal(
        required=True,
        metadata={"description": "Sum of price x quantity over the priced gifts."},
    )

"""What clients may send (load schemas) and what they get back (dump schemas)."""

from __future__ import annotations

import decimal
from functools import cached_property
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields, validate
from marshmallow_sqlalchemy import ModelConverter, SQLAlchemySchema, auto_field
from sqlalchemy.engine import RowMapping

from app.models import MAX_TEXT, MAX_URL, PRIORITIES, STATUSES, Gift

MAX_PRICE = decimal.Decimal("99999999.99")
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
# A cursor of the longest name (255 characters, each escaped as a surrogate
# pair) in base64.
MAX_CURSOR = 4200
# Link sets of a gift (people it is for, lists it is on), and their bulk
# add_/remove_ variants.
LINK_FIELDS = ("recipient_ids", "list_ids")
LINK_CHANGES = tuple(
    f"{verb}_{field}" for field in LINK_FIELDS for verb in ("add", "remove")
)
MAX_LINKS = 100
# Ids are INTEGER on PostgreSQL; a larger one names no gift (and overflows
# SQLite's driver), so it is refused before reaching the database.
MAX_ID = 2**31 - 1


class StorableText(validate.Regexp):
    """Text both databases can store; other text is refused (422), not a 500.

    No NUL (PostgreSQL text cannot hold it; the pattern documents this rule)
    and no lone surrogate such as "\\ud800" (valid JSON, but not UTF-8).
    """

    def __init__(self) -> None:
        super().__init__(
            r"^[^\x00]*$", error="Must not contain NUL or unpaired surrogates."
        )

    def __call__(self, value: str) -> str:
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise ma.ValidationError(self._format_error(value)) from error
        return super().__call__(value)


STORABLE_TEXT = StorableText()


class StrictBoolean(fields.Boolean):
    """Only JSON true and false: "true", 1 and "yes" are not booleans."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Flag(fields.Boolean):
    """A response boolean that is never null: absent or unset reads false."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> bool:
        return bool(value)


class StrictInteger(fields.Integer):
    """Only JSON integers: not 1.0, "1" or true."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class Money(fields.Decimal):
    """A JSON number from 0 to 99 999 999.99 with at most two decimals."""

    default_error_messages = {
        "invalid": "Not a valid number.",
        "too_precise": "At most two decimals.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=0, max=MAX_PRICE))
        kwargs.setdefault("metadata", {"multipleOf": 0.01})
        super().__init__(**kwargs)

    def _deserialize(
        self, value: Any, attr: Any, data: Any, **kwargs: Any
    ) -> decimal.Decimal:
        if isinstance(value, bool) or not isinstance(
            value, int | float | decimal.Decimal
        ):
            raise self.make_error("invalid")
        number = super()._deserialize(value, attr, data, **kwargs)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise self.make_error("too_precise")
        return number


class TrimmedString(fields.String):
    """A string with surrounding whitespace removed before validation."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _web_url() -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        validate=[validate.Length(max=MAX_URL), STORABLE_TEXT],
        allow_none=True,
        # OpenAPI knows "uri", not apispec's "url".
        metadata={"format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    )


def text_field(max_length: int) -> fields.String:
    return fields.String(
        validate=[validate.Length(max=max_length), STORABLE_TEXT], allow_none=True
    )


class BoundedList(fields.List):
    """A list whose length is checked before its items: half a million ids
    cost a worker over a second to check one by one before being refused."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list):
            for validator in self.validators:
                if isinstance(validator, validate.Length):
                    validator(value)
        return super()._deserialize(value, attr, data, **kwargs)


def id_list(**kwargs: Any) -> fields.List:
    """Ids of other resources in a body: JSON integers only, at most 100."""
    return BoundedList(
        StrictInteger(validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(max=MAX_LINKS),
        **kwargs,
    )


class GiftCreateSchema(ma.Schema):
    """A new gift: ``name`` is required, everything else has a default."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, 255), STORABLE_TEXT]
    )
    description = text_field(MAX_TEXT)
    notes = text_field(MAX_TEXT)
    url = _web_url()
    image_url = _web_url()
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

    # Fields a client may not send: the server sets them.
    read_only: frozenset[str] = READ_ONLY

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
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in NOT_NULLABLE
        }


def record_id(**kwargs: Any) -> StrictInteger:
    """An id (or a version) in a backup record: a JSON integer in range."""
    kwargs.setdefault("required", True)
    return StrictInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class GiftRecordSchema(GiftCreateSchema):
    """A gift as a backup holds it (``flask gifts import``): the fields a client
    may send, validated as a POST validates them, and those the server sets.
    Its people and lists are records of their own (the link sections)."""

    read_only = frozenset()
    id = record_id()
    version = record_id()
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)

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


def _isoformat(value: Any) -> Any:
    return None if value is None else value.isoformat()


class RowDumpSchema(ma.Schema):
    """A dump schema that dumps database rows along a plan made once per schema.

    marshmallow's ``dump`` walks every field through ``get_value`` and
    ``serialize``, about a microsecond a field: a page of 50 gifts spent more
    time there than in the database. A row of our own table holds every key, so
    each field needs only the conversion its type implies, picked here once.
    Anything else (other objects, hooks, unplanned field types) takes
    marshmallow's own path; tests check both give the same JSON.
    """

    CONVERTERS: dict[type[fields.Field], Any] = {
        fields.String: None,
        fields.Integer: None,
        # Exact in the database; a float's shortest repr writes the same digits
        # (at most 12 significant) and spares the JSON encoder a hook per value.
        fields.Decimal: lambda value: None if value is None else float(value),
        fields.Date: _isoformat,
        fields.DateTime: _isoformat,
        Flag: bool,
        fields.List: None,  # of ids: already JSON
    }

    @cached_property
    def _row_plan(self) -> list[tuple[str, str, Any]] | None:
        """(output key, row key, conversion) per field; None: marshmallow dumps."""
        if self._hooks["pre_dump"] or self._hooks["post_dump"]:
            return None  # load hooks (marshmallow-sqlalchemy's) do not matter
        plan = []
        for name, field in self.dump_fields.items():
            iso = getattr(field, "format", None) in (None, "iso")
            if type(field) not in self.CONVERTERS or not iso:
                return None
            convert = self.CONVERTERS[type(field)]
            plan.append((field.data_key or name, field.attribute or name, convert))
        return plan

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        many = self.many if many is None else many
        rows = obj if many else [obj]
        plan = self._row_plan
        if plan is None or not all(isinstance(row, RowMapping) for row in rows):
            return super().dump(obj, many=many)
        dumped = [
            {
                key: row[attribute] if convert is None else convert(row[attribute])
                for key, attribute, convert in plan
            }
            for row in rows
        ]
        return dumped if many else dumped[0]


class DumpConverter(ModelConverter):
    """Response field types from column types: enums as strings (their values
    listed by ``ModelDumpSchema``), booleans never null."""

    SQLA_TYPE_MAPPING = {
        **ModelConverter.SQLA_TYPE_MAPPING,
        sa.Enum: fields.String,
        sa.Boolean: Flag,
    }


class ModelDumpSchema(RowDumpSchema, SQLAlchemySchema):
    """A response schema whose fields come from the model's columns
    (``auto_field``): each column is declared once, in the model."""

    class Meta:
        model_converter = DumpConverter

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """Every field is in every response (``required`` documents it); an
        enum column lists its values."""
        field_obj.required = True
        column = self.opts.model.__table__.c.get(field_name)
        if column is not None and isinstance(column.type, sa.Enum):
            field_obj.metadata = {**field_obj.metadata, "enum": list(column.type.enums)}


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


class GiftListArgsSchema(ma.Schema):
    """Listing filters, sort and page."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=MAX_CURSOR))
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    priority = fields.List(fields.String(validate=validate.OneOf(PRIORITIES)))
    from_santa = fields.Boolean(truthy={"true"}, falsy={"false"})
    search = fields.String(validate=[validate.Length(min=2, max=255), STORABLE_TEXT])
    person_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        metadata={"description": "Gifts for any of these people."},
    )
    list_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        metadata={"description": "Gifts on any of these lists."},
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

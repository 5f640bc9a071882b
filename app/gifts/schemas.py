"""What clients may send (load schemas) and what they get back (dump schemas)."""

from __future__ import annotations

import decimal
from functools import cached_property
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy.engine import RowMapping

from app.models import MAX_TEXT, MAX_URL, PRIORITIES, STATUSES

MAX_PRICE = decimal.Decimal("99999999.99")
READ_ONLY = frozenset({"id", "created_at", "updated_at"})
# PATCH: null on these leaves the value as it is (API.md "Partial updates").
NOT_NULLABLE = ("name", "quantity", "priority", "status", "from_santa")
BULK_MAX_IDS = 100
# A cursor of the longest name (255 characters, each escaped as a surrogate
# pair) in base64.
MAX_CURSOR = 4200
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


def _text(max_length: int) -> fields.String:
    return fields.String(
        validate=[validate.Length(max=max_length), STORABLE_TEXT], allow_none=True
    )


class GiftCreateSchema(ma.Schema):
    """A new gift: ``name`` is required, everything else has a default."""

    name = TrimmedString(
        required=True, validate=[validate.Length(1, 255), STORABLE_TEXT]
    )
    description = _text(MAX_TEXT)
    notes = _text(MAX_TEXT)
    url = _web_url()
    image_url = _web_url()
    source = _text(255)
    price = Money(allow_none=True)
    sale_price = Money(allow_none=True)
    quantity = StrictInteger(load_default=1, validate=validate.Range(1, 10_000))
    priority = fields.String(load_default="medium", validate=validate.OneOf(PRIORITIES))
    status = fields.String(load_default="idea", validate=validate.OneOf(STATUSES))
    purchase_date = fields.Date(allow_none=True)
    from_santa = StrictBoolean(
        load_default=False, metadata={"description": "Mark the gift as from Santa."}
    )

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

    @ma.post_load
    def _drop_null_non_nullable(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return {
            key: value
            for key, value in data.items()
            if value is not None or key not in NOT_NULLABLE
        }


class GiftRecordSchema(GiftCreateSchema):
    """A gift as a backup holds it (``flask gifts import``): the fields a client
    may send, validated as a POST validates them, and those the server sets."""

    read_only = frozenset()
    id = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_ID))
    version = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_ID))
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


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
    }

    @cached_property
    def _row_plan(self) -> list[tuple[str, str, Any]] | None:
        """(output key, row key, conversion) per field; None: marshmallow dumps."""
        if self._hooks:
            return None
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


class GiftSchema(RowDumpSchema):
    """A gift as the API returns it: every field, always (required documents it)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    notes = fields.String(required=True, allow_none=True)
    url = fields.String(required=True, allow_none=True)
    image_url = fields.String(required=True, allow_none=True)
    source = fields.String(required=True, allow_none=True)
    price = fields.Decimal(required=True, allow_none=True, metadata={"example": 49.99})
    sale_price = fields.Decimal(
        required=True, allow_none=True, metadata={"example": 39.99}
    )
    quantity = fields.Integer(required=True)
    priority = fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    purchase_date = fields.Date(required=True, allow_none=True)
    from_santa = Flag(required=True, dump_default=False)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class GiftPageSchema(ma.Schema):
    """One page of a listing."""

    items = fields.Nested(GiftSchema, many=True)  # one dump for the whole list
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class BoundedList(fields.List):
    """A list whose length is checked before its items: half a million ids
    cost a worker over a second to check one by one before being refused."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, list):
            for validator in self.validators:
                if isinstance(validator, validate.Length):
                    validator(value)
        return super()._deserialize(value, attr, data, **kwargs)


class GiftBulkUpdateSchema(ma.Schema):
    """The same change to many gifts, all or nothing."""

    ids = BoundedList(
        StrictInteger(validate=validate.Range(min=1, max=MAX_ID)),
        required=True,
        validate=validate.Length(1, BULK_MAX_IDS),
    )
    changes = fields.Nested(GiftUpdateSchema(partial=True), required=True)

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
    sort = fields.String(
        load_default="recent",
        validate=validate.OneOf(("recent", "price_asc", "price_desc", "name")),
    )

    class Meta:
        unknown = ma.RAISE

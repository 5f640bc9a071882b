"""Field types and limits every schema uses: what a valid id, text, amount of
money or list of ids is. Each takes JSON's own types only (no "1" for 1, no 1
for true) and refuses what no column can store, as a 422 rather than a 500."""

from __future__ import annotations

import decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.models import MAX_URL
from app.sealing import sealed_length

MAX_PRICE = decimal.Decimal("99999999.99")
# The longest cursor the service hands out: a gift name cursor, sealed, of a
# 255-character name whose every character JSON writes as 6 bytes (\u001f);
# 2107 characters, well within gunicorn's 4094-byte request line.
MAX_CURSOR = sealed_length(len('["name","",2147483647]') + 255 * 6)
# Ids of other rows one body may name (a gift's recipients, a list's gifts).
MAX_LINKS = 100
# Ids are INTEGER on PostgreSQL; a larger one names no row (and overflows
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


def web_url() -> fields.Url:
    """An http(s) address, or null."""
    return fields.Url(
        schemes={"http", "https"},
        validate=[validate.Length(max=MAX_URL), STORABLE_TEXT],
        allow_none=True,
        # OpenAPI knows "uri", not apispec's "url".
        metadata={"format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    )


def text_field(max_length: int) -> fields.String:
    """Storable text of at most ``max_length`` characters, or null."""
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


def record_id(**kwargs: Any) -> StrictInteger:
    """An id (or a version) in a backup record: a JSON integer in range."""
    kwargs.setdefault("required", True)
    return StrictInteger(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def without_nulls(
    data: dict[str, Any], not_nullable: tuple[str, ...]
) -> dict[str, Any]:
    """A PATCH body less the nulls sent for columns that cannot be null (null
    there means "leave it"): the post_load of every update schema."""
    return {
        key: value
        for key, value in data.items()
        if value is not None or key not in not_nullable
    }

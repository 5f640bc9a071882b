"""What sign-in accepts and what the sessions and members endpoints answer."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.access.passwords import MAX_PASSWORD
from app.fields import STORABLE_TEXT, StrictBoolean, TrimmedString, record_id
from app.models import ROLES
from app.models.member import MAX_EMAIL, MAX_MEMBER_NAME, MAX_TOKEN_LABEL


def _encodable(value: str) -> None:
    """UTF-8 text: no lone surrogate ("\ud800" is valid JSON), which no
    password hash nor database driver can take (it answered 500)."""
    try:
        value.encode()
    except UnicodeEncodeError as error:
        raise ma.ValidationError("Must not contain unpaired surrogates.") from error


class SignInSchema(ma.Schema):
    """A login (a member's name, or email in any case) and a password.

    A login no member can have (NUL, a lone surrogate: the databases cannot
    compare it) is a 422, whoever exists, like any malformed body."""

    login = fields.String(
        required=True, validate=[validate.Length(1, MAX_EMAIL), STORABLE_TEXT]
    )
    password = fields.String(
        required=True, validate=[validate.Length(1, MAX_PASSWORD), _encodable]
    )

    class Meta:
        unknown = ma.RAISE


class MemberSchema(ma.Schema):
    """A member of the family, as the API shows it."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    person_id = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "The person of the family they are; null: none."},
    )


class MemberPageSchema(ma.Schema):
    """One page of the active members, by name then id."""

    items = fields.Nested(MemberSchema, many=True)
    has_more = fields.Boolean()
    next_cursor = fields.String(allow_none=True)


class SessionSchema(ma.Schema):
    """A new session: its token is shown only in this answer."""

    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    member = fields.Nested(MemberSchema, required=True)


class MemberRecordSchema(ma.Schema):
    """A member as a backup holds them, checked as `flask members add` checks
    a new one. ``password_hash`` is there only in a file with secret hashes."""

    id = record_id()
    name = TrimmedString(
        required=True,
        validate=[
            validate.Length(1, MAX_MEMBER_NAME),
            validate.ContainsNoneOf("@", error="May not contain '@'."),
        ],
    )
    email = fields.Email(allow_none=True, validate=validate.Length(max=MAX_EMAIL))
    email_key = fields.String(allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    password_hash = fields.String(allow_none=True, validate=validate.Length(1, 255))
    disabled = StrictBoolean(required=True)
    created_at = fields.AwareDateTime(required=True)
    # Absent from backups written before members were people.
    person_id = record_id(required=False, allow_none=True, load_default=None)

    class Meta:
        unknown = ma.RAISE

    @ma.validates_schema
    def _email_key_is_the_folded_email(self, data: dict[str, Any], **_: Any) -> None:
        email = data.get("email")
        if data.get("email_key") != (email.casefold() if email else None):
            raise ma.ValidationError(
                "Must be the email in lower case (case-folded), or null without one.",
                "email_key",
            )


class AccessTokenRecordSchema(ma.Schema):
    """A token as a backup holds it: the hash only (the whole section is a
    secret, written only with --include-secret-hashes)."""

    id = record_id()
    member_id = record_id()
    token_hash = fields.String(
        required=True,
        validate=validate.Regexp("^[0-9a-f]{64}$", error="Not a SHA-256 in hex."),
    )
    label = fields.String(
        allow_none=True, validate=validate.Length(max=MAX_TOKEN_LABEL)
    )
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)

    class Meta:
        unknown = ma.RAISE

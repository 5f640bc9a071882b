"""What sign-in accepts and what the sessions and members endpoints answer."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from app.access.passwords import MAX_PASSWORD
from app.models import ROLES
from app.models.member import MAX_EMAIL


class SignInSchema(ma.Schema):
    """A login (a member's name, or email in any case) and a password."""

    login = fields.String(required=True, validate=validate.Length(1, MAX_EMAIL))
    password = fields.String(required=True, validate=validate.Length(1, MAX_PASSWORD))

    class Meta:
        unknown = ma.RAISE


class MemberSchema(ma.Schema):
    """A member of the family, as the API shows it."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class SessionSchema(ma.Schema):
    """A new session: its token is shown only in this answer."""

    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    member = fields.Nested(MemberSchema, required=True)

"""Members of the family, their access tokens and failed sign-ins."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

ROLES = ("parent", "child")
MAX_MEMBER_NAME = 80
MAX_EMAIL = 254
MAX_TOKEN_LABEL = 80
# A failed sign-in is counted per case-folded login ("login:<login>"); rows
# of an earlier release may say "member:<id>" (they age out in 15 minutes).
MAX_LOGIN_KEY = 7 + MAX_EMAIL


class Member(db.Model):  # type: ignore[name-defined,misc]
    """Someone of the family who uses the service: a parent or a child."""

    __tablename__ = "members"
    __table_args__ = (
        # A person is at most one member.
        sa.Index("uq_members_person_id", "person_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_MEMBER_NAME), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(MAX_EMAIL))
    # The case-folded email: unique, so two spellings of one address clash.
    email_key: Mapped[str | None] = mapped_column(sa.String(MAX_EMAIL), unique=True)
    role: Mapped[str] = mapped_column(sa.Enum(*ROLES, name="member_role"))
    # None: the member signs in with tokens made by `flask tokens create` only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    disabled: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The person of the family this member is (null: none). A linked person
    # cannot be deleted.
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))


class AccessToken(db.Model):  # type: ignore[name-defined,misc]
    """A bearer token of a member; only its SHA-256 is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(MAX_TOKEN_LABEL))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(db.Model):  # type: ignore[name-defined,misc]
    """One failed sign-in, kept to throttle guessing across workers and hosts."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        sa.Index("ix_sign_in_failures_login_key_failed_at", "login_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login_key: Mapped[str] = mapped_column(sa.String(MAX_LOGIN_KEY))
    failed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

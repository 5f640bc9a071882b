"""Members and their tokens: made, changed and listed (the CLI and sign-in)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError, validate
from sqlalchemy.engine import Connection, RowMapping

from app.access.auth import hash_token, token_cache
from app.access.passwords import MAX_PASSWORD, MIN_PASSWORD, hash_password
from app.extensions import db
from app.keyset import name_page
from app.models import ROLES, AccessToken, Gift, Member, Person, utcnow
from app.models.member import MAX_EMAIL, MAX_MEMBER_NAME, MAX_TOKEN_LABEL
from app.transactions import autocommit, retry_read
from app.wishes import track_wishes

EMAIL = validate.Email()
# The label of every token made by signing in (POST /api/v1/sessions): a
# password change revokes these, so `flask tokens create` may not use it.
SESSION_LABEL = "session"
members = Member.__table__
tokens = AccessToken.__table__


class AccountError(Exception):
    """Bad input to a member or token operation; the message says what."""


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_MEMBER_NAME:
        raise AccountError(f"a name has 1 to {MAX_MEMBER_NAME} characters")
    if "@" in name:
        raise AccountError("a name may not contain '@' (it would read as an email)")
    return name


def check_email(email: str) -> str:
    email = email.strip()
    try:
        EMAIL(email)
    except ValidationError as error:
        raise AccountError(f"not an email address: {email!r}") from error
    if len(email.casefold()) > MAX_EMAIL:  # the case-folded form is stored too
        raise AccountError(f"an email has at most {MAX_EMAIL} characters")
    return email


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    return password


def find_member(name: str) -> Member:
    member = db.session.scalar(sa.select(Member).where(Member.name == name))
    if member is None:
        raise AccountError(f"no member named {name!r}")
    return member


def find_login(login: str) -> Member | None:
    """The member whose name is ``login``, or whose email matches it
    case-insensitively."""
    if "@" in login:
        where = Member.email_key == login.casefold()
    else:
        where = Member.name == login
    return db.session.scalar(sa.select(Member).where(where))


def _check_person(person_id: int, member_id: int | None = None) -> None:
    """The person exists and is no other member."""
    if db.session.get(Person, person_id) is None:
        raise AccountError(f"no person with id {person_id}")
    other = db.session.scalar(
        sa.select(Member.name).where(
            Member.person_id == person_id, Member.id != (member_id or 0)
        )
    )
    if other is not None:
        raise AccountError(f"person {person_id} is already the member {other!r}")


def add_member(
    name: str,
    role: str,
    email: str | None = None,
    password: str | None = None,
    person_id: int | None = None,
) -> Member:
    name = check_name(name)
    if person_id is not None:
        _check_person(person_id)
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    if email is not None:
        email = check_email(email)
    if db.session.scalar(sa.select(Member.id).where(Member.name == name)):
        raise AccountError(f"a member named {name!r} already exists")
    email_key = email.casefold() if email else None
    if email_key and db.session.scalar(
        sa.select(Member.id).where(Member.email_key == email_key)
    ):
        raise AccountError(f"another member has the email {email!r}")
    member = Member(
        name=name,
        role=role,
        email=email,
        email_key=email_key,
        password_hash=hash_password(check_password(password)) if password else None,
        disabled=False,
        created_at=utcnow(),
        person_id=person_id,
    )
    db.session.add(member)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:  # a concurrent add of the same name
        db.session.rollback()
        raise AccountError(f"a member named {name!r} already exists") from error
    return member


def set_person(name: str, person_id: int | None) -> Member:
    """Link the member to the person they are (None: to no one). What they
    see changes at once in the database; a worker that read their token
    within the token cache's seconds sees it after those."""
    member = find_member(name)
    if person_id is not None:
        _check_person(person_id, member.id)
    connection = db.session.connection()
    # Their wishes (gifts they made for their person) come or go: the wish
    # views of what they made move if what they see of them changes.
    with track_wishes(connection, Gift.__table__.c.created_by == member.id):
        member.person_id = person_id
        db.session.flush()
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:  # a concurrent link of that person
        db.session.rollback()
        raise AccountError(f"person {person_id} is already a member") from error
    token_cache(current_app).clear()
    return member


def set_password(name: str, password: str) -> Member:
    """A new password; every token from an earlier sign-in ends with the old
    one (within the token cache's seconds on other workers). Tokens made with
    `flask tokens create` keep working: revoke them one by one if need be."""
    member = find_member(name)
    member.password_hash = hash_password(check_password(password))
    # In the transaction that changes the hash (the UPDATE of the member
    # flushes first): a sign-in that checked the old password either made
    # its token before (revoked here) or finds the hash changed (no token).
    db.session.execute(
        sa.update(AccessToken)
        .where(
            AccessToken.member_id == member.id,
            AccessToken.label == SESSION_LABEL,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    token_cache(current_app).clear()
    return member


def disable_member(name: str) -> Member:
    """Disabled: none of the member's tokens works any more (within the
    token cache's few seconds on other workers)."""
    member = find_member(name)
    member.disabled = True
    db.session.commit()
    token_cache(current_app).clear()
    return member


@retry_read
def member_page(
    limit: int, cursor: str | None
) -> tuple[list[RowMapping], bool, str | None]:
    """A page of the active members (no emails), by name then id."""
    table = Member.__table__
    statement = sa.select(
        table.c.id, table.c.name, table.c.role, table.c.person_id
    ).where(table.c.disabled.is_(False))
    with autocommit() as connection:
        return name_page(connection, statement, table, limit, cursor)


def list_members() -> Sequence[Member]:
    return db.session.scalars(sa.select(Member).order_by(Member.id)).all()


def create_token(
    member: Member, label: str | None = None, days: int | None = None
) -> tuple[AccessToken, str]:
    """A new token of ``member``: (its row, the token). Only the hash is kept."""
    if label is not None and len(label) > MAX_TOKEN_LABEL:
        raise AccountError(f"a label has at most {MAX_TOKEN_LABEL} characters")
    if label == SESSION_LABEL:
        raise AccountError(
            f"the label {SESSION_LABEL!r} is kept for tokens from signing in "
            "(a password change revokes those)"
        )
    if days is not None and not 1 <= days <= 3650:
        raise AccountError("--days is from 1 to 3650")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = AccessToken(
        member_id=member.id,
        token_hash=hash_token(token),
        label=label,
        created_at=now,
        expires_at=now + dt.timedelta(days=days) if days else None,
    )
    db.session.add(row)
    db.session.commit()
    return row, token


def create_session(
    connection: Connection, member_id: int, verified_hash: str, days: int
) -> tuple[dt.datetime, str] | None:
    """A sign-in token of the member: (its expiry, the token), made only if
    ``verified_hash``, the one the password was checked against, is still the
    member's and they are not disabled; else None (changed meanwhile).

    One INSERT ... SELECT that holds the member's row (FOR SHARE on
    PostgreSQL; SQLite's writer lock does as much): a password change
    committed first leaves no row to select, one under way waits for it and
    then revokes the token made.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + dt.timedelta(days=days)
    source = (
        sa.select(
            members.c.id,
            sa.literal(hash_token(token), tokens.c.token_hash.type),
            sa.literal(SESSION_LABEL, tokens.c.label.type),
            sa.literal(now, tokens.c.created_at.type),
            sa.literal(expires, tokens.c.expires_at.type),
        )
        .where(
            members.c.id == member_id,
            members.c.password_hash == verified_hash,
            members.c.disabled.is_(False),
        )
        .with_for_update(read=True)
    )
    columns = ["member_id", "token_hash", "label", "created_at", "expires_at"]
    made = connection.execute(
        sa.insert(tokens).from_select(columns, source).returning(tokens.c.id)
    ).first()
    return None if made is None else (expires, token)


def list_tokens(name: str | None = None) -> Sequence[tuple[AccessToken, Member]]:
    query = sa.select(AccessToken, Member).join(Member).order_by(AccessToken.id)
    if name is not None:
        query = query.where(Member.id == find_member(name).id)
    return [(token, member) for token, member in db.session.execute(query)]


def revoke_token(token_id: int) -> AccessToken:
    token = db.session.get(AccessToken, token_id)
    if token is None:
        raise AccountError(f"no token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    token_cache(current_app).forget(token.token_hash)
    return token

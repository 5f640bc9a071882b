"""The one authentication check: a bearer token becomes the member on ``g``."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request

from app.errors import problem
from app.models import AccessToken, Member, utcnow
from app.transactions import autocommit, retry_read
from app.visibility import Viewer, viewer_of

API_PREFIX = "/api/v1/"
# The one /api/v1 request that needs no token: signing in.
OPEN = frozenset({("POST", "/api/v1/sessions")})
# secrets.token_urlsafe(32): 43 characters of base64url, 256 bits. Anything
# else names no token and is refused without asking the database.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# How long a worker trusts what it read about a token. API.md: revoking a
# token or disabling a member takes effect on every worker within 5 s.
CACHE_SECONDS = 2.0
CACHE_SIZE = 10_000

tokens = AccessToken.__table__
members = Member.__table__
# Columns in the order of CurrentMember's fields.
LOOKUP = (
    sa.select(
        members.c.id,
        members.c.name,
        members.c.role,
        members.c.person_id,
        tokens.c.id.label("token_id"),
        tokens.c.expires_at,
    )
    .join(members, members.c.id == tokens.c.member_id)
    .where(
        tokens.c.token_hash == sa.bindparam("token_hash"),
        tokens.c.revoked_at.is_(None),
        members.c.disabled.is_(False),
    )
)


class CurrentMember(NamedTuple):
    """Who makes the request, and with which token."""

    id: int
    name: str
    role: str
    person_id: int | None
    token_id: int
    expires_at: dt.datetime | None


class TokenCache:
    """What this worker last read about each token, trusted for a short while.

    A hit costs a dict lookup instead of a database round trip on every
    request (see ``make bench``); entries live ``CACHE_SECONDS``, so a
    revocation made on another worker is seen within that time.

    A worker's threads share it: a lock around each change keeps the size
    check and the insert together (a read is one dict lookup, atomic).
    """

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.entries: dict[str, tuple[float, CurrentMember | None]] = {}
        self.lock = threading.Lock()

    def get(self, token_hash: str) -> tuple[bool, CurrentMember | None]:
        entry = self.entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token_hash: str, member: CurrentMember | None) -> None:
        with self.lock:
            if len(self.entries) >= CACHE_SIZE:
                self.entries.clear()  # bounded; refilled by the next requests
            self.entries[token_hash] = (time.monotonic() + self.seconds, member)

    def forget(self, token_hash: str) -> None:
        with self.lock:
            self.entries.pop(token_hash, None)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_cache(app: Flask) -> TokenCache:
    cache: TokenCache = app.extensions["access_tokens"]
    return cache


@retry_read
def _lookup(token_hash: str) -> CurrentMember | None:
    """The member a valid token belongs to, from the database."""
    with autocommit() as connection:
        row = connection.execute(LOOKUP, {"token_hash": token_hash}).first()
    return None if row is None else CurrentMember(*row)


def member_for(token: str) -> CurrentMember | None:
    """The member a token belongs to, or None: unknown, revoked, expired, or
    of a disabled member."""
    if not TOKEN.fullmatch(token):
        return None
    token_hash = hash_token(token)
    cache = token_cache(current_app)
    found, member = cache.get(token_hash)
    if not found:
        member = _lookup(token_hash)
        cache.put(token_hash, member)
    if member is None:
        return None
    if member.expires_at is not None and member.expires_at <= utcnow():
        return None
    return member


def unauthorized(detail: str, error: str | None = None) -> Response:
    """401 with the RFC 6750 challenge."""
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return problem(401, detail, headers={"WWW-Authenticate": challenge})


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``; None for anything else."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate() -> Response | None:
    """Before every request: who asks. /api/v1 answers 401 without a valid
    token, except signing in and CORS preflights."""
    path = request.path
    if not path.startswith(API_PREFIX) or request.method == "OPTIONS":
        return None
    if (request.method, path) in OPEN:
        return None
    if "Authorization" not in request.headers:
        return unauthorized("Send Authorization: Bearer <token>.")
    token = bearer_token()
    member = None if token is None else member_for(token)
    if member is None:
        # Never the token itself: it would end up in logs and documents.
        return unauthorized(
            "The token is malformed, unknown, expired or revoked.", "invalid_token"
        )
    g.member = member
    return None


def current_member() -> CurrentMember:
    """The member making the current request (after ``authenticate``)."""
    member: CurrentMember = g.member
    return member


def current_viewer() -> Viewer:
    """The member making the current request, as the visibility rules see
    them (app/visibility.py)."""
    return viewer_of(current_member())


def init_app(app: Flask) -> None:
    """A token cache per app (per worker), and the check before every request."""
    app.extensions["access_tokens"] = TokenCache()
    app.before_request(authenticate)

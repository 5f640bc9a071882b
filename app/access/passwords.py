"""Password hashing with Argon2id (memory-hard), from argon2-cffi."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults: RFC 9106's second recommended profile (64 MiB, 3
# passes), tens of milliseconds per hash on one core.
hasher = PasswordHasher()
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    return hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return hasher.hash("no one's password: it evens out the time of a sign-in")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown login, no password)
    a dummy one is checked, so every answer costs about the same time."""
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False

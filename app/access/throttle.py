"""Failed sign-ins, counted in the database so the limit holds across workers
and hosts: 5 within 15 minutes per login as typed, case-folded, then 429.

Counted per login string, never per member: whatever a failure (and every
attempt after it) answers then depends only on the text sent, not on whether
it names someone. A per-member count would tell: five failures on an email,
then a name answering 429 says both are one member's (with an unknown email,
it answers 401). A member has at most two logins (a name has no "@", an
email has one), so at most 10 guesses per 15 minutes reach their password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.models import SignInFailure, utcnow
from app.models.member import MAX_EMAIL

LIMIT = 5
WINDOW = dt.timedelta(minutes=15)
failures = SignInFailure.__table__


class Throttled(Exception):
    """Too many failed sign-ins: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def login_key(login: str) -> str:
    """What failures count against: the login case-folded, whether or not it
    names a member ("Tee6" and "tee6" alike, though names match exactly)."""
    folded = login.casefold()
    if len(folded) > MAX_EMAIL:
        # Case-folding can lengthen text ("ß" -> "ss"); no member's login is
        # this long, so its digest tells it apart just as well, and fits.
        folded = hashlib.sha256(folded.encode()).hexdigest()
    return f"login:{folded}"


def _lock(connection: Connection, key: str) -> None:
    """Serialize attempts on one key (SQLite: the transaction's writer lock
    already does), so two workers cannot both take the last free attempt."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key)))
        )


def reserve(connection: Connection, key: str) -> int:
    """Count this attempt as a failure before checking the password (so
    concurrent attempts cannot exceed the limit); its row id, to take back if
    the password is right. Throttled when the limit is reached: the caller's
    transaction then rolls the attempt back (a 429 is no failure).

    The insert comes first: on SQLite a transaction that reads before it
    writes can fail at once ("database is locked") while another write is
    under way; one that writes first waits its turn.
    """
    now = utcnow()
    _lock(connection, key)
    attempt = connection.execute(
        sa.insert(failures)
        .values(login_key=key, failed_at=now)
        .returning(failures.c.id)
    ).scalar_one()
    # Old failures count for nothing: keep the table small.
    connection.execute(sa.delete(failures).where(failures.c.failed_at <= now - WINDOW))
    earlier = list(
        connection.scalars(
            sa.select(failures.c.failed_at)
            .where(
                failures.c.login_key == key,
                failures.c.failed_at > now - WINDOW,
                failures.c.id != attempt,
            )
            .order_by(failures.c.failed_at)
        )
    )
    if len(earlier) >= LIMIT:
        # Allowed again once enough of them are older than the window that
        # fewer than LIMIT remain.
        frees_at = earlier[len(earlier) - LIMIT] + WINDOW
        raise Throttled(max(1, math.ceil((frees_at - now).total_seconds())))
    return attempt


def take_back(connection: Connection, failure_id: int) -> None:
    """The password was right: that attempt was not a failure."""
    connection.execute(sa.delete(failures).where(failures.c.id == failure_id))

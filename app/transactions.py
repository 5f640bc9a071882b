"""How every store talks to the database: one connection or transaction per
call, SQLite's writers queued on a lock file, a read retried once on a
connection that died in the pool, and the errors a read or write ends with.

Resources pass their tables in (``check_ids``); nothing here knows a resource.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app.config import AUTOCOMMIT_BIND
from app.extensions import db
from app.sqlite_writers import writer_lock

# The retry warning keeps the logger it has always been logged under: log
# filters and alerts select lines by it.
log = logging.getLogger("app.database")

P = ParamSpec("P")
R = TypeVar("R")


class NotFound(Exception):
    """No row has (one of) the ids asked for, or none the asker may see."""

    def __init__(self, missing_ids: Sequence[int] = ()) -> None:
        super().__init__(missing_ids)
        self.missing_ids = list(missing_ids)


class PreconditionFailed(Exception):
    """The row changed since the client's ``If-Match`` ETag was read."""


class UnknownIds(Exception):
    """Ids in a body that name nothing: field -> (what it names, the ids)."""

    def __init__(self, unknown: dict[str, tuple[str, list[int]]]) -> None:
        super().__init__(unknown)
        self.unknown = unknown


def retry_read(func: Callable[P, R]) -> Callable[P, R]:
    """Run a read again, once, when its connection turned out to be dead
    (the database restarted since it was pooled). Only for reads: a write
    whose connection dropped may have committed, so it is never repeated."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("read retried on a new connection: %s", error.orig)
        return func(*args, **kwargs)

    return wrapper


def read_engine() -> sa.Engine:
    """The engine ``autocommit()`` reads on: PostgreSQL's autocommit bind, or
    SQLite's engine."""
    engines = db.engines
    engine = engines[None]
    if engine.dialect.name == "postgresql":
        return engines[AUTOCOMMIT_BIND]
    return engine


@contextmanager
def autocommit(*, write: bool = False) -> Iterator[Connection]:
    """A connection whose statements each stand alone, atomic by themselves.

    On PostgreSQL they run on a pool of connections kept in autocommit: no
    BEGIN, COMMIT or reset round trips and no per-request isolation switch,
    which more than halves the time of a read. On SQLite a write gets its own
    transaction and a read none (pysqlite's autocommit switch costs more than
    it saves there).
    """
    engines = db.engines  # one lookup of the app's engines, not two
    engine = engines[None]
    if engine.dialect.name == "postgresql":
        with engines[AUTOCOMMIT_BIND].connect() as connection:
            yield connection
    elif write:
        with transaction() as connection:
            yield connection
    else:
        with engine.connect() as connection:
            yield connection


@contextmanager
def transaction() -> Iterator[Connection]:
    """A transaction for writes; on SQLite, behind the workers' writer queue.

    The connection is taken from the pool before the queue and given back
    after it, so the writer lock covers the transaction alone: with 2 sync
    workers under PATCH load the lock was held 0.196 -> 0.143 ms (median), and
    a threaded worker's writers all wait on it.
    """
    engine = db.engine
    with engine.connect() as connection:
        with writer_lock(engine), connection.begin():
            yield connection


def check_ids(
    connection: Connection, wanted: dict[str, tuple[sa.Table, str, set[int]]]
) -> None:
    """Raise ``UnknownIds`` unless every id names a row of its table.

    ``wanted`` maps a body's field to (the table its ids name, what a row of
    it is called in the error, the ids). On PostgreSQL the rows found are
    locked against deletion (FOR KEY SHARE) until the transaction ends, so
    the links about to be written stay valid.
    """
    unknown = {}
    for field, (table, noun, ids) in wanted.items():
        if not ids:
            continue
        found = set(
            connection.scalars(
                sa.select(table.c.id)
                .where(table.c.id.in_(sorted(ids)))
                .with_for_update(read=True, key_share=True)
            )
        )
        if missing := sorted(ids - found):
            unknown[field] = (noun, missing)
    if unknown:
        raise UnknownIds(unknown)

"""Bounded database waits, and a database that is busy, away or not migrated
answered with 503 and Retry-After instead of a 500 or a hang."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app import folding, ids, revisions, sqlite_writers
from app.errors import problem

log = logging.getLogger(__name__)

# Milliseconds; well below gunicorn's 30 s worker timeout.
DEFAULT_STATEMENT_TIMEOUT = 5000
DEFAULT_LOCK_TIMEOUT = 2000
CONNECT_TIMEOUT_SECONDS = 3
# How long a request waits for one of its worker's pooled connections.
POOL_TIMEOUT_SECONDS = 5
# Connections each engine keeps open. gunicorn.conf.py sets DB_POOL_SIZE to a
# worker's threads, so that every thread finds one and no request opens one;
# this is for the flask CLI and in-process use.
DEFAULT_POOL_SIZE = 8
RETRY_AFTER = "5"
# A worker re-reads alembic_version at most this often while it is current.
SCHEMA_CHECK_SECONDS = 1.0

_engines: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _milliseconds(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def pool_options() -> dict[str, Any]:
    """A pool of ``DB_POOL_SIZE`` connections that stay open, and a bounded
    wait for one (past it, 503).

    A request holds at most two connections of one engine at once (an ORM
    session's and a transaction's, as sign-in does), so as many again may be
    opened for a moment beyond the pool: no thread can wait on another's
    second connection. They are closed when given back; in steady state a
    request takes a pooled connection and no request opens one.
    """
    raw = os.environ.get("DB_POOL_SIZE") or str(DEFAULT_POOL_SIZE)
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size < 1:
        raise ValueError(f"DB_POOL_SIZE must be a whole number of at least 1: {raw!r}")
    return {
        "pool_size": size,
        "max_overflow": size,
        "pool_timeout": POOL_TIMEOUT_SECONDS,
    }


def engine_options(url: str) -> dict[str, Any]:
    """Engine settings bounding every wait, by database kind.

    PostgreSQL: each connection runs with ``statement_timeout`` and
    ``lock_timeout`` (a held row or table lock fails fast, not at gunicorn's
    worker timeout). SQLite: the busy timeout, and the writer queue's wait.
    Both: the pool (``pool_options``).
    """
    statement = _milliseconds("DB_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT)
    lock = _milliseconds("DB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
    if url.startswith("sqlite"):
        # One writer at a time: a writer waits for the lock up to the
        # statement timeout, in the queue (flock) and then in SQLite.
        sqlite_writers.WAIT_SECONDS = statement / 1000
        options: dict[str, Any] = {"connect_args": {"timeout": statement / 1000}}
        if _sqlite_file(url):  # an in-memory database has one connection a thread
            options.update(pool_options())
        return options
    # No pre-ping by default: it costs a round trip per request (README,
    # "Database restarts", measured); a dropped connection is caught instead
    # (app.transactions.retry_read, _drop_stale_pools). DB_PRE_PING=1 turns it on.
    return {
        **pool_options(),
        "pool_pre_ping": os.environ.get("DB_PRE_PING") == "1",
        "pool_recycle": 300,
        "connect_args": {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={statement} -c lock_timeout={lock}",
        },
    }


def _sqlite_file(url: str) -> bool:
    database = sa.make_url(url)
    name = database.database
    return bool(name) and name != ":memory:" and database.query.get("mode") != "memory"


def fill_pools(app: Flask) -> None:
    """Open every engine's pooled connections now, before the first request
    (gunicorn.conf.py, as each worker starts): no request waits for a new
    connection, and none is opened later while the database stays up.

    A database that does not answer stops this at the first failure (one
    connect timeout); requests then connect as they come, or answer 503.
    """
    from app.extensions import db  # app.extensions imports app.errors first

    if "sqlalchemy" not in app.extensions:
        return  # an app without the database, such as make bench's ceiling
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if not isinstance(engine.pool, sa.pool.QueuePool):
            continue  # in-memory SQLite: one connection a thread, made on use
        held: list[sa.Connection] = []
        try:
            for _ in range(engine.pool.size()):
                held.append(engine.connect())
        except sa.exc.SQLAlchemyError as error:
            log.warning("database connections not opened in advance: %s", error)
            return
        finally:
            for connection in held:
                connection.close()


@sa.event.listens_for(sa.pool.Pool, "connect")
def _log_new_connection(_dbapi_connection: Any, _record: Any) -> None:
    """LOG_LEVEL=DEBUG shows each new connection (with the request that
    opened it, if one did): in steady state, none."""
    log.debug("database connection opened")


@sa.event.listens_for(sa.pool.Pool, "connect")
def _register_search_function(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: ``gift_name_contains(name, folded term)``, the search rule
    (app/folding.py) for the searches its trigram index cannot serve
    (app/gifts/search.py)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(
            "gift_name_contains", 2, folding.contains, deterministic=True
        )


@sa.event.listens_for(sa.Engine, "engine_connect")
def _remember(connection: sa.Connection) -> None:
    _engines.add(connection.engine)


@sa.event.listens_for(sa.Engine, "handle_error")
def _drop_stale_pools(context: sa.engine.ExceptionContext) -> None:
    """After a lost connection, no engine of that database reuses an old one.

    SQLAlchemy renews only the pool of the engine that saw the loss; each
    worker's other engine (PostgreSQL's autocommit bind) would fail a request
    per stale connection. ``dispose()`` closes the idle ones and starts a
    fresh pool; connections in use are closed when they are given back.
    """
    if not context.is_disconnect or context.engine is None:
        return
    url = context.engine.url
    for engine in list(_engines):
        if engine is not context.engine and engine.url == url:
            engine.dispose()


@contextmanager
def household_engine() -> Iterator[sa.Engine]:
    """The engine for commands that read or write a whole household at once
    (export, import, seed): the time they rightly take grows with it, so the
    requests' statement timeout must not bound them.

    PostgreSQL: an engine of its own, without a pool, whose sessions start
    with no statement timeout, set when they connect, as the requests' bound
    is; the lock timeout stays. Lifting the bound inside the transaction
    (``SET LOCAL``) was not enough: the ``BEGIN`` and the ``SET`` ran under
    the bound first, and a busy machine overran a bound of 1 ms with them.
    The app's pooled connections are never touched. SQLite has no statement
    timeout: the app's own engine.
    """
    from app.extensions import db  # app.extensions imports app.errors first

    engine = db.engine
    if engine.dialect.name != "postgresql":
        yield engine
        return
    lock = _milliseconds("DB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
    unbounded = sa.create_engine(
        engine.url,
        poolclass=sa.pool.NullPool,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout=0 -c lock_timeout={lock}",
        },
    )
    try:
        yield unbounded
    finally:
        unbounded.dispose()


class SchemaGate:
    """Whether this code serves the database's revision (app/revisions.py),
    read from alembic_version at most once a second while it does."""

    def __init__(self, migrations_directory: str) -> None:
        self.migrations_directory = migrations_directory
        self.served_until = 0.0
        self.lock = threading.Lock()

    def problem(self, engine: sa.Engine) -> str | None:
        """None when served, else why not (a detail for the 503)."""
        if time.monotonic() < self.served_until:
            return None
        with engine.connect() as connection:
            found = revisions.database_revisions(connection)
        detail = revisions.unserved(found, self.migrations_directory)
        if detail is None:
            with self.lock:
                self.served_until = time.monotonic() + SCHEMA_CHECK_SECONDS
        return detail


def unavailable(detail: str) -> Response:
    return problem(503, detail, headers={"Retry-After": RETRY_AFTER})


def _schema_problem() -> str | None:
    """Why this code cannot serve the database's revision, read now (None if
    it can)."""
    gate: SchemaGate = current_app.extensions["schema_gate"]
    gate.served_until = 0.0
    try:
        return gate.problem(_engine())
    except sa.exc.SQLAlchemyError:
        return None  # unreachable: the caller's own error says so


def _database_error(error: Exception) -> Response:
    log.error("database unavailable (request %s): %s", g.get("request_id"), error)
    if isinstance(error, sqlite_writers.WriterQueueTimeout | sa.exc.TimeoutError):
        return unavailable("The database is busy; try again shortly.")
    orig = getattr(error, "orig", None)
    if type(orig).__name__ in ("QueryCanceled", "LockNotAvailable"):
        return unavailable("The database did not answer in time; try again shortly.")
    if isinstance(error, DBAPIError) and not error.connection_invalidated:
        # SQLite reports a missing column as an OperationalError.
        detail = _schema_problem()
        if detail is not None:
            return unavailable(detail)
    return unavailable("The database is unavailable.")


def _programming_error(error: Exception) -> Response:
    """A statement the database cannot run: at a revision this code does not
    serve, 503 like /readyz; at one it serves, a bug (500)."""
    detail = _schema_problem()
    if detail is None:
        log.exception("unhandled error (request %s)", g.get("request_id"))
        return problem(500)
    return unavailable(detail)


def _engine() -> sa.Engine:
    from app.extensions import db  # app.extensions imports app.errors first

    return db.engine


def _require_served_schema() -> Response | None:
    if request.routing_exception is not None or not request.path.startswith("/api/"):
        return None  # 404, 405, probes and the docs answer whatever the schema
    gate: SchemaGate = current_app.extensions["schema_gate"]
    if time.monotonic() < gate.served_until:
        return None  # checked within the second: no engine looked up
    try:
        detail = gate.problem(_engine())
    except sa.exc.SQLAlchemyError as error:
        return _database_error(error)
    return None if detail is None else unavailable(detail)


def init_app(app: Flask) -> None:
    """Answer database trouble with 503 and refuse API requests while this
    code does not serve the database's revision."""
    app.extensions["schema_gate"] = SchemaGate(app.config["MIGRATIONS_DIRECTORY"])
    app.before_request(_require_served_schema)
    for error in (
        OperationalError,
        InterfaceError,
        sa.exc.TimeoutError,
        sqlite_writers.WriterQueueTimeout,
    ):
        app.register_error_handler(error, _database_error)
    app.register_error_handler(sa.exc.ProgrammingError, _programming_error)
    app.register_error_handler(
        ids.IdsExhausted,
        lambda _: unavailable("No free id was found for the new record; try again."),
    )


def bind_options(url: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """A bind's settings: the same bounded waits as the default engine."""
    return {"url": url, **engine_options(url), **extra}

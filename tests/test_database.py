"""Every database wait is bounded and answered with 503 + Retry-After; a schema
older than the code serves answers 503 (which it serves: tests/test_revisions.py);
ETags outlive migration round trips; a read whose pooled connection died is
retried once, a write never."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from app.config import MIGRATIONS_DIRECTORY, database_url
from app.extensions import db
from app.revisions import OLDEST_SERVED_REVISION, head_revisions
from tests.conftest import (
    client_with_token,
    dispose,
    first_connect,
    make_app,
    make_member,
)

GIFTS = "/api/v1/gifts"
PROBLEM_JSON = "application/problem+json"
# Short timeouts so the tests wait little; the defaults are 5000 and 2000.
STATEMENT_MS = 1500
LOCK_MS = 500


@pytest.fixture
def quick_app(
    database_url_for_tests: str, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The suite's database (emptied by ``app``) with short timeouts."""
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", str(STATEMENT_MS))
    monkeypatch.setenv("DB_LOCK_TIMEOUT", str(LOCK_MS))
    quick = make_app(database_url_for_tests)
    yield quick
    dispose(quick)


@pytest.fixture
def quick_client(quick_app: Flask) -> FlaskClient:
    return signed_in(quick_app)


def signed_in(app: Flask, name: str = "Mum") -> FlaskClient:
    """A parent's client (after a migration round trip, a new parent: the
    members went with the downgrade)."""
    return client_with_token(app, make_member(app, name, "parent")[1])


def busy(response: Any, within: float, started: float) -> None:
    """A 503 problem document with Retry-After, answered within ``within`` s."""
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_json()
    assert response.content_type == PROBLEM_JSON
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < within, elapsed


def test_a_held_lock_is_a_503_within_the_lock_timeout(
    quick_client: FlaskClient, database_url_for_tests: str
) -> None:
    gift = quick_client.post(GIFTS, json={"name": "Kite"}).get_json()
    url = f"{GIFTS}/{gift['id']}"
    holder = sa.create_engine(database_url(database_url_for_tests))
    with holder.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("LOCK TABLE gifts IN ACCESS EXCLUSIVE MODE")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's write lock
            connection.exec_driver_sql("UPDATE gifts SET notes = 'held'")
        started = time.monotonic()
        patched = quick_client.patch(url, json={"notes": "mine"})
        busy(patched, STATEMENT_MS / 1000 + 2, started)
        if connection.dialect.name == "postgresql":
            started = time.monotonic()
            busy(quick_client.get(url), LOCK_MS / 1000 + 2, started)
        connection.rollback()
    holder.dispose()
    after = quick_client.get(url)
    assert after.status_code == 200
    assert after.get_json()["notes"] is None


def test_a_long_statement_is_a_503_within_the_statement_timeout(
    quick_app: Flask, quick_client: FlaskClient
) -> None:
    with quick_app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite statements run in process; no server to wait for")
    started = time.monotonic()

    @quick_app.get("/slow-for-test")
    def slow() -> Any:
        from app.transactions import autocommit

        with autocommit() as connection:
            connection.exec_driver_sql("SELECT pg_sleep(30)")
        return {}

    busy(quick_client.get("/slow-for-test"), STATEMENT_MS / 1000 + 2, started)


def writer_lock_path(app: Flask) -> str:
    """The lock file of the SQLite writer queue; skips on PostgreSQL."""
    with app.app_context():
        path = db.engine.url.database
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the writer queue is SQLite's")
    return f"{path}-writer.lock"


def test_a_writer_queue_held_elsewhere_is_a_503(
    quick_app: Flask, quick_client: FlaskClient
) -> None:
    lock_path = writer_lock_path(quick_app)
    gift = quick_client.post(GIFTS, json={"name": "Kite"}).get_json()
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)  # as another worker would
    try:
        started = time.monotonic()
        patched = quick_client.patch(f"{GIFTS}/{gift['id']}", json={"notes": "x"})
        busy(patched, STATEMENT_MS / 1000 + 2, started)
        assert quick_client.get(GIFTS).status_code == 200  # readers go on
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)
    patched = quick_client.patch(f"{GIFTS}/{gift['id']}", json={"notes": "y"})
    assert patched.get_json()["notes"] == "y"


def test_writers_queue_behind_a_short_holder_and_then_proceed(
    quick_app: Flask, quick_client: FlaskClient
) -> None:
    """A lock held for less than the wait delays the writer; it is not refused."""
    lock_path = writer_lock_path(quick_app)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    release = threading.Timer(0.3, fcntl.flock, (descriptor, fcntl.LOCK_UN))
    release.start()
    try:
        created = quick_client.post(GIFTS, json={"name": "Kite"})
    finally:
        release.join()
        os.close(descriptor)
    assert created.status_code == 201


def test_an_api_request_on_a_database_behind_the_code_is_a_503(
    empty_database_url: str,
) -> None:
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
    client = signed_in(app)
    gift = client.post(GIFTS, json={"name": "Kite"}).get_json()
    with app.app_context():
        downgrade(revision="0001")
    time.sleep(1.1)  # a worker re-reads the revision once a second

    for response in (client.get(f"{GIFTS}/{gift['id']}"), client.get(GIFTS)):
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert (
            f"needs {OLDEST_SERVED_REVISION} or newer" in response.get_json()["detail"]
        )
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        upgrade()
    client = signed_in(app)
    assert client.get(f"{GIFTS}/{gift['id']}").status_code == 200
    dispose(app)


def test_a_schema_change_between_checks_is_a_503_not_a_500(
    empty_database_url: str,
) -> None:
    """Within the second the revision is trusted, a missing column answers 503."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
    client = signed_in(app)
    gift = client.post(GIFTS, json={"name": "Kite"}).get_json()  # checked now
    with app.app_context():
        downgrade(revision="0001")

    response = client.get(f"{GIFTS}/{gift['id']}")

    assert response.status_code == 503
    assert f"needs {OLDEST_SERVED_REVISION} or newer" in response.get_json()["detail"]
    dispose(app)


def test_an_etag_read_before_a_migration_round_trip_is_refused(
    empty_database_url: str,
) -> None:
    """downgrade 0002 + upgrade starts every version at 1 again: the old tag
    must not match the newer state."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
    client = signed_in(app)
    created = client.post(GIFTS, json={"name": "Kite", "notes": "first"})
    url, old_tag = created.headers["Location"], created.headers["ETag"]
    for notes in ("second", "third"):
        assert client.patch(url, json={"notes": notes}).status_code == 200
    with app.app_context():
        downgrade(revision="0001")
        upgrade()
    app.extensions["schema_gate"].served_until = 0.0  # as a second later
    client = signed_in(app)

    refused = client.patch(url, json={"notes": "stale"}, headers={"If-Match": old_tag})
    deleted = client.delete(url, headers={"If-Match": old_tag})
    not_modified = client.get(url, headers={"If-None-Match": old_tag})

    assert (refused.status_code, deleted.status_code) == (412, 412)
    assert not_modified.status_code == 200
    assert not_modified.get_json()["notes"] == "third"
    current = not_modified.headers["ETag"]
    assert (
        client.patch(
            url, json={"notes": "4"}, headers={"If-Match": current}
        ).status_code
        == 200
    )
    dispose(app)


@pytest.fixture
def postgres_app(app: Flask) -> Flask:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    return app


def _kill_pooled_connections(app: Flask) -> None:
    """End every server session of this database but ours, as a restart does."""
    with app.app_context():
        killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        with killer.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        killer.dispose()


def test_a_read_on_a_dead_pooled_connection_is_retried_once(
    postgres_app: Flask, client: FlaskClient
) -> None:
    gift = client.post(GIFTS, json={"name": "Kite"}).get_json()
    assert client.get(f"{GIFTS}/{gift['id']}").status_code == 200  # pooled
    _kill_pooled_connections(postgres_app)

    read = client.get(f"{GIFTS}/{gift['id']}")

    assert read.status_code == 200
    assert read.get_json()["name"] == "Kite"


def test_a_write_on_a_dead_pooled_connection_is_not_repeated(
    postgres_app: Flask, client: FlaskClient
) -> None:
    gift = client.post(GIFTS, json={"name": "Kite"}).get_json()
    _kill_pooled_connections(postgres_app)

    first = client.post(GIFTS, json={"name": "Sledge"})
    second = client.post(GIFTS, json={"name": "Ball"})

    assert first.status_code == 503
    assert first.headers["Retry-After"]
    assert second.status_code == 201  # every stale connection was dropped
    names = [item["name"] for item in client.get(GIFTS).get_json()["items"]]
    assert sorted(names) == ["Ball", "Kite"]
    assert client.get(f"{GIFTS}/{gift['id']}").status_code == 200


def test_sqlite_busy_timeout_follows_the_statement_timeout(
    quick_app: Flask,
) -> None:
    with quick_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite setting")
        with db.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert timeout == STATEMENT_MS


def test_migrations_are_not_bound_by_the_request_statement_timeout(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement timeout meant for requests must not fail a long migration."""
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "1")  # 1 ms: any real statement
    app = make_app(empty_database_url)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's statement_timeout")
        first_connect(app)
        upgrade()
    dispose(app)
    plain = sa.create_engine(database_url(empty_database_url))  # no timeout
    with plain.connect() as connection:
        version = connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version"
        ).scalar()
    plain.dispose()
    assert {version} == head_revisions(MIGRATIONS_DIRECTORY)

"""Fixtures: a database migrated once per run, a fresh app and empty table per test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is
set. The schema always comes from running the migrations, never ``create_all``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, Response
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.access import accounts
from app.config import database_url
from app.extensions import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


# "Today", for every test: no test depends on the day it runs (a test that
# needs another day sets app.config["CLOCK"] itself).
FIXED_NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def make_app(url: str) -> Flask:
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "CLOCK": lambda: FIXED_NOW}
    )


def dispose(app: Flask) -> None:
    """Close every pooled connection (the autocommit bind's too)."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def reset_database(url: str) -> None:
    """Leave the database empty: no tables, no enum types, no alembic_version."""
    engine = sa.create_engine(database_url(url))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        else:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            metadata.drop_all(connection)
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def own_sign_in_slots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This run's own password-check slots (app/access/gate.py), for its apps
    and the gunicorns it starts: a test holding them, or another run of the
    suite on this machine, cannot make the other's sign-ins answer 503."""
    folder = tmp_path_factory.mktemp("sign-in-slots")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIGN_IN_SLOTS_DIR", str(folder))
        yield


@pytest.fixture(scope="session")
def database_url_for_tests(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The suite's database, migrated to the newest revision once."""
    if POSTGRES_URL:
        url = POSTGRES_URL
        reset_database(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gifts.db'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


# Emptied before each test (access_tokens goes with members: ON DELETE CASCADE).
# Children before parents (SQLite deletes them in this order).
TABLES = (
    "budgets",
    "gift_recipients",
    "gift_lists",
    "gifts",
    "occasions",
    "lists",
    "sign_in_failures",
    "access_tokens",
    "members",
    "people",
)


@pytest.fixture
def app(database_url_for_tests: str) -> Iterator[Flask]:
    app = make_app(database_url_for_tests)
    with app.app_context():
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                tables = ", ".join(TABLES)
                connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY")
            else:
                for table in TABLES:
                    connection.exec_driver_sql(f"DELETE FROM {table}")
                connection.exec_driver_sql("DELETE FROM sqlite_sequence")
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def first_connect(app: Flask) -> None:
    """Let the driver's first connection, which looks up its types, succeed
    under a tiny test statement timeout: each new PostgreSQL session reads the
    catalog cold, which can take longer than 1 ms.

    That one connection starts without the bound and is then thrown away, so
    every connection the app goes on to use is bounded.
    """
    with app.app_context():
        engine = db.engine

        def unbounded(_dialect: Any, _record: Any, _args: Any, params: Any) -> None:
            params["options"] = re.sub(
                r"statement_timeout=\d+", "statement_timeout=0", params["options"]
            )

        sa.event.listen(engine, "do_connect", unbounded)
        try:
            with engine.connect() as connection:
                connection.invalidate()
        finally:
            sa.event.remove(engine, "do_connect", unbounded)


class ClientResponse(Response):
    """A response read with the standard json module, as any client would
    (Flask's test client would use the app's own JSON provider)."""

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        return json.loads(self.get_data()) if force or self.is_json else None


def make_member(app: Flask, name: str, role: str, **fields: Any) -> tuple[int, str]:
    """A member made with the service's own code, and a new token of theirs."""
    with app.app_context():
        member = accounts.add_member(name, role, **fields)
        _, token = accounts.create_token(member, label="tests")
        return member.id, token


def member_id(app: Flask, name: str) -> int:
    """The id of the member of this name, read from the database."""
    with app.app_context():
        return accounts.find_member(name).id


def creation_key(gift_id: int, created_at: str | dt.datetime) -> int:
    """SQLite's search index's rowid for a gift (migration 0015), from the
    gift itself: its creation second (UTC) shifted past the 31 bits of its
    id, both counted down from their largest."""
    if isinstance(created_at, str):
        created_at = dt.datetime.fromisoformat(created_at)
    second = int(created_at.replace(tzinfo=dt.UTC).timestamp())
    return (2**32 - 1 - second) << 31 | (2**31 - 1 - gift_id)


def newest_first_key(gift: dict[str, Any]) -> tuple[dt.datetime, int]:
    """The key of `sort=recent`, ascending: sort with reverse=True."""
    return dt.datetime.fromisoformat(gift["created_at"]), gift["id"]


def newest_first(gifts: Any) -> list[dict[str, Any]]:
    """Gifts in the order of `sort=recent`: newest first, then by id."""
    return sorted(gifts, key=newest_first_key, reverse=True)


def client_with_token(app: Flask, token: str | None) -> FlaskClient:
    client = FlaskClient(app, ClientResponse)
    if token is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def parent_token(app: Flask) -> str:
    return make_member(app, "Mum", "parent")[1]


@pytest.fixture
def child_token(app: Flask) -> str:
    return make_member(app, "Kid", "child")[1]


@pytest.fixture
def client(app: Flask, parent_token: str) -> FlaskClient:
    """A client signed in as a parent (who may do everything)."""
    return client_with_token(app, parent_token)


@pytest.fixture
def child_client(app: Flask, child_token: str) -> FlaskClient:
    """A client signed in as a child (Santa's gifts do not exist for it)."""
    return client_with_token(app, child_token)


@pytest.fixture
def anonymous_client(app: Flask) -> FlaskClient:
    """A client that sends no Authorization header."""
    return client_with_token(app, None)


@pytest.fixture
def make_gift(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Create a gift through the API and return its body."""

    def make(**fields: Any) -> dict[str, Any]:
        fields.setdefault("name", f"Gift {uuid.uuid4().hex[:8]}")
        response = client.post("/api/v1/gifts", json=fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def empty_database_url(tmp_path: Any) -> Iterator[str]:
    """A database of its own, with nothing in it (for migration tests)."""
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"gifts_migrations_{uuid.uuid4().hex[:8]}"
    base = sa.make_url(database_url(POSTGRES_URL))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

"""Each worker's database pools: one connection per thread, opened as the
worker starts, so no request opens one; waiting for one is bounded (503)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app import database
from app.config import database_url
from app.extensions import db
from tests.conftest import (
    POSTGRES_URL,
    client_with_token,
    dispose,
    make_app,
    make_member,
)
from tests.serving import Service, gunicorn

GIFTS = "/api/v1/gifts"
POOL = 4
OPENED = "database connection opened"  # app.database's DEBUG line


@pytest.fixture
def pooled_app(
    database_url_for_tests: str, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The suite's database (emptied by ``app``), pools of ``POOL``."""
    monkeypatch.setenv("DB_POOL_SIZE", str(POOL))
    pooled = make_app(database_url_for_tests)
    yield pooled
    dispose(pooled)


def engines(app: Flask) -> list[sa.Engine]:
    with app.app_context():
        return list(db.engines.values())


def test_filled_pools_serve_concurrent_requests_without_a_new_connection(
    pooled_app: Flask,
) -> None:
    client = client_with_token(pooled_app, make_member(pooled_app, "Mum", "parent")[1])
    ids = [
        client.post(GIFTS, json={"name": f"Kite {i}"}).get_json()["id"]
        for i in range(8)
    ]
    database.fill_pools(pooled_app)
    for engine in engines(pooled_app):
        assert engine.pool.checkedin() == POOL  # type: ignore[attr-defined]
    opened: list[object] = []
    for engine in engines(pooled_app):
        sa.event.listen(engine, "connect", lambda *_: opened.append(1))

    def call(i: int) -> int:
        gift = f"{GIFTS}/{ids[i % len(ids)]}"
        if i % 4 == 0:
            return client.get(gift).status_code
        if i % 4 == 1:
            return client.get(f"{GIFTS}?limit=50").status_code
        if i % 4 == 2:
            return client.patch(gift, json={"from_santa": i % 8 == 2}).status_code
        return client.post(GIFTS, json={"name": f"Ball {i}"}).status_code

    with ThreadPoolExecutor(POOL) as pool:  # one request a thread, as in a worker
        statuses = list(pool.map(call, range(120)))
    assert set(statuses) <= {200, 201}
    assert opened == []


def test_a_worker_whose_database_is_away_still_starts_and_answers_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    away = make_app(f"sqlite:///{tmp_path / 'no such directory' / 'gifts.db'}")
    database.fill_pools(away)  # no exception: the worker goes on
    assert "database connections not opened in advance" in caplog.text
    response = away.test_client().get(GIFTS)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_an_app_without_the_database_starts_under_the_same_config() -> None:
    # make bench serves its ceiling (a plain Flask app) with gunicorn.conf.py,
    # whose post_worker_init fills the pools: there are none to fill.
    plain = Flask("ceiling")
    database.fill_pools(plain)
    assert "sqlalchemy" not in plain.extensions


def test_waiting_for_a_pooled_connection_is_a_bounded_503(
    database_url_for_tests: str, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setattr(database, "POOL_TIMEOUT_SECONDS", 0.2)
    small = make_app(database_url_for_tests)
    client = client_with_token(small, make_member(small, "Mum", "parent")[1])
    gift = client.post(GIFTS, json={"name": "Kite"}).get_json()
    # Each engine's pool and its overflow (one more), all taken.
    held = [engine.connect() for engine in engines(small) for _ in range(2)]
    started = time.monotonic()
    try:
        patched = client.patch(f"{GIFTS}/{gift['id']}", json={"notes": "mine"})
        waited = time.monotonic() - started
    finally:
        for connection in held:
            connection.close()
    assert patched.status_code == 503
    assert patched.get_json()["detail"] == "The database is busy; try again shortly."
    assert int(patched.headers["Retry-After"]) > 0
    assert waited < 3, waited  # the pool's timeout, not a hang (SQLAlchemy: 30 s)
    after = client.get(f"{GIFTS}/{gift['id']}")
    assert after.status_code == 200 and after.get_json()["notes"] is None
    dispose(small)


@pytest.mark.parametrize("size", ["0", "-2", "eight", "1.5"])
def test_a_pool_size_that_is_not_a_positive_number_is_refused(
    size: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", size)
    with pytest.raises(ValueError, match="DB_POOL_SIZE"):
        make_app("sqlite:///unused.db")


# The service as gunicorn.conf.py runs it ---------------------------------------

WORKERS = 2
THREADS = 6  # not the default 8: the pools follow the worker's threads
CLIENTS = 16


def connections_opened(service: Service) -> int:
    """app.database's DEBUG lines in the service's log: one per new
    connection, from any worker, with or without a request."""
    count = 0
    for line in service.log().splitlines():
        if line.startswith("{") and json.loads(line).get("message") == OPENED:
            count += 1
    return count


def backends(admin: sa.Engine, name: str) -> set[int]:
    with admin.connect() as connection:
        return set(
            connection.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :name"
                    " AND backend_type = 'client backend'"
                ),
                {"name": name},
            )
        )


@pytest.mark.slow
def test_a_burst_from_16_clients_opens_no_connection(
    empty_database_url: str, tmp_path: Path
) -> None:
    postgres = POSTGRES_URL is not None
    # PostgreSQL: the main engine and the autocommit one.
    expected = WORKERS * THREADS * (2 if postgres else 1)
    admin = None  # PostgreSQL: the server's list of connections, read elsewhere
    if POSTGRES_URL:
        admin = sa.create_engine(database_url(POSTGRES_URL), poolclass=sa.pool.NullPool)
    name = sa.make_url(empty_database_url).database
    with gunicorn(
        empty_database_url,
        tmp_path / "gunicorn.log",
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_THREADS=str(THREADS),
        DB_POOL_SIZE="",  # the hook's choice: the worker's threads
        LOG_LEVEL="DEBUG",
    ) as served:
        deadline = time.monotonic() + 20  # both workers filled their pools
        while connections_opened(served) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert connections_opened(served) == expected, served.log()[-3000:]
        held = backends(admin, name) if admin is not None else set()
        assert len(held) == (expected if postgres else 0)

        ids = [
            served.request("POST", GIFTS, {"name": f"Kite {i}"}).body["id"]
            for i in range(16)
        ]

        def call(i: int) -> Any:
            gift = f"{GIFTS}/{ids[i % len(ids)]}"
            calls = [
                ("GET", gift, None),
                ("GET", f"{GIFTS}?limit=50", None),
                ("PATCH", gift, {"from_santa": i % 8 == 2}),
                ("POST", GIFTS, {"name": f"Ball {i}"}),
            ]
            return served.request(*calls[i % 4]).status

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(call, range(800)))
        assert set(statuses) <= {200, 201}
        assert connections_opened(served) == expected, served.log()[-3000:]
        if admin is not None:  # the server's view: the same connections, open
            assert backends(admin, name) == held
    if admin is not None:
        admin.dispose()

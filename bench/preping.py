"""What a pool pre-ping costs a request on PostgreSQL, in process.

Serves GET one gift through Flask's test client (no HTTP, so the difference
is the pre-ping's round trip and work), alternating rounds with and without
DB_PRE_PING=1 to share out background load. Prints microseconds per request.
Usage: .venv/bin/python bench/preping.py [postgresql://.../maintenance_db]
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import uuid

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.access import accounts
from app.config import database_url
from app.extensions import db

ROUNDS, REQUESTS = int(os.environ.get("ROUNDS", 7)), 1000


def timed_round(url: str, pre_ping: bool, token: str) -> float:
    os.environ["DB_PRE_PING"] = "1" if pre_ping else "0"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.get("/api/v1/gifts/1")  # warm: pool, caches
    started = time.perf_counter()
    for _ in range(REQUESTS):
        assert client.get("/api/v1/gifts/1").status_code == 200
    elapsed = time.perf_counter() - started
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return elapsed / REQUESTS * 1e6


def main() -> None:
    logging.disable(logging.INFO)
    admin_url = (
        sys.argv[1]
        if len(sys.argv) > 1
        else "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    name = f"gifts_preping_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = (
        sa.make_url(database_url(admin_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            member = accounts.add_member("bench", "parent")
            _, token = accounts.create_token(member, label="preping")
            db.engine.dispose()
        headers = {"Authorization": f"Bearer {token}"}
        app.test_client().post("/api/v1/gifts", json={"name": "Kite"}, headers=headers)
        without, with_ = [], []
        for _ in range(ROUNDS):
            without.append(timed_round(url, False, token))
            with_.append(timed_round(url, True, token))
        a, b = statistics.median(without), statistics.median(with_)
        print(
            f"GET one gift, median of {ROUNDS} rounds of {REQUESTS}: "
            f"{a:.0f} µs without pre-ping, {b:.0f} µs with "
            f"(+{b - a:.0f} µs, +{(b - a) / a:.0%})"
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()

"""tests/stall.py sees writes stop behind a lock, and a migration's stall."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app.config import database_url
from app.extensions import db
from tests.conftest import make_app
from tests.stall import flask_db_upgrade, longest_write_stall

pytestmark = pytest.mark.slow

HOLD_S = 1.0
# migrations/env.py: a migration waits at most this long for a lock.
LOCK_TIMEOUT_S = 5.0


def _database_at(url: str, revision: str, gifts: int = 200) -> None:
    app = make_app(url)
    with app.app_context():
        upgrade(revision=revision)
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO gifts (name, quantity, priority, status, "
                    "created_at, updated_at) VALUES (:name, 1, 'medium', 'idea', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [{"name": f"Gift {n}"} for n in range(gifts)],
            )
        db.engine.dispose()


def _hold_write_lock(url: str, seconds: float) -> Callable[[], None]:
    """Block every writer of gifts for ``seconds``, as a table rewrite would."""

    def hold() -> None:
        if url.startswith("sqlite"):
            connection = sqlite3.connect(url.removeprefix("sqlite:///"))
            connection.isolation_level = None
            connection.execute("BEGIN IMMEDIATE")
            time.sleep(seconds)
            connection.execute("COMMIT")
            connection.close()
            return
        engine = sa.create_engine(database_url(url))
        with engine.begin() as connection:
            connection.exec_driver_sql("LOCK TABLE gifts IN SHARE MODE")
            time.sleep(seconds)
        engine.dispose()

    return hold


def test_a_lock_stalls_writes_for_as_long_as_it_is_held(
    empty_database_url: str,
) -> None:
    _database_at(empty_database_url, "head")

    locked = longest_write_stall(
        empty_database_url, _hold_write_lock(empty_database_url, HOLD_S)
    )
    quiet = longest_write_stall(empty_database_url, lambda: time.sleep(HOLD_S))

    assert locked.failures == [] and quiet.failures == []
    assert locked.longest_s >= 0.9 * HOLD_S, locked
    assert quiet.writes > 0, quiet
    assert quiet.longest_s < locked.longest_s, (quiet, locked)


def test_upgrade_from_0003_stalls_writes_less_than_the_lock_timeout(
    empty_database_url: str,
) -> None:
    """Every migration after 0003 keeps writes going (migrations/README)."""
    _database_at(empty_database_url, "0003")

    report = longest_write_stall(
        empty_database_url, flask_db_upgrade(empty_database_url, "head")
    )

    assert report.failures == [], report
    assert report.longest_s < LOCK_TIMEOUT_S, report

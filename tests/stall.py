"""How long writes stop while something else runs (a migration, a lock).

``longest_write_stall(url, action)`` runs ``action`` while a bounded loop of
writers changes gifts on the same database, each write its own transaction,
and reports the longest time no write completed. For a migration, pass
``flask_db_upgrade(url, revision)``: the command a deploy runs.

    report = longest_write_stall(url, flask_db_upgrade(url, "head"))
    assert report.failures == [] and report.longest_s < 1.0, report

The gifts table must hold at least one gift (the writers change existing ones).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.config import database_url

ROOT = Path(__file__).resolve().parent.parent
WRITE_TIMEOUT_S = 30  # one write never waits longer (statement/busy timeout)
UPGRADE_TIMEOUT_S = 600


@dataclass
class StallReport:
    """What the writers saw while the action ran."""

    longest_s: float  # the longest time without a completed write
    writes: int  # writes completed while the action ran
    action_s: float  # how long the action took
    failures: list[str] = field(default_factory=list)  # writes that failed


def flask_db_upgrade(url: str, revision: str = "head") -> Callable[[], None]:
    """`flask db upgrade REVISION` on ``url`` in a process of its own."""

    def upgrade() -> None:
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade", revision],
            cwd=ROOT,
            env=dict(os.environ, DATABASE_URL=url, FLASK_APP="wsgi.py"),
            check=True,
            capture_output=True,
            timeout=UPGRADE_TIMEOUT_S,
        )

    return upgrade


def _engine(url: str) -> sa.Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": WRITE_TIMEOUT_S})
    return sa.create_engine(
        url,
        connect_args={"options": f"-c statement_timeout={WRITE_TIMEOUT_S * 1000}"},
    )


def longest_write_stall(
    url: str,
    action: Callable[[], None],
    *,
    writers: int = 2,
    max_writes: int = 100_000,
) -> StallReport:
    """Run ``action`` under a write loop of ``writers`` threads; the loop stops
    when the action ends or after ``max_writes`` writes, whichever is first."""
    engine = _engine(url)
    with engine.connect() as connection:
        highest = connection.scalar(sa.text("SELECT max(id) FROM gifts"))
    assert highest, "longest_write_stall needs at least one gift"
    done = threading.Event()
    lock = threading.Lock()
    completions: list[float] = []
    failures: list[str] = []
    change = sa.text("UPDATE gifts SET quantity = 1 + quantity % 9 WHERE id = :id")

    def write_loop(offset: int) -> None:
        n = offset
        while not done.is_set() and len(completions) < max_writes:
            n += writers
            try:
                with engine.begin() as connection:
                    connection.execute(change, {"id": 1 + n % highest})
            except sa.exc.DBAPIError as error:
                with lock:
                    failures.append(str(error.orig).strip())
                continue
            with lock:
                completions.append(time.monotonic())

    threads = [
        threading.Thread(target=write_loop, args=(i,), daemon=True)
        for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    while not completions and not failures:  # the loop is writing
        time.sleep(0.01)
    started = time.monotonic()
    try:
        action()
    finally:
        ended = time.monotonic()
        done.set()
        for thread in threads:
            thread.join(WRITE_TIMEOUT_S + 5)
        engine.dispose()
    during = [started] + [t for t in completions if started <= t <= ended] + [ended]
    # A write that completes just after the action still ends the last gap.
    after = [t for t in completions if t > ended]
    if after:
        during[-1] = min(after)
    gaps = [b - a for a, b in zip(during, during[1:], strict=False)]
    return StallReport(
        longest_s=max(gaps),
        writes=len(during) - 2,
        action_s=ended - started,
        failures=failures,
    )

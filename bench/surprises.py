"""What the surprise rules cost: a page of 50 for a linked member vs an
unlinked parent (part of `make bench`, through ``measure``; runnable alone).

In process, through the Flask test client, on one database seeded like the
bench (gifts, 10 people, 20 lists, each gift for 1 or 2 people): an unlinked
parent (the rule is the Santa rule alone: no join) and a parent linked to
person 1 (every query joins the gift's recipients and reads the wish view),
some of whose gifts are their wishes. Both walk the same requests, rounds
alternating, and the median of each is compared as a ratio:

- the first page of 50 (newest first), and a page 20 pages deep (cursor);
- the first page filtered by another person (2) and by status;
- the summary.

    .venv/bin/python bench/surprises.py                      # SQLite, 10 000
    BENCH_SURPRISES_GIFTS=1000000 .venv/bin/python bench/surprises.py
    BENCH_SURPRISES_URL=postgresql://.../scratch .venv/bin/python bench/surprises.py

A PostgreSQL URL must name a scratch database: its schema is dropped first
(BENCH_SURPRISES_REUSE=1 measures again on what a previous run seeded).
The goal (issue 16): the linked member's page costs at most 1.3x the
unlinked parent's.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.access import accounts  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.seed import insert_rows_sql, seed_people_and_lists  # noqa: E402

GIFTS = int(os.environ.get("BENCH_SURPRISES_GIFTS", 10_000))
ROUNDS = int(os.environ.get("BENCH_SURPRISES_ROUNDS", 7))
CALLS = int(os.environ.get("BENCH_SURPRISES_CALLS", 40))
GOAL = 1.3
PAGE = "/api/v1/gifts?limit=50"


def _reset(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def _tokens(app: Any) -> tuple[str, str]:
    """New tokens of the (unlinked, linked) parents of a seeded database."""
    with app.app_context():
        found = [accounts.find_member(name) for name in ("Unlinked", "Linked")]
        tokens = tuple(accounts.create_token(member)[1] for member in found)
        db.engine.dispose()
    return tokens[0], tokens[1]


def _seed(app: Any, url: str, gifts: int) -> tuple[str, str]:
    """Migrate and fill the database; tokens of (unlinked, linked) parents."""
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                insert_rows_sql(connection.dialect.name), {"rows": gifts}
            )
            low, high = connection.execute(
                sa.text("SELECT min(id), max(id) FROM gifts")
            ).one()
        db.engine.dispose()
    seed_people_and_lists(url, (low, high))
    with app.app_context():
        unlinked = accounts.add_member("Unlinked", "parent")
        linked = accounts.add_member("Linked", "parent", person_id=1)
        with db.engine.begin() as connection:
            # One gift in 50 for person 1 is their wish (made by them).
            connection.execute(
                sa.text(
                    "UPDATE gifts SET created_by = :member, wish_updated_at = "
                    "updated_at WHERE id % 50 = 0 AND id IN "
                    "(SELECT gift_id FROM gift_recipients WHERE person_id = 1)"
                ),
                {"member": linked.id},
            )
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE")
        assert unlinked.id and linked.id
        db.engine.dispose()
    return _tokens(app)


def _deep_cursor(client: Any, pages: int) -> str:
    url = PAGE
    cursor = ""
    for _ in range(pages):
        body = client.get(url).get_json()
        cursor = body["next_cursor"]
        url = f"{PAGE}&cursor={cursor}"
    return cursor


def _per_call_ms(call: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        response = call()
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code} {response.get_json()!r:.300}")
    return (time.perf_counter() - started) / calls * 1000


REQUESTS: dict[str, Callable[[Any, str], Any]] = {
    "first page of 50": lambda c, _: c.get(PAGE),
    "page 20 deep": lambda c, cursor: c.get(f"{PAGE}&cursor={cursor}"),
    "person 2's gifts": lambda c, _: c.get(f"{PAGE}&person_ids=2"),
    "purchased ones": lambda c, _: c.get(f"{PAGE}&statuses=purchased"),
    "summary": lambda c, _: c.get("/api/v1/gifts/summary"),
}


def measure(
    url: str, gifts: int, rounds: int, calls: int, reuse: bool = False
) -> dict[str, Any]:
    """Seed ``url`` (a scratch database: emptied first) with ``gifts`` gifts
    and time every request for both parents; medians in ms and their ratio."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    if reuse:
        unlinked_token, linked_token = _tokens(app)  # seeded by a previous run
    else:
        _reset(url)
        unlinked_token, linked_token = _seed(app, url, gifts)
    clients = {name: app.test_client() for name in ("unlinked", "linked")}
    for client, token in zip(
        clients.values(), (unlinked_token, linked_token), strict=True
    ):
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    cursors = {name: _deep_cursor(client, 20) for name, client in clients.items()}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for label, request in REQUESTS.items():
            for name, client in clients.items():
                call = lambda r=request, c=client, n=name: r(c, cursors[n])  # noqa: E731
                times.setdefault((label, name), []).append(_per_call_ms(call, calls))
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    figures = {}
    for label in REQUESTS:
        plain = statistics.median(times[(label, "unlinked")])
        linked = statistics.median(times[(label, "linked")])
        figures[label] = {
            "unlinked_ms": round(plain, 2),
            "linked_ms": round(linked, 2),
            "ratio": round(linked / plain, 2),
        }
    return {
        "database": sa.make_url(url).get_backend_name(),
        "gifts": gifts,
        "rounds": rounds,
        "calls": calls,
        "requests": figures,
    }


def main() -> None:
    temporary = tempfile.TemporaryDirectory()
    url = os.environ.get("BENCH_SURPRISES_URL") or (
        f"sqlite:///{Path(temporary.name) / 'surprises.db'}"
    )
    reuse = bool(os.environ.get("BENCH_SURPRISES_REUSE")) and url.startswith(
        "postgresql"
    )
    result = measure(url, GIFTS, ROUNDS, CALLS, reuse)
    print(f"{result['database']}, {GIFTS} gifts, median of {ROUNDS} rounds of {CALLS}")
    print(f"{'request':<20} {'unlinked ms':>12} {'linked ms':>10} {'ratio':>6}")
    worst = 0.0
    for label, x in result["requests"].items():
        worst = max(worst, x["ratio"])
        print(
            f"{label:<20} {x['unlinked_ms']:>12.2f} {x['linked_ms']:>10.2f} "
            f"{x['ratio']:>6.2f}"
        )
    print(f"worst ratio {worst:.2f} (goal <= {GOAL})")
    temporary.cleanup()


if __name__ == "__main__":
    main()

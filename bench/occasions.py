"""Occasions at scale: the budget view of an occasion and the gift listing
filtered by ``occasion_ids``, against the plain first page of the gifts.

Standalone, and part of `make bench` (bench/features.py calls ``run``): on a
database migrated to head, it fills gifts to ``--gifts`` rows (1 000 000 for
`make bench`) with plain SQL, puts 1 000 of them (spread over the table) under
one occasion, each for one or two of 20 people who all have a budget, and
times through the app
(its test client, as bench/scaling.py's listing check does):

- ``budget_view``: GET /api/v1/occasions/{id}/budget (20 rows, one query);
- ``occasion_first``: GET /api/v1/gifts?occasion_ids={id}, the first page;
- ``plain_first``: GET /api/v1/gifts, the first page.

The targets (issue 18): each within 3x the plain first page at 1 000 000
gifts. Prints one JSON object on stdout; progress on stderr.

    .venv/bin/python bench/occasions.py --url postgresql://… --gifts 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.access import accounts  # noqa: E402
from app.database import household_engine  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.seed import insert_rows_sql  # noqa: E402

PEOPLE = 20
OCCASION_GIFTS = 1000
ROUNDS, WARM_UP = 35, 5
TARGET = 3.0


def log(message: str) -> None:
    print(f"[occasions {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr)


def _fill(connection: sa.Connection, gifts: int) -> int:
    """Top the table up to ``gifts`` rows; the count."""
    count = connection.scalar(sa.text("SELECT count(*) FROM gifts"))
    if count < gifts:
        dialect = connection.dialect.name
        connection.execute(insert_rows_sql(dialect), {"rows": gifts - count})
    return connection.scalar(sa.text("SELECT count(*) FROM gifts"))


def _plan(connection: sa.Connection, gifts: int) -> int:
    """20 people with budgets, an occasion holding every n-th gift (1 000 of
    them), each for one or two of the people; the occasion's id (that of an
    earlier run, when there is one)."""
    earlier = connection.scalar(
        sa.text("SELECT id FROM occasions WHERE name = 'Bench Christmas'")
    )
    if earlier is not None:
        return earlier
    people = [
        connection.scalar(
            sa.text("INSERT INTO people (name, version) VALUES (:n, 1) RETURNING id"),
            {"n": f"Bench person {n:02}"},
        )
        for n in range(PEOPLE)
    ]
    occasion = connection.scalar(
        sa.text(
            "INSERT INTO occasions (name, kind, date, repeats_yearly, version)"
            " VALUES ('Bench Christmas', 'christmas', '2026-12-25', true, 1)"
            " RETURNING id"
        )
    )
    every = max(gifts // OCCASION_GIFTS, 1)
    ids = list(
        connection.scalars(
            sa.text(
                "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n"
                " FROM gifts) AS numbered WHERE n % :every = 0 ORDER BY id LIMIT :top"
            ),
            {"every": every, "top": OCCASION_GIFTS},
        )
    )
    connection.execute(
        sa.text("UPDATE gifts SET occasion_id = :o WHERE id = :id"),
        [{"o": occasion, "id": gift_id} for gift_id in ids],
    )
    links = [
        {"g": gift_id, "p": people[(n + k * 7) % PEOPLE]}
        for n, gift_id in enumerate(ids)
        for k in range(1 + n % 2)
    ]
    connection.execute(
        sa.text(
            "INSERT INTO gift_recipients (gift_id, person_id) VALUES (:g, :p)"
            " ON CONFLICT DO NOTHING"
        ),
        links,
    )
    connection.execute(
        sa.text(
            "INSERT INTO budgets (occasion_id, person_id, amount) VALUES (:o, :p, 250)"
        ),
        [{"o": occasion, "p": person} for person in people],
    )
    return occasion


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def run(url: str, gifts: int = 1_000_000) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        # A million rows take longer than a request's statement timeout.
        with household_engine() as engine, engine.begin() as connection:
            started = time.perf_counter()
            count = _fill(connection, gifts)
            log(f"{count} gifts ({time.perf_counter() - started:.1f} s)")
            occasion = _plan(connection, count)
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE")
        member = accounts.add_member(f"bench-occasions-{os.getpid()}", "parent")
        _, token = accounts.create_token(member, label="bench occasions")
        db.session.remove()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    paths = {
        "budget_view": f"/api/v1/occasions/{occasion}/budget",
        "occasion_first": f"/api/v1/gifts?limit=50&occasion_ids={occasion}",
        "plain_first": "/api/v1/gifts?limit=50",
    }
    samples: dict[str, list[float]] = {name: [] for name in paths}
    for attempt in range(ROUNDS):  # round-robin: background load hits all alike
        for name, path in paths.items():
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            body = response.get_json()
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code} {body!r:.300}")
            if name == "budget_view" and len(body["people"]) != PEOPLE:
                raise RuntimeError(f"{path}: {len(body['people'])} rows")
            if name != "budget_view" and len(body["items"]) != 50:
                raise RuntimeError(f"{path}: {len(body['items'])} gifts")
            if attempt >= WARM_UP:
                samples[name].append(elapsed)
    result: dict[str, Any] = {
        "database": sa.make_url(url).get_backend_name(),
        "gifts": count,
        "occasion_gifts": OCCASION_GIFTS,
        "people": PEOPLE,
        **{
            name: {"median_ms": _median_ms(samples[name]), "path": path}
            for name, path in paths.items()
        },
    }
    plain = result["plain_first"]["median_ms"]
    for name in ("budget_view", "occasion_first"):
        ratio = round(result[name]["median_ms"] / plain, 2)
        result[f"{name}_over_plain_first"] = ratio
        result[f"{name}_within_target"] = ratio <= TARGET
    log(
        f"budget view {result['budget_view_over_plain_first']}x, by occasion "
        f"{result['occasion_first_over_plain_first']}x the plain first page "
        f"(target <= {TARGET}x)"
    )
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a database migrated to head")
    parser.add_argument("--gifts", type=int, default=1_000_000)
    args = parser.parse_args()
    print(json.dumps(run(args.url, args.gifts), indent=2))


if __name__ == "__main__":
    main()

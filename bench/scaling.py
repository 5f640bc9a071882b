"""Scaling: the same work on a small and on a big gifts table (1 000 and
BENCH_SCALE_ROWS, default 1 000 000 rows), in process, through the app.

1. The from_santa migration (0002) up and down, BENCH_REPEATS times, on a
   table at revision 0001 filled with plain SQL (bench.seed.insert_rows_sql).
2. At head, with the big table: the first and the last listing page (newest
   first and by price), the first and last page of a list holding every 20th
   gift, and the first page of two searches, each against the unfiltered
   first page.
3. On the same table: every listing shape (bench/shapes.py: each filter
   alone x each sort, first and 4th page, many / few / none matching, the
   issue's combinations, a member linked to a person), each against the
   plain first page; BENCH_SHAPES_ROUNDS, BENCH_SHAPES_SLOW_ROUNDS and
   BENCH_SHAPES_ONLY there.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.access import accounts
from app.extensions import db
from app.gifts.cursors import encode_cursor
from app.models import Gift
from bench import settings
from bench.databases import flask_cli
from bench.seed import insert_rows_sql, link_scale_rows
from bench.settings import SCALE_SMALL, log
from bench.shapes import analyze, seed_shapes, time_shapes


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _fill(dialect: str, rows: int) -> float:
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM gifts")
        connection.execute(insert_rows_sql(dialect, random_ids=True), {"rows": rows})
    if dialect == "postgresql":
        with db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.exec_driver_sql("VACUUM ANALYZE gifts")
    return round(time.perf_counter() - started, 2)


def time_migration(dialect: str) -> dict:
    """0002 up and down, BENCH_REPEATS times each, at 1k and at SCALE_BIG rows."""
    result: dict[str, Any] = {}
    for rows in (SCALE_SMALL, settings.SCALE_BIG):
        fill_seconds = _fill(dialect, rows)
        ups, downs = [], []
        for _ in range(settings.REPEATS):
            started = time.perf_counter()
            upgrade(revision="0002")
            ups.append(time.perf_counter() - started)
            started = time.perf_counter()
            downgrade(revision="0001")
            downs.append(time.perf_counter() - started)
        result[str(rows)] = {
            "rows": rows,
            "fill_seconds": fill_seconds,
            "upgrade_ms": _median_ms(ups),
            "downgrade_ms": _median_ms(downs),
            "upgrade_samples_ms": [round(s * 1000, 2) for s in ups],
            "downgrade_samples_ms": [round(s * 1000, 2) for s in downs],
        }
        log(
            f"  {rows:>9} rows: upgrade {result[str(rows)]['upgrade_ms']} ms,"
            f" downgrade {result[str(rows)]['downgrade_ms']} ms"
        )
    small, big = result[str(SCALE_SMALL)], result[str(settings.SCALE_BIG)]
    result["upgrade_ratio"] = round(big["upgrade_ms"] / small["upgrade_ms"], 2)
    result["downgrade_ratio"] = round(big["downgrade_ms"] / small["downgrade_ms"], 2)
    return result


class _Row(dict):
    """A gift row that encode_cursor can read as a mapping or as an object."""

    __getattr__ = dict.__getitem__


def _cursor_of(sort: str, statement: str) -> str:
    """The app's own cursor for the gift that ``statement`` picks."""
    gift_id = db.session.execute(sa.text(statement)).scalar_one()
    table = Gift.__table__
    row = db.session.execute(sa.select(table).where(table.c.id == gift_id))
    return encode_cursor(sort, _Row(row.mappings().one()))


def time_listing(app: Any, list_id: int) -> dict:
    """First page against pages at the end of the table, through the app; and
    pages of the gifts on list ``list_id`` against the unfiltered first page."""
    client = app.test_client()
    with app.app_context():
        member = accounts.add_member(f"bench-listing-{os.getpid()}", "parent")
        _, token = accounts.create_token(member, label="bench listing")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with app.app_context():
        pages = {
            "recent_first": ("", True),
            "recent_last": (
                "&cursor="
                + _cursor_of(
                    "recent",  # newest first: by created_at, then id
                    "SELECT id FROM gifts ORDER BY created_at, id LIMIT 1 OFFSET 50",
                ),
                False,
            ),
            "price_asc_first": ("&sort=price_asc", True),
            "price_asc_end_of_priced": (
                "&sort=price_asc&cursor="
                + _cursor_of(
                    "price_asc",
                    "SELECT id FROM gifts WHERE price IS NOT NULL"
                    " ORDER BY price DESC, id DESC LIMIT 1 OFFSET 50",
                ),
                True,
            ),
            "price_asc_last": (
                "&sort=price_asc&cursor="
                + _cursor_of(
                    "price_asc",
                    "SELECT id FROM gifts WHERE price IS NULL"
                    " ORDER BY id DESC LIMIT 1 OFFSET 50",
                ),
                False,
            ),
            # A list holding every 20th gift (bench.seed.link_scale_rows).
            "list_first": (f"&list_ids={list_id}", True),
            "list_last": (
                f"&list_ids={list_id}&cursor="
                + _cursor_of(
                    "recent",
                    "SELECT g.id FROM gifts AS g JOIN gift_lists AS l ON"
                    f" l.gift_id = g.id WHERE l.list_id = {list_id}"
                    " ORDER BY g.created_at, g.id LIMIT 1 OFFSET 50",
                ),
                False,
            ),
            # Names are "Gift <n>" (bench.seed). "1234" is in 300 of them, and
            # so are its trigrams: the index finds them. "gift 1234" is in 111,
            # but "gif" and "ift" are in every name: the index reads a
            # million entries for them (pg_trgm's weak spot, reported).
            "search_first": ("&search=1234", True),
            "search_common_word_first": ("&search=gift%201234", True),
        }
        db.session.remove()
    # Round-robin over the pages, so background load hits them all alike.
    samples: dict[str, list[float]] = {name: [] for name in pages}
    for attempt in range(settings.LISTING_ROUNDS):
        for name, (query, has_more) in pages.items():
            path = "/api/v1/gifts?limit=50" + query
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            page = response.get_json()
            if response.status_code != 200 or len(page["items"]) != 50:
                raise RuntimeError(f"{path}: {response.status_code} {page!r:.300}")
            if page["has_more"] is not has_more:
                raise RuntimeError(f"{path}: has_more is {page['has_more']}")
            if attempt >= settings.LISTING_WARM:  # the first rounds warm caches
                samples[name].append(elapsed)
    result: dict[str, Any] = {
        name: {
            "median_ms": _median_ms(samples[name]),
            "path": "/api/v1/gifts?limit=50" + query,
        }
        for name, (query, _) in pages.items()
    }
    for sort in ("recent", "price_asc"):
        first = result[f"{sort}_first"]["median_ms"]
        result[f"{sort}_last_over_first"] = round(
            result[f"{sort}_last"]["median_ms"] / first, 2
        )
    for page in ("list_first", "list_last", "search_first", "search_common_word_first"):
        result[f"{page}_over_unfiltered_first"] = round(
            result[page]["median_ms"] / result["recent_first"]["median_ms"], 2
        )
    result["price_asc_end_of_priced_over_first"] = round(
        result["price_asc_end_of_priced"]["median_ms"]
        / result["price_asc_first"]["median_ms"],
        2,
    )
    log(
        f"  listing, {settings.SCALE_BIG} rows: last/first page recent "
        f"{result['recent_last_over_first']}, price_asc "
        f"{result['price_asc_last_over_first']}; by a list, first "
        f"{result['list_first_over_unfiltered_first']}, last "
        f"{result['list_last_over_unfiltered_first']}; a rare search "
        f"{result['search_first_over_unfiltered_first']}, with a word in every "
        f"name {result['search_common_word_first_over_unfiltered_first']}"
        " x unfiltered first"
    )
    return result


def bench_scaling(url: str, dialect: str) -> dict:
    log(f"{dialect}: migration 0002 with {SCALE_SMALL} and {settings.SCALE_BIG} rows")
    flask_cli(url, "db", "upgrade", "0001")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            result: dict[str, Any] = {"migration": time_migration(dialect)}
            started = time.perf_counter()
            upgrade()  # head: 0002 and 0003 (version, the listing indexes)
            result["upgrade_to_head_with_big_table_s"] = round(
                time.perf_counter() - started, 2
            )
            with db.engine.begin() as connection:
                list_id = link_scale_rows(connection)
                ids = seed_shapes(connection)
            with db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                analyze(connection)  # as autovacuum would after a bulk load
        result["listing"] = time_listing(app, list_id)
        log(f"{dialect}: listing shapes at {settings.SCALE_BIG} gifts")
        result["shapes"] = time_shapes(app, ids)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return result

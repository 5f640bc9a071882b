"""Bench data: realistic gifts, inserted in bulk (SQLAlchemy Core executemany).

``seed_gifts`` fills a migrated (head) database for the HTTP benchmark;
``insert_rows_sql`` is the plain SQL that fills a table at revision 0001 with
a million rows in one statement, for the migration and listing scaling checks.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from app.config import database_url
from app.gifts.sample import gift_row
from app.models import Gift


def seed_gifts(url: str, count: int, seed: int = 2026) -> tuple[int, int]:
    """Insert ``count`` gifts in batches of 1 000; return (min id, max id)."""
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    engine = sa.create_engine(database_url(url))
    table = Gift.__table__
    try:
        with engine.begin() as connection:
            for start in range(0, count, 1000):
                rows = [
                    gift_row(rng, now, i)
                    for i in range(start, min(start + 1000, count))
                ]
                connection.execute(sa.insert(table), rows)
        with engine.connect() as connection:
            low, high = connection.execute(
                sa.select(sa.func.min(table.c.id), sa.func.max(table.c.id))
            ).one()
    finally:
        engine.dispose()
    return low, high


# One statement, no Python loop: a million rows in a few seconds. Columns of
# revision 0001 only (no from_santa, no version). Prices: 2 decimals, 1 in 10
# null, so price_asc pages walk both the priced and the unpriced part.
_COLUMNS = (
    "name, description, price, quantity, priority, status, created_at, updated_at"
)

_SQLITE_ROWS = f"""
WITH RECURSIVE seq(n) AS (
    SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :rows
)
INSERT INTO gifts ({_COLUMNS})
SELECT 'Gift ' || n,
       CASE WHEN n % 3 = 0 THEN 'A present for the little ones.' END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE ((n * 7919) % 2500000) / 100.0 END,
       1 + n % 3,
       CASE n % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END,
       CASE n % 4 WHEN 0 THEN 'idea' WHEN 1 THEN 'selected'
                  WHEN 2 THEN 'purchased' ELSE 'received' END,
       datetime('2026-01-01', '+' || n || ' seconds'),
       datetime('2026-01-01', '+' || n || ' seconds')
FROM seq
"""

_POSTGRES_ROWS = f"""
INSERT INTO gifts ({_COLUMNS})
SELECT 'Gift ' || n,
       CASE WHEN n % 3 = 0 THEN 'A present for the little ones.' END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE ((n::bigint * 7919) % 2500000) / 100.0 END,
       1 + n % 3,
       (ARRAY['low', 'medium', 'high'])[1 + n % 3]::gift_priority,
       (ARRAY['idea', 'selected', 'purchased', 'received'])[1 + n % 4]::gift_status,
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second',
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
FROM generate_series(1, :rows) AS n
"""


def insert_rows_sql(dialect: str) -> sa.TextClause:
    """Plain SQL that appends ``:rows`` gifts (revision 0001 columns)."""
    return sa.text(_POSTGRES_ROWS if dialect == "postgresql" else _SQLITE_ROWS)

"""Bench data: realistic gifts, inserted in bulk (SQLAlchemy Core executemany).

``seed_gifts`` fills a migrated (head) database for the HTTP benchmark, and
``settle`` then does what the database would do on its own soon after;
``insert_rows_sql`` is the plain SQL that fills a table at revision 0001 with
a million rows in one statement, for the migration and listing scaling checks.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from app.config import database_url
from app.gifts.sample import gift_row
from app.models import Gift, GiftList, Person, gift_lists, gift_recipients


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
# revision 0001 only (no from_santa, no version). With ``random_ids``, ids
# look random as the app's do (app/ids.py): n times a constant modulo the
# prime 2^31 - 1, all distinct, so id order is not creation order. SQLite's
# times are written as the app stores them (microseconds included): cursors
# compare them as text.
# Prices: 2 decimals, 1 in 10 null, so price_asc pages walk both the priced and
# the unpriced part.
_COLUMNS = (
    "name, description, price, quantity, priority, status, created_at, updated_at"
)

_SQLITE_ROWS = f"""
WITH RECURSIVE seq(n) AS (
    SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :rows
)
INSERT INTO gifts ({{id}}{_COLUMNS})
SELECT {{n}}'Gift ' || n,
       CASE WHEN n % 3 = 0 THEN 'A present for the little ones.' END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE ((n * 7919) % 2500000) / 100.0 END,
       1 + n % 3,
       CASE n % 3 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' ELSE 'high' END,
       CASE n % 4 WHEN 0 THEN 'idea' WHEN 1 THEN 'selected'
                  WHEN 2 THEN 'purchased' ELSE 'received' END,
       datetime('2026-01-01', '+' || n || ' seconds') || '.000000',
       datetime('2026-01-01', '+' || n || ' seconds') || '.000000'
FROM seq
"""

_POSTGRES_ROWS = f"""
INSERT INTO gifts ({{id}}{_COLUMNS})
SELECT {{n}}'Gift ' || n,
       CASE WHEN n % 3 = 0 THEN 'A present for the little ones.' END,
       CASE WHEN n % 10 = 0 THEN NULL ELSE ((n::bigint * 7919) % 2500000) / 100.0 END,
       1 + n % 3,
       (ARRAY['low', 'medium', 'high'])[1 + n % 3]::gift_priority,
       (ARRAY['idea', 'selected', 'purchased', 'received'])[1 + n % 4]::gift_status,
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second',
       timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
FROM generate_series(1, :rows) AS n
"""


_RANDOM_IDS = {
    "sqlite": "(n * 1103515245) % 2147483647, ",
    "postgresql": "((n::bigint * 1103515245) % 2147483647)::integer, ",
}


def insert_rows_sql(dialect: str, random_ids: bool = False) -> sa.TextClause:
    """Plain SQL that appends ``:rows`` gifts (revision 0001 columns); with
    ``random_ids``, into an empty table only (the ids repeat per run)."""
    sql = _POSTGRES_ROWS if dialect == "postgresql" else _SQLITE_ROWS
    if random_ids:
        return sa.text(sql.format(id="id, ", n=_RANDOM_IDS[dialect]))
    return sa.text(sql.format(id="", n=""))


PEOPLE = 10
LISTS = 20


def seed_people_and_lists(url: str, ids: tuple[int, int], seed: int = 2027) -> None:
    """People 1..10 and lists 1..20; each gift for 1 or 2 people, on 0 to 2 lists."""
    rng = random.Random(seed)
    engine = sa.create_engine(database_url(url))
    names = ("Ann", "Bob", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ida", "Jo")
    kinds = ("wishlist", "ideas", "assigned")
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(Person.__table__),
                [{"name": name, "version": 1} for name in names[:PEOPLE]],
            )
            connection.execute(
                sa.insert(GiftList.__table__),
                [
                    {
                        "name": f"List {n}",
                        "kind": kinds[n % 3],
                        "person_id": 1 + n % PEOPLE if n % 4 else None,
                        "version": 1,
                    }
                    for n in range(LISTS)
                ],
            )
            recipients, on_lists = [], []
            for gift_id in range(ids[0], ids[1] + 1):
                for person in rng.sample(range(1, PEOPLE + 1), rng.choice((1, 1, 2))):
                    recipients.append({"gift_id": gift_id, "person_id": person})
                for list_id in rng.sample(range(1, LISTS + 1), rng.choice((0, 1, 2))):
                    on_lists.append({"gift_id": gift_id, "list_id": list_id})
            connection.execute(sa.insert(gift_recipients), recipients)
            connection.execute(sa.insert(gift_lists), on_lists)
    finally:
        engine.dispose()


# The list the 1M-row listing check filters by: every 20th gift is on it.
SCALE_LIST_EVERY = 20
_SCALE_LINKS = """
INSERT INTO gift_lists (gift_id, list_id)
SELECT id, :list_id FROM gifts WHERE id % 20 = 0
"""


def link_scale_rows(connection: sa.Connection) -> int:
    """One list holding every 20th gift of a filled table at head; its id."""
    lists = GiftList.__table__
    list_id = connection.scalar(
        sa.insert(lists)
        .values(name="Scale", kind="ideas", version=1)
        .returning(lists.c.id)
    )
    connection.execute(sa.text(_SCALE_LINKS), {"list_id": list_id})
    return list_id


def settle(url: str) -> None:
    """After a bulk load, what the database does on its own within a minute
    or so, done before anything is measured: the planner's statistics
    (PostgreSQL's autovacuum, which would otherwise start in the middle of a
    case) and a checkpoint of what the load wrote (PostgreSQL's CHECKPOINT,
    SQLite's WAL folded into the file)."""
    engine = sa.create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("VACUUM ANALYZE")
                connection.exec_driver_sql("CHECKPOINT")
            else:
                connection.exec_driver_sql("ANALYZE")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()

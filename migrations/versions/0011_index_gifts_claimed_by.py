"""Index gifts by (claimed_by, id), for the listing's `claimed_by` filter.

Measured with bench/shapes.py at 1 000 000 gifts (in process, first page of
50, against the plain first page; a member holding 100 claims, another none):
without an index, `claimed_by=<member>` read the whole table on both
databases, 10 to 40x the plain page on PostgreSQL (140-250 ms) and as much
on SQLite, whatever the sort. With it the listing's sparse path (see
app/gifts/listing.py, ``_page``) reads the member's claims from this index
and sorts them. `claimed_by=me` for a member holding many claims, and
`claimed_by=none`, still walk the sort order: they match many gifts.

SQLite: the upgrade also runs ANALYZE, so its planner knows how many gifts
share a status, a priority, a claimer (sqlite_stat1; this build has no
STAT4). Without it SQLite took any equality's index over the sort's for a
filter matching half the gifts: statuses=idea, priority=low,
from_santa=false, claimed_by=none read 250 000 to 950 000 index entries and
sorted them, 50 to 140x the plain page at 1M gifts; with it they walk the
sort order (measured with bench/shapes.py). ANALYZE reads each table once:
2 s at 1M gifts, nothing to speak of at a household's size. PostgreSQL's
autovacuum keeps its own statistics.

Locks (PostgreSQL): the index is built CONCURRENTLY outside a transaction
(migrations/README, rule 3), writes go on; an INVALID index left by a failed
build is dropped and built again, so the upgrade is safe to run again.
SQLite: built at once.

The downgrade drops the index (concurrently).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 01:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_claimed_by_id"


def _drop_index() -> None:
    op.drop_index(
        INDEX, table_name="gifts", postgresql_concurrently=True, if_exists=True
    )


def upgrade() -> None:
    with op.get_context().autocommit_block():
        if op.get_bind().dialect.name == "postgresql":
            invalid = op.get_bind().scalar(
                sa.text(
                    "SELECT NOT indisvalid FROM pg_index "
                    "WHERE indexrelid = to_regclass(:name)"
                ),
                {"name": INDEX},
            )
            if invalid:  # left by a concurrent build that failed
                _drop_index()
        op.create_index(
            INDEX,
            "gifts",
            ["claimed_by", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        if op.get_bind().dialect.name == "sqlite":
            op.execute("ANALYZE")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _drop_index()

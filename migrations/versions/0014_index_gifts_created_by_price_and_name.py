"""Index gifts by (created_by, price, id) and (created_by, name, id).

A member linked to a person sees of that person's gifts only those given and
their own wishes (app/visibility.py), so her page of her own person is read
from those two sets (app/gifts/listing.py, ``_own_page``). Newest first,
0013's index gives her wishes in the page's order. By price or by name no
index did: every one of her wishes was read to be sorted. At 1 000 000 gifts
(a person on 50 000, 5 000 of them her wishes; bench/shapes.py), her first
page by price or by name cost 6.8-7.2x the plain first page on SQLite and
10.0-10.4x on PostgreSQL (make bench at 4eae0a0: 6.6-7.1x and 10.0-10.4x).
With these two indexes (built by hand on the same seeded database) the page
reads 50 of her wishes in order: 2.3x on SQLite.

What the writes pay: a POST updates two more indexes, a PATCH of the price
or the name one (an index none of whose columns change is left alone). In
process, 10 000 gifts, medians of 7 interleaved batches of 200, 0013 against
0014: SQLite POST 1 333 -> 1 391-1 399 us, PATCH of the price 817-846 ->
843-891 us; PostgreSQL within the noise (POST 1 637 -> 1 644 us). A PATCH
of anything else (from_santa, the status) costs what it did.

SQLite: the upgrade also runs ANALYZE on each new index alone, so that its
planner knows how many gifts share a creator (sqlite_stat1).

Locks (PostgreSQL): each index is built CONCURRENTLY outside a transaction
(migrations/README, rule 3): writes go on. An INVALID index left by a
failed build is dropped and built again, so the upgrade is safe to run
again. SQLite: built at once.

The downgrade drops both (concurrently).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_gifts_created_by_price_id": ["created_by", "price", "id"],
    "ix_gifts_created_by_name_id": ["created_by", "name", "id"],
}


def _drop_index(name: str) -> None:
    op.drop_index(
        name, table_name="gifts", postgresql_concurrently=True, if_exists=True
    )


def _build_index(name: str, columns: list[str]) -> None:
    """Build ``name`` unless a valid one is there; a failed build's leftover
    (INVALID, PostgreSQL) is dropped first."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        invalid = bind.scalar(
            sa.text(
                "SELECT NOT indisvalid FROM pg_index "
                "WHERE indexrelid = to_regclass(:name)"
            ),
            {"name": name},
        )
        if invalid:  # left by a concurrent build that failed
            _drop_index(name)
    op.create_index(
        name, "gifts", columns, postgresql_concurrently=True, if_not_exists=True
    )
    if bind.dialect.name == "sqlite":
        op.execute(f"ANALYZE {name}")


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, columns in INDEXES.items():
            _build_index(name, columns)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in reversed(INDEXES):
            _drop_index(name)

"""Index gifts by (created_by, id), for a member's page of their own person.

A member linked to a person sees of that person's gifts only those given
(received) and their own wishes (created_by: them): the surprise rule,
app/visibility.py. Filtering by their own person (`person_ids=<theirs>`)
therefore matches at most those two sets, however many gifts the person
has; app/gifts/listing.py reads the page from them (``_PROBES["own"]``).
Without an index on created_by the page could only read every gift of
the person and drop the hidden ones: measured with bench/shapes.py at
1 000 000 gifts (a person on 50 000 of them, 5 000 of those her wishes),
first page of 50 against the plain first page: 22x on SQLite, 61x on
PostgreSQL (make bench at c8ea31d). With it, in the same measurement (on a
busy machine): 5.9x and 14x, the page reading her 5 000 wishes and 100
gifts given. Every other page is as it was: nothing else asks by creator.

SQLite: the upgrade also runs ANALYZE on the new index alone, so that its
planner knows how many gifts share a creator (sqlite_stat1).

Locks (PostgreSQL): the index is built CONCURRENTLY outside a transaction
(migrations/README, rule 3), writes go on; an INVALID index left by a failed
build is dropped and built again, so the upgrade is safe to run again.
SQLite: built at once.

The downgrade drops the index (concurrently).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_created_by_id"


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
            ["created_by", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ANALYZE {INDEX}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _drop_index()

"""Index gifts by (created_by, created_at, id) instead of (created_by, id).

A member linked to a person sees of that person's gifts only those given and
their own wishes (app/visibility.py), so her page of her own person is read
from those two sets (app/gifts/listing.py, ``_own_page``). With 0012's index
the wishes were read by id, every one of them, to be sorted: at 1 000 000
gifts (a person on 50 000, 5 000 of them her wishes; bench/shapes.py), her
first page newest first cost 6.2x the plain first page on SQLite and 11.9x
on PostgreSQL (make bench at 915f44c). In creation order, the index gives
her newest wishes first, and the page reads 50 of them: the statement that
picks the page's ids went from 10.8 ms to 0.12 ms on SQLite and from 28 ms
to 0.8 ms on PostgreSQL (the same data, index built by hand). The given
gifts are read by ``status``'s index and sorted, as before: there are few
(a measurement with many is for when a family has them).

The new index serves every lookup by creator that 0012's served (its first
column is the same), so 0012's is dropped: a write updates as many indexes
as before.

SQLite: the upgrade also runs ANALYZE on the new index alone, so that its
planner knows how many gifts share a creator (sqlite_stat1).

Locks (PostgreSQL): each index is built and dropped CONCURRENTLY outside a
transaction (migrations/README, rule 3): writes go on. An INVALID index left
by a failed build is dropped and built again, so either way is safe to run
again. SQLite: built and dropped at once.

The downgrade builds 0012's index again and drops this one (concurrently).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_created_by_created_at_id"
COLUMNS = ["created_by", "created_at", "id"]
# 0012's.
FORMER = "ix_gifts_created_by_id"
FORMER_COLUMNS = ["created_by", "id"]


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
        _build_index(INDEX, COLUMNS)
        _drop_index(FORMER)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _build_index(FORMER, FORMER_COLUMNS)
        _drop_index(INDEX)

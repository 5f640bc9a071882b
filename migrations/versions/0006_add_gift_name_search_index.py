"""Index gift names for `search` on PostgreSQL: a trigram (GIN) index on name.

The listing's `search` is a case-insensitive substring of the name, which no
B-tree can serve (PostgreSQL runs it as `name ILIKE '%…%'`): every search
read the whole table (about 250 ms at a million gifts). A GIN index of the
trigrams of the name (the pg_trgm
extension, trusted since PostgreSQL 13: the database owner may create it)
finds the few matching rows of a search of 3 or more characters in a few
milliseconds. Shorter searches and searches that match most gifts keep the
plans they had.

Locks: CREATE EXTENSION locks no table of ours. The index is built
CONCURRENTLY, outside the migration's transaction (migrations/README, rule
3): writes to gifts go on while it builds. A build that failed part-way left
an INVALID index of the same name; the upgrade drops it and builds again.
SQLite: nothing (no trigram index there; a household's file is small).

The downgrade removes the index (concurrently). The pg_trgm extension stays:
it holds no data and other schemas of the database may use it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_name_trigram"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _drop_index_concurrently() -> None:
    op.drop_index(
        INDEX, table_name="gifts", postgresql_concurrently=True, if_exists=True
    )


def upgrade() -> None:
    if not _on_postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        invalid = op.get_bind().scalar(
            sa.text(
                "SELECT NOT indisvalid FROM pg_index "
                "WHERE indexrelid = to_regclass(:name)"
            ),
            {"name": INDEX},
        )
        if invalid:  # left by a concurrent build that failed
            _drop_index_concurrently()
        op.create_index(
            INDEX,
            "gifts",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    if not _on_postgresql():
        return
    with op.get_context().autocommit_block():
        _drop_index_concurrently()

"""Validate 0007's foreign keys, and index gifts by (created_at, id).

Ids no longer come in sequence, so `sort=recent` (newest first) walks
(created_at, id) instead of id: this index serves it as the id index did.

Locks (PostgreSQL): both steps run outside a transaction (migrations/README,
rule 3). VALIDATE CONSTRAINT takes a lock that lets writes go on while it
reads the table; the index is built CONCURRENTLY, and an INVALID index left
by a failed build is dropped and built again. Both are safe to run again.
SQLite: the index is built at once; its foreign keys need no validation.

The downgrade drops the index (concurrently); the constraints stay valid.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_created_at_id"
CONSTRAINTS = (
    ("members", "fk_members_person_id_people"),
    ("gifts", "fk_gifts_created_by_members"),
    ("gifts", "fk_gifts_claimed_by_members"),
)


def _drop_index() -> None:
    op.drop_index(
        INDEX, table_name="gifts", postgresql_concurrently=True, if_exists=True
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        if postgresql:
            for table, name in CONSTRAINTS:
                op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
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
            ["created_at", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        _drop_index()

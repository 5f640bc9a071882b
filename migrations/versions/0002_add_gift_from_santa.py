"""Add gifts.from_santa: BOOLEAN NOT NULL DEFAULT false.

A plain ADD COLUMN with a constant default: metadata only on PostgreSQL 11+
and SQLite, whatever the number of rows. ``sa.false()`` renders the default
right on both (``false`` on PostgreSQL, ``0`` on SQLite).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20 10:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "gifts",
        sa.Column(
            "from_santa", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )


def downgrade() -> None:
    op.drop_column("gifts", "from_santa")

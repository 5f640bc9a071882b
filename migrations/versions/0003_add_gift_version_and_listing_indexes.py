"""Add gifts.version (for ETags) and the indexes the listing walks.

Each index is (filter or sort column, id), so a keyset page is one index range
scan at any depth.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LISTING_INDEXES = {
    "ix_gifts_status_id": ["status", "id"],
    "ix_gifts_priority_id": ["priority", "id"],
    "ix_gifts_from_santa_id": ["from_santa", "id"],
    "ix_gifts_price_id": ["price", "id"],
    "ix_gifts_name_id": ["name", "id"],
}


def upgrade() -> None:
    op.add_column(
        "gifts",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    for name, columns in LISTING_INDEXES.items():
        op.create_index(name, "gifts", columns)


def downgrade() -> None:
    for name in LISTING_INDEXES:
        op.drop_index(name, table_name="gifts")
    op.drop_column("gifts", "version")

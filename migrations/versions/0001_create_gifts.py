"""Create the gifts table, as it was before from_santa.

Revision ID: 0001
Revises:
Create Date: 2026-11-20 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

gift_priority = sa.Enum("low", "medium", "high", name="gift_priority")
gift_status = sa.Enum("idea", "selected", "purchased", "received", name="gift_status")


def upgrade() -> None:
    op.create_table(
        "gifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=10000), nullable=True),
        sa.Column("notes", sa.String(length=10000), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("image_url", sa.String(length=2048), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("sale_price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("priority", gift_priority, nullable=False),
        sa.Column("status", gift_status, nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gifts")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("gifts")
    # PostgreSQL keeps the enum types after the table: drop them too.
    gift_status.drop(op.get_bind(), checkfirst=True)
    gift_priority.drop(op.get_bind(), checkfirst=True)

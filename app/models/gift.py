"""The Gift model and the values its enumerated columns may take."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, only_on, utcnow

PRIORITIES = ("low", "medium", "high")
STATUSES = ("idea", "selected", "purchased", "received")
MAX_TEXT = 10_000
MAX_URL = 2048


class Gift(db.Model):  # type: ignore[name-defined,misc]
    """A gift idea, followed from idea to received."""

    __tablename__ = "gifts"
    __table_args__ = (
        # Each listing filter or sort walks one of these, id breaking ties.
        sa.Index("ix_gifts_status_id", "status", "id"),
        sa.Index("ix_gifts_priority_id", "priority", "id"),
        sa.Index("ix_gifts_from_santa_id", "from_santa", "id"),
        sa.Index("ix_gifts_price_id", "price", "id"),
        sa.Index("ix_gifts_name_id", "name", "id"),
        # `sort=recent`: ids are random, so newest first is by creation time.
        sa.Index("ix_gifts_created_at_id", "created_at", "id"),
        # `claimed_by=<member>`: a member's claims, read and sorted (0011).
        sa.Index("ix_gifts_claimed_by_id", "claimed_by", "id"),
        # A member's own wishes, newest first: their page of their own
        # person (0013; 0012's was by id).
        sa.Index("ix_gifts_created_by_created_at_id", "created_by", "created_at", "id"),
        # ... and by price or by name (0014).
        sa.Index("ix_gifts_created_by_price_id", "created_by", "price", "id"),
        sa.Index("ix_gifts_created_by_name_id", "created_by", "name", "id"),
        # An occasion's gifts: its budget view and gift count, and the
        # `occasion_ids` filter's newest first (`sort=recent`) in index order.
        sa.Index(
            "ix_gifts_occasion_id_created_at_id", "occasion_id", "created_at", "id"
        ),
        # `search` (name ILIKE '%…%') reads this trigram index on PostgreSQL
        # (migration 0006); SQLite has none and scans.
        only_on(
            "postgresql",
            sa.Index(
                "ix_gifts_name_trigram",
                "name",
                postgresql_using="gin",
                postgresql_ops={"name": "gin_trgm_ops"},
            ),
        ),
        # Ids are never reused, even after the newest gift is deleted (SQLite).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.String(MAX_TEXT))
    notes: Mapped[str | None] = mapped_column(sa.String(MAX_TEXT))
    url: Mapped[str | None] = mapped_column(sa.String(MAX_URL))
    image_url: Mapped[str | None] = mapped_column(sa.String(MAX_URL))
    source: Mapped[str | None] = mapped_column(sa.String(255))
    price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    sale_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    quantity: Mapped[int] = mapped_column(default=1)
    priority: Mapped[str] = mapped_column(
        sa.Enum(*PRIORITIES, name="gift_priority"), default="medium"
    )
    status: Mapped[str] = mapped_column(
        sa.Enum(*STATUSES, name="gift_status"), default="idea"
    )
    purchase_date: Mapped[dt.date | None]
    from_santa: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # The member who made it (null: made before members existed, by the CLI
    # or by an import) and the member who is getting it (null: nobody yet).
    created_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    claimed_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    # Its wisher deleted it after someone planned it: gone for them only.
    wish_withdrawn: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # The wish view's ETag state: moved only by changes its wisher can see.
    wish_version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    wish_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The occasion it is for (null: none). Deleting the occasion unlinks its
    # gifts in the code first (their ETags move); SET NULL is the safety net.
    occasion_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("occasions.id", ondelete="SET NULL")
    )
    # Bumped by every change; the ETag is built from it.
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

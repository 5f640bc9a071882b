"""Occasions the family plans gifts for, and budgets per person and occasion."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

OCCASION_KINDS = ("christmas", "birthday", "holiday", "other")
MAX_OCCASION_NAME = 120


class Occasion(db.Model):  # type: ignore[name-defined,misc]
    """Christmas, a birthday, a holiday: once, or every year on the same day."""

    __tablename__ = "occasions"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_OCCASION_NAME))
    kind: Mapped[str] = mapped_column(
        sa.Enum(*OCCASION_KINDS, name="occasion_kind"), default="other"
    )
    # The first time it happens; a yearly one comes back on its month and day.
    date: Mapped[dt.date]
    repeats_yearly: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    # Whose birthday (null: nobody's); a deleted person's occasions remain.
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))


# What the family means to spend on one person at one occasion. Deleting the
# occasion or the person takes their budgets along.
budgets = sa.Table(
    "budgets",
    db.metadata,
    sa.Column(
        "occasion_id",
        sa.ForeignKey("occasions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "person_id", sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("amount", sa.Numeric(10, 2), nullable=False),
    sa.Index("ix_budgets_person_id", "person_id"),
)

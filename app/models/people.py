"""People the family buys for, gift lists, and the links of gifts to both."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.gift import MAX_TEXT

LIST_KINDS = ("wishlist", "ideas", "assigned")
MAX_PERSON_NAME = 80
MAX_LIST_NAME = 120


class Person(db.Model):  # type: ignore[name-defined,misc]
    """Someone the family buys for."""

    __tablename__ = "people"
    __table_args__ = (
        # The listing walks (name, id).
        sa.Index("ix_people_name_id", "name", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_PERSON_NAME))
    relationship: Mapped[str | None] = mapped_column(sa.String(MAX_PERSON_NAME))
    birthdate: Mapped[dt.date | None]
    notes: Mapped[str | None] = mapped_column(sa.String(MAX_TEXT))
    # Bumped by every change; the ETag is built from it.
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))


class GiftList(db.Model):  # type: ignore[name-defined,misc]
    """A named list of gifts, maybe someone's (a wishlist, ideas, assigned)."""

    __tablename__ = "lists"
    __table_args__ = (
        sa.Index("ix_lists_name_id", "name", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(MAX_LIST_NAME))
    kind: Mapped[str] = mapped_column(
        sa.Enum(*LIST_KINDS, name="list_kind"), default="ideas"
    )
    # A deleted person's lists remain, belonging to no one.
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))


# Link tables: a deleted gift, person or list takes its links along. The
# second index serves "gifts of this person/list" (filters and counts).
gift_recipients = sa.Table(
    "gift_recipients",
    db.metadata,
    sa.Column(
        "gift_id", sa.ForeignKey("gifts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "person_id", sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_gift_recipients_person_id_gift_id", "person_id", "gift_id"),
)

gift_lists = sa.Table(
    "gift_lists",
    db.metadata,
    sa.Column(
        "gift_id", sa.ForeignKey("gifts.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "list_id", sa.ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_gift_lists_list_id_gift_id", "list_id", "gift_id"),
)

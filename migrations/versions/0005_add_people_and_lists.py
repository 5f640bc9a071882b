"""Add people, lists and the links of gifts to both.

New tables only: the gifts table is not rewritten; a gift starts on no list
and for no one. Deleting a gift, person or list deletes its links; deleting a
person leaves their lists with ``person_id`` null. The downgrade drops the
tables and the ``list_kind`` enum type (PostgreSQL keeps it otherwise).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

list_kind = sa.Enum("wishlist", "ideas", "assigned", name="list_kind")


def _link_table(name: str, column: str, target: str) -> None:
    op.create_table(
        name,
        sa.Column("gift_id", sa.Integer(), nullable=False),
        sa.Column(column, sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gift_id"],
            ["gifts.id"],
            name=op.f(f"fk_{name}_gift_id_gifts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            [column],
            [f"{target}.id"],
            name=op.f(f"fk_{name}_{column}_{target}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gift_id", column, name=op.f(f"pk_{name}")),
    )
    # The primary key serves "this gift's links"; this one "this target's gifts".
    op.create_index(f"ix_{name}_{column}_gift_id", name, [column, "gift_id"])


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("relationship", sa.String(length=80), nullable=True),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=10000), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_people_name_id", "people", ["name", "id"])
    op.create_table(
        "lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", list_kind, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_lists_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lists")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_lists_name_id", "lists", ["name", "id"])
    op.create_index(op.f("ix_lists_person_id"), "lists", ["person_id"])
    _link_table("gift_recipients", "person_id", "people")
    _link_table("gift_lists", "list_id", "lists")


def downgrade() -> None:
    op.drop_table("gift_lists")
    op.drop_table("gift_recipients")
    op.drop_table("lists")
    op.drop_table("people")
    list_kind.drop(op.get_bind(), checkfirst=True)

"""Add surprises: members as people, gifts' creators and claims, wish views.

Members are people, gifts know who made and who claimed them, and a wish
keeps its own record of what its wisher last saw change.

- members.person_id: the person a member is (null: none), unique, a person
  linked to a member cannot be deleted (no ON DELETE action: the code answers
  409 first);
- gifts.created_by, gifts.claimed_by: members (null: none; gifts from before
  this have no creator), ON DELETE SET NULL;
- gifts.wish_withdrawn: false on every gift until its wisher withdraws it;
- gifts.wish_version, gifts.wish_updated_at: the wish view's ETag state (the
  gift's own version moves on planning changes too); null wish_updated_at
  on gifts from before this, which are nobody's wish.

Ids stop coming in sequence, but nothing here changes for that: the code
picks random ids, and the sequences stay for the previous release during a
deploy.

Locks (PostgreSQL): ADD COLUMN, nullable or with a constant default, and
ADD CONSTRAINT ... NOT VALID change the catalogue only and touch no row,
whatever the size of gifts; 0008 validates the foreign keys without
stopping writes. The unique index on members.person_id is built at once
(a family has a handful of members). SQLite adds a foreign key only by
rebuilding the table: members and gifts are copied (a household's file is
small).

The downgrade drops the columns (SQLite rebuilds the two tables to do so:
it cannot drop a column a foreign key names).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# table, column, referred table, ON DELETE clause
REFERENCES = (
    ("members", "person_id", "people", ""),
    ("gifts", "created_by", "members", "ON DELETE SET NULL"),
    ("gifts", "claimed_by", "members", "ON DELETE SET NULL"),
)
PERSON_INDEX = "uq_members_person_id"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _new_gift_columns() -> list[sa.Column]:
    return [
        sa.Column(
            "wish_withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column(
            "wish_version", sa.Integer(), server_default=sa.text("1"), nullable=False
        ),
        sa.Column("wish_updated_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    if _on_postgresql():
        for table, column, target, on_delete in REFERENCES:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{target} "
                f"FOREIGN KEY ({column}) REFERENCES {target} (id) {on_delete} "
                "NOT VALID"
            )
        for column in _new_gift_columns():
            op.add_column("gifts", column)
    else:  # SQLite adds a foreign key only by rebuilding the table
        batches = {
            "members": op.batch_alter_table("members", recreate="always"),
            "gifts": op.batch_alter_table(
                "gifts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ),
        }
        for table, batch_op in batches.items():
            with batch_op as batch:
                for name, column, target, on_delete in REFERENCES:
                    if name != table:
                        continue
                    batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
                    batch.create_foreign_key(
                        f"fk_{table}_{column}_{target}",
                        target,
                        [column],
                        ["id"],
                        ondelete=on_delete.removeprefix("ON DELETE ") or None,
                    )
                if table == "gifts":
                    for new in _new_gift_columns():
                        batch.add_column(new)
    op.create_index(PERSON_INDEX, "members", ["person_id"], unique=True)


GIFT_COLUMNS = (
    "wish_updated_at",
    "wish_version",
    "wish_withdrawn",
    "claimed_by",
    "created_by",
)


def downgrade() -> None:
    op.drop_index(PERSON_INDEX, table_name="members")
    if _on_postgresql():
        for column in GIFT_COLUMNS:
            op.drop_column("gifts", column)
        op.drop_column("members", "person_id")
        return
    with op.batch_alter_table(
        "gifts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        for column in GIFT_COLUMNS:
            batch.drop_column(column)
    with op.batch_alter_table("members", recreate="always") as batch:
        batch.drop_column("person_id")

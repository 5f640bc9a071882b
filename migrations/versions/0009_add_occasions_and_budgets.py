"""Occasions and budgets: tables occasions and budgets, and gifts.occasion_id.

What the family plans gifts for, and how much it means to spend on each
person at each.

- occasions: name, kind (native enum occasion_kind on PostgreSQL), date,
  repeats_yearly, person_id (whose birthday; ON DELETE SET NULL), version;
- budgets: (occasion_id, person_id) primary key, amount NUMERIC(10,2); both
  ON DELETE CASCADE, indexed by person too;
- gifts.occasion_id: nullable, ON DELETE SET NULL (the code unlinks first, so
  the gifts' ETags move), indexed by (occasion_id, created_at, id).

Locks (PostgreSQL): the two tables are new. ADD COLUMN (nullable) and ADD
CONSTRAINT ... NOT VALID on gifts change the catalogue only, whatever its
size; then, outside the migration's transaction (migrations/README, rule 3),
VALIDATE CONSTRAINT reads gifts without stopping writes and the index is
built CONCURRENTLY (an INVALID one left by a failed build is dropped first).
Every step checks whether it is done already, so after a failure (a lock
timeout) the migration runs again from where it stopped.
SQLite adds a foreign key only by rebuilding the table: gifts is copied (a
household's file is small); the index is built at once.

The downgrade drops the index (concurrently), the column (SQLite rebuilds
gifts: it cannot drop a column a foreign key names), both tables and the
enum type.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "ix_gifts_occasion_id_created_at_id"
FOREIGN_KEY = "fk_gifts_occasion_id_occasions"
KINDS = ("christmas", "birthday", "holiday", "other")


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def _create_tables() -> None:
    tables = set(_inspector().get_table_names())
    if "occasions" not in tables:
        op.create_table(
            "occasions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=120), nullable=False),
            sa.Column("kind", sa.Enum(*KINDS, name="occasion_kind"), nullable=False),
            sa.Column("date", sa.Date(), nullable=False),
            sa.Column(
                "repeats_yearly",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            ),
            sa.Column("person_id", sa.Integer(), nullable=True),
            sa.Column(
                "version", sa.Integer(), server_default=sa.text("1"), nullable=False
            ),
            sa.ForeignKeyConstraint(
                ["person_id"],
                ["people.id"],
                name="fk_occasions_person_id_people",
                ondelete="SET NULL",
            ),
            sa.PrimaryKeyConstraint("id", name="pk_occasions"),
            sqlite_autoincrement=True,
        )
        op.create_index("ix_occasions_person_id", "occasions", ["person_id"])
    if "budgets" not in tables:
        op.create_table(
            "budgets",
            sa.Column("occasion_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
            sa.ForeignKeyConstraint(
                ["occasion_id"],
                ["occasions.id"],
                name="fk_budgets_occasion_id_occasions",
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["person_id"],
                ["people.id"],
                name="fk_budgets_person_id_people",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("occasion_id", "person_id", name="pk_budgets"),
        )
        op.create_index("ix_budgets_person_id", "budgets", ["person_id"])


def _add_gift_column(postgresql: bool) -> None:
    columns = {column["name"] for column in _inspector().get_columns("gifts")}
    if "occasion_id" in columns:
        return
    if postgresql:
        op.add_column("gifts", sa.Column("occasion_id", sa.Integer(), nullable=True))
        op.execute(
            f"ALTER TABLE gifts ADD CONSTRAINT {FOREIGN_KEY} FOREIGN KEY "
            "(occasion_id) REFERENCES occasions (id) ON DELETE SET NULL NOT VALID"
        )
    else:  # SQLite adds a foreign key only by rebuilding the table
        with op.batch_alter_table(
            "gifts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.add_column(sa.Column("occasion_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                FOREIGN_KEY, "occasions", ["occasion_id"], ["id"], ondelete="SET NULL"
            )


def _drop_index() -> None:
    op.drop_index(
        INDEX, table_name="gifts", postgresql_concurrently=True, if_exists=True
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _create_tables()
    _add_gift_column(postgresql)
    with op.get_context().autocommit_block():
        if postgresql:
            op.execute(f"ALTER TABLE gifts VALIDATE CONSTRAINT {FOREIGN_KEY}")
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
            ["occasion_id", "created_at", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.get_context().autocommit_block():
        _drop_index()
    if postgresql:
        op.drop_column("gifts", "occasion_id")
    else:
        with op.batch_alter_table(
            "gifts", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.drop_column("occasion_id")
    op.drop_index("ix_budgets_person_id", table_name="budgets")
    op.drop_table("budgets")
    op.drop_index("ix_occasions_person_id", table_name="occasions")
    op.drop_table("occasions")
    if postgresql:
        sa.Enum(name="occasion_kind").drop(op.get_bind(), checkfirst=False)

"""SQLite: an FTS5 trigram index of gift names for search, kept by triggers.

PostgreSQL: nothing (0006's trigram index serves `search` there).

Without it every SQLite search read the whole table: at a million gifts a
rare term's first page took 117 ms of CPU, a term found nowhere 374 ms; with
it, a few milliseconds (README, "Search at a million gifts").

- gift_name_search: FTS5, tokenize='trigram', external content
  (content='gifts', content_rowid='id'): it holds the trigram index only,
  not a copy of the names (at a million gifts, 40 MB in a 383 MB file:
  28 MB of trigrams, 11 MB of FTS5's per-row sizes), and FTS5's 'rebuild'
  reads gifts itself (a contentless table could not rebuild);
- filled from the gifts present ('rebuild'), in this migration's
  transaction;
- triggers on gifts (after insert, after delete, after an update of name or
  id) change it in the same transaction as the write, whatever writes: the
  API, bulk changes, an import, a seed, plain SQL.

A later migration that rebuilds gifts (Alembic's batch mode, as 0007 and
0009 do) drops these triggers with the old table: migrations/env.py puts
them back and rebuilds the index after each migration that left them out
(restore_triggers below), in that migration's transaction.

An SQLite without FTS5 or its trigram tokenizer (before 3.34) gets nothing,
and searches keep reading the table (app/gifts/search.py checks).

Locks: SQLite's one writer lock, for the fill (4.0 s of CPU at a million
gifts, 20 s on the busy development machine; a household's file is
small). The downgrade drops the triggers and the table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

TABLE = "gift_name_search"
TRIGGERS = {
    "gifts_name_search_insert": f"""
        CREATE TRIGGER gifts_name_search_insert AFTER INSERT ON gifts BEGIN
            INSERT INTO {TABLE} (rowid, name) VALUES (new.id, new.name);
        END""",
    "gifts_name_search_delete": f"""
        CREATE TRIGGER gifts_name_search_delete AFTER DELETE ON gifts BEGIN
            INSERT INTO {TABLE} ({TABLE}, rowid, name)
            VALUES ('delete', old.id, old.name);
        END""",
    "gifts_name_search_update": f"""
        CREATE TRIGGER gifts_name_search_update AFTER UPDATE OF name, id ON gifts
        WHEN old.name IS NOT new.name OR old.id IS NOT new.id BEGIN
            INSERT INTO {TABLE} ({TABLE}, rowid, name)
            VALUES ('delete', old.id, old.name);
            INSERT INTO {TABLE} (rowid, name) VALUES (new.id, new.name);
        END""",
}


def _fts5_trigram(connection: sa.Connection) -> bool:
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(
                "CREATE VIRTUAL TABLE temp.fts5_trigram_probe"
                " USING fts5(x, tokenize='trigram')"
            )
            connection.exec_driver_sql("DROP TABLE temp.fts5_trigram_probe")
    except sa.exc.OperationalError as error:
        log.warning("no FTS5 trigram index for search: %s", error)
        return False
    return True


def restore_triggers(connection: sa.Connection) -> bool:
    """Create the triggers missing and rebuild the index; True if any was."""
    present = {
        name
        for (name,) in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    missing = [sql for name, sql in TRIGGERS.items() if name not in present]
    for sql in missing:
        connection.exec_driver_sql(sql)
    if missing:
        connection.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('rebuild')")
    return bool(missing)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite" or not _fts5_trigram(connection):
        return
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(name,"
        " content='gifts', content_rowid='id', tokenize='trigram')"
    )
    for name in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    restore_triggers(connection)  # and fills the index


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")

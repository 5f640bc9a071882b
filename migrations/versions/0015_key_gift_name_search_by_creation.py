"""SQLite: the search index keyed by creation, so newest first reads it in order.

PostgreSQL: nothing (0006's trigram index serves `search` there).

0010's FTS5 index names each match by its gift's id, and ids are random: a
page newest first of a term in many names had to check names one by one in
creation order, or read every match and sort them. At 1 000 000 gifts,
"gift 1" (in 111 000 names, the newest of them 800 000 gifts back, bench/
shapes.py) cost 93-150x the plain first page. FTS5 returns its matches in
rowid order: this index's rowid is the gift's creation second and its id,
both counted down, so that the newest gift has the smallest key,

    ((2^32 - 1 - unixepoch(created_at)) << 31) | (2^31 - 1 - id)

(ids are below 2^31, app/ids.py; the second is clamped to 0 ... 2^32 - 1, so
the key fits 63 bits), and the newest 102 matches of "gift 1" take 0.1 ms
(app/gifts/search.py, ``newest``). Counted down, because FTS5 reads an
index in descending rowid order by walking each long list from its start:
with the second counted up, the same 102 took 7.6 ms once the index was one
segment ('optimize'), 0.7 ms before. The creation second orders the keys;
the exact order within a second is the page's own (created_at, id).

- gift_name_trigrams: FTS5, tokenize='trigram', contentless (content=''):
  like 0010's external-content index it holds the trigrams only, not the
  names, and no per-row sizes either (columnsize=0: they serve ranking, which
  no search asks for). At a million gifts (bench/shapes.py's): 64 MB, where
  0010's took 57 (44 of trigrams, 13 of sizes): its keys are larger numbers,
  so the gaps FTS5 stores between them take longer varints. The key is no
  column of gifts, so FTS5 cannot read gifts by it ('rebuild'): it is
  filled, and refilled, by INSERT ... SELECT (``fill``);
- triggers on gifts (after insert, after delete, after an update of name,
  id or created_at) change it in the same transaction as the write; a
  delete names the old key and name (FTS5's 'delete' of a contentless
  table);
- 0010's index and triggers are dropped: one index, one write, as before.
  The previous release checks for 0010's index and, without it, reads the
  names instead (app/gifts/search.py, then): the same answers, slower,
  while both releases serve (migrations/README).

As for 0010, a later migration that rebuilds gifts drops the triggers with
the old table: migrations/env.py puts them back and refills the index
(``restore_triggers``).

Locks: SQLite's one writer lock, for the fill (2.6 s at a million gifts,
``fill``). The downgrade puts 0010's index and triggers back and fills it
('rebuild', 13.7 s there), then drops these.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "gift_name_trigrams"


def key(row: str) -> str:
    """The index's rowid for ``row`` (``new`` or ``old``) of gifts, in SQL."""
    second = f"CAST(strftime('%s', {row}.created_at) AS INTEGER)"
    clamped = f"max(0, min(4294967295, coalesce({second}, 0)))"
    return f"(((4294967295 - {clamped}) << 31) | (2147483647 - {row}.id))"


TRIGGERS = {
    "gifts_name_trigrams_insert": f"""
        CREATE TRIGGER gifts_name_trigrams_insert AFTER INSERT ON gifts BEGIN
            INSERT INTO {TABLE} (rowid, name) VALUES ({key("new")}, new.name);
        END""",
    "gifts_name_trigrams_delete": f"""
        CREATE TRIGGER gifts_name_trigrams_delete AFTER DELETE ON gifts BEGIN
            INSERT INTO {TABLE} ({TABLE}, rowid, name)
            VALUES ('delete', {key("old")}, old.name);
        END""",
    "gifts_name_trigrams_update": f"""
        CREATE TRIGGER gifts_name_trigrams_update
        AFTER UPDATE OF name, id, created_at ON gifts
        WHEN old.name IS NOT new.name OR old.id IS NOT new.id
            OR old.created_at IS NOT new.created_at BEGIN
            INSERT INTO {TABLE} ({TABLE}, rowid, name)
            VALUES ('delete', {key("old")}, old.name);
            INSERT INTO {TABLE} (rowid, name) VALUES ({key("new")}, new.name);
        END""",
}


def _revision_0010():
    """0010's module: its index, its triggers, its check for FTS5."""
    return op.get_context().script.get_revision("0010").module


def fill(connection: sa.Connection) -> None:
    """Empty the index, index every gift in key order, and merge what that
    wrote into one segment ('optimize': 67 -> 64 MB at a million gifts). In
    key order, because FTS5 appends ascending rowids: at a million gifts the
    fill took 1.9 s so, 10.9 s in the gifts' (random) id order; 'optimize'
    0.7 s; 0010's 'rebuild' 13.7 s on the same machine."""
    connection.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('delete-all')")
    connection.exec_driver_sql(
        f"INSERT INTO {TABLE} (rowid, name)"
        f" SELECT {key('gifts')}, name FROM gifts ORDER BY 1"
    )
    connection.exec_driver_sql(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")


def restore_triggers(connection: sa.Connection) -> bool:
    """Create the triggers missing and refill the index; True if any was."""
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
        fill(connection)
    return bool(missing)


def upgrade() -> None:
    connection = op.get_bind()
    old = _revision_0010()
    if connection.dialect.name != "sqlite" or not old._fts5_trigram(connection):
        return
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(name,"
        " content='', columnsize=0, tokenize='trigram')"
    )
    for name in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    restore_triggers(connection)  # and fills the index
    for name in old.TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {old.TABLE}")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    _revision_0010().upgrade()  # its index, filled, where FTS5 has trigrams
    for name in TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")

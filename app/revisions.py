"""Which database revisions this code serves.

A deploy meets one database with two versions of the code: the old code
keeps serving while `flask db upgrade` runs, and the new code may start
before the upgrade ends (an index build can take minutes). So this code
serves any revision from OLDEST_SERVED_REVISION on, and revisions it does not
know: migrations of a newer release, which keep the previous release working
(migrations/README, "Serving old and new code at once").
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import Config

# The oldest revision that has every table and column this code reads or
# writes. A migration adding one the code uses moves it to that migration; one
# adding only what the code does not need (0006: an index) leaves it.
OLDEST_SERVED_REVISION = "0009"


@cache
def _scripts(directory: str) -> ScriptDirectory:
    """migrations/, read once: it changes on deploy only."""
    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config)


def head_revisions(directory: str) -> frozenset[str]:
    """The newest revision(s) of migrations/."""
    return frozenset(_scripts(directory).get_heads())


def database_revisions(connection: sa.Connection) -> set[str]:
    """The revision(s) the database is at (alembic_version)."""
    query = sa.text("SELECT version_num FROM alembic_version")
    return set(connection.scalars(query))


@cache
def _too_old(directory: str) -> frozenset[str]:
    """Revisions of migrations/ older than OLDEST_SERVED_REVISION."""
    scripts = _scripts(directory)
    older = scripts.iterate_revisions(OLDEST_SERVED_REVISION, "base")
    return frozenset(script.revision for script in older) - {OLDEST_SERVED_REVISION}


def unserved(found: set[str], directory: str) -> str | None:
    """Why this code cannot serve a database at ``found`` (the rows of
    alembic_version), or None if it can."""
    too_old = found & _too_old(directory)
    if found and not too_old:
        return None
    return (
        f"The database is at {sorted(found) or 'no revision'}; this code needs "
        f"{OLDEST_SERVED_REVISION} or newer: run `flask db upgrade`."
    )

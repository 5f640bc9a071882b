"""Column types and defaults shared by every table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp that always comes back timezone-aware in UTC.

    SQLite keeps no zone, so a naive value read back is UTC by construction.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is not None and dialect.name == "sqlite":
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


ONLY_ON_DIALECT = "only_on_dialect"


def only_on(dialect: str, index: sa.Index) -> sa.Index:
    """``index`` exists on ``dialect`` only: its DDL runs there alone, and
    migrations/env.py leaves it out of autogenerate's comparison elsewhere."""
    index.info[ONLY_ON_DIALECT] = dialect
    return index.ddl_if(dialect=dialect)

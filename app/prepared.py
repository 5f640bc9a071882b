"""Hot reads run straight on the database driver's cursor: the one place that
reaches past SQLAlchemy's Connection.

``Connection.execute`` of a cached statement still looks the compiled form
up by its cache key, builds an execution context and a ``CursorResult`` with
its metadata, and wraps a ``Connection`` around the pooled one: about 50 µs
of CPU a statement (of GET one gift's 80 µs in the database layer; the
driver's own execute and fetch take 15). ``Prepared`` does only what that
statement needs: compiled once per dialect by SQLAlchemy itself, its bind
processors and result processors (SQLAlchemy's own, picked once from the
cursor's description as ``CursorResult`` picks them), run on a pooled DBAPI
connection. Measured in-process (SQLite): reading one gift 133 -> 47 µs
(best of 5 timeit batches of 3000, interleaved), GET one gift's WSGI call
386 -> 280 µs of CPU (median of 6 interleaved rounds of 1000).

Only what it can run exactly: statements without expanding or
literal-execute parameters, and no schema translation (others run through
``Connection.execute``). A read on its own (``first``) takes a pooled
connection; anything the driver raises then takes SQLAlchemy's path: the
read runs again through ``Connection.execute``, so errors are SQLAlchemy's
(wrapped, connections invalidated, ``handle_error`` events fired) and a read
that fails there fails as it always did. A write (``first_on``) runs in the
transaction of a ``Connection`` it is given, which handles the driver's
error as its own ``execute`` would (``_handle_dbapi_exception``): a write is
never run twice.
tests/test_prepared.py checks the rows are the library's own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from app.dump_schemas import Row


class _Plan:
    """A statement compiled for one dialect, with what running it needs."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.runnable = not (
            compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.schema_translate_map
        )
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = tuple(compiled.positiontup or ())
        self.escaped = dict(compiled.escaped_bind_names or {})
        self.bind_processors = dict(compiled._bind_processors)
        columns = compiled._result_columns
        self.keys = tuple(column[0] for column in columns)
        self.types = tuple(column[3] for column in columns)
        self.result_processors: tuple[Any, ...] | None = None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters, as ``_init_compiled`` makes them."""
        params = self.compiled.construct_params(values, escape_names=False)
        processors = self.bind_processors
        if self.positional:
            return tuple(
                processors[name](params[name]) if name in processors else params[name]
                for name in self.names
            )
        escaped = self.escaped
        return {
            escaped.get(name, name): (
                processors[name](value) if name in processors else value
            )
            for name, value in params.items()
        }

    def processors(self, dialect: sa.Dialect, cursor: Any) -> tuple[Any, ...]:
        """The result processors, as ``CursorResultMetaData`` picks them from
        the description of the statement's first run on ``cursor``; cached.
        Only that run reads the description: psycopg builds it anew on every
        read (23 column objects, 17 us, for a gift)."""
        if self.result_processors is None:
            self.result_processors = tuple(
                type_._cached_result_processor(dialect, column[1])
                for type_, column in zip(self.types, cursor.description, strict=True)
            )
        return self.result_processors

    def row(self, processors: tuple[Any, ...], found: Any) -> Row:
        """The driver's row ``found`` as a ``Row`` of the result's keys, each
        value through its result processor."""
        return Row(
            zip(
                self.keys,
                [
                    value if process is None else process(value)
                    for process, value in zip(processors, found, strict=True)
                ],
                strict=True,
            )
        )


class Prepared:
    """A select run on the DBAPI cursor (see the module's docstring)."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}
        self._lock = threading.Lock()

    def _plan(self, dialect: sa.Dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            with self._lock:
                plan = self._plans.setdefault(
                    dialect.name, _Plan(self.statement, dialect)
                )
        return plan

    def first(self, engine: sa.Engine, values: Mapping[str, Any]) -> Row | None:
        """The first row (a ``Row``: a dict of the result's keys), or None."""
        dialect = engine.dialect
        plan = self._plan(dialect)
        if plan.runnable:
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    cursor.execute(plan.sql, plan.parameters(values))
                    found = cursor.fetchone()
                    if found is not None:
                        processors = plan.processors(dialect, cursor)
                finally:
                    cursor.close()
            except dialect.loaded_dbapi.Error as error:
                if dialect.is_disconnect(error, raw.dbapi_connection, None):
                    raw.invalidate(error)
                raw.close()
            else:
                raw.close()
                return plan.row(processors, found) if found is not None else None
        # SQLAlchemy's own path: a statement it cannot run, or the driver's error.
        with engine.connect() as connection:
            return self._library_first(connection, values)

    def _library_first(
        self, connection: sa.Connection, values: Mapping[str, Any]
    ) -> Row | None:
        """The first row through ``Connection.execute``: SQLAlchemy's own path."""
        row = connection.execute(self.statement, values).mappings().first()
        return None if row is None else Row(row)

    def first_on(self, connection: sa.Connection, values: Mapping[str, Any]) -> Any:
        """The first row, run on the driver's cursor of ``connection`` (its
        transaction, if it is in one): for writes. A driver error is handed to
        ``connection``, which wraps it, fires ``handle_error`` and invalidates
        a lost connection as its own ``execute`` does; nothing runs twice."""
        dialect = connection.dialect
        plan = self._plan(dialect)
        if not plan.runnable:
            return self._library_first(connection, values)
        parameters = plan.parameters(values)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(plan.sql, parameters)
            rows = cursor.fetchall()
            if rows:
                processors = plan.processors(dialect, cursor)
        except dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(
                error, plan.sql, parameters, cursor, None
            )
        finally:
            cursor.close()
        return plan.row(processors, rows[0]) if rows else None

"""Backups: everything a household owns as one versioned JSON file, and back.

``SECTIONS`` is the registry: one entry per table, parents before the tables
that refer to them. A new table joins the file with one entry: its name in the
file, its table, the load schema that validates a record, the columns that
hold secrets (password and token hashes), which are written only when asked
with ``--include-secret-hashes``, the columns unique in the table, and the
columns that refer to another section's ids.

An import goes through the same validation as the API (each section's load
schema), all or nothing, into an empty database, keeping ids and timestamps,
and then moves each id sequence past the imported ids.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import orjson
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import Connection

from app.access.schemas import AccessTokenRecordSchema, MemberRecordSchema
from app.database import household_engine
from app.gifts.schemas import (
    GiftListRecordSchema,
    GiftRecipientRecordSchema,
    GiftRecordSchema,
)
from app.lists.schemas import ListRecordSchema
from app.models import (
    AccessToken,
    Gift,
    GiftList,
    Member,
    Occasion,
    Person,
    budgets,
    gift_lists,
    gift_recipients,
)
from app.occasions.schemas import BudgetRecordSchema, OccasionRecordSchema
from app.people.schemas import PersonRecordSchema
from app.revisions import database_revisions, head_revisions
from app.sqlite_writers import writer_lock

FORMAT = "gifts-api-backup"
VERSION = 1
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class Section:
    """One table of the backup file."""

    name: str
    table: sa.Table
    schema: Callable[[], ma.Schema]
    # Columns written only with --include-secret-hashes; a section whose every
    # record is a secret (access tokens) sets ``secret_section``.
    secret_columns: tuple[str, ...] = ()
    secret_section: bool = False
    # Columns no two records may share (besides the key), and columns holding
    # the id of a record of another section (null: none), checked before any
    # write so a bad file is a list of problems, not a database error.
    unique: tuple[str, ...] = ()
    references: tuple[tuple[str, str], ...] = ()

    def columns(self, secrets: bool) -> list[sa.Column[Any]]:
        return [
            column
            for column in self.table.columns
            if secrets or column.name not in self.secret_columns
        ]


SECTIONS: tuple[Section, ...] = (
    Section("people", Person.__table__, PersonRecordSchema),
    Section(
        "members",
        Member.__table__,
        MemberRecordSchema,
        secret_columns=("password_hash",),
        unique=("name", "email_key", "person_id"),
        references=(("person_id", "people"),),
    ),
    Section(
        "access_tokens",
        AccessToken.__table__,
        AccessTokenRecordSchema,
        secret_section=True,
        unique=("token_hash",),
        references=(("member_id", "members"),),
    ),
    Section(
        "lists",
        GiftList.__table__,
        ListRecordSchema,
        references=(("person_id", "people"),),
    ),
    Section(
        "occasions",
        Occasion.__table__,
        OccasionRecordSchema,
        references=(("person_id", "people"),),
    ),
    Section(
        "gifts",
        Gift.__table__,
        GiftRecordSchema,
        references=(
            ("created_by", "members"),
            ("claimed_by", "members"),
            ("occasion_id", "occasions"),
        ),
    ),
    Section(
        "gift_recipients",
        gift_recipients,
        GiftRecipientRecordSchema,
        references=(("gift_id", "gifts"), ("person_id", "people")),
    ),
    Section(
        "gift_lists",
        gift_lists,
        GiftListRecordSchema,
        references=(("gift_id", "gifts"), ("list_id", "lists")),
    ),
    Section(
        "budgets",
        budgets,
        BudgetRecordSchema,
        references=(("occasion_id", "occasions"), ("person_id", "people")),
    ),
)


class BackupError(Exception):
    """The file cannot be imported; nothing was changed. Says where and why."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_REPORTED_ERRORS]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more")
        super().__init__("\n".join(shown))
        self.problems = problems


def _sections(secrets: bool) -> Iterator[Section]:
    return (s for s in SECTIONS if secrets or not s.secret_section)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        # NUMERIC(10,2): at most 12 significant digits, so the float's shortest
        # repr is exactly the decimal.
        return float(value)
    return value


def export_data(include_secret_hashes: bool = False) -> dict[str, Any]:
    """Every record of every section, in id order, from one snapshot."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "includes_secret_hashes": include_secret_hashes,
    }
    with household_engine() as engine, engine.connect() as connection:
        # One snapshot for every section, so a reference never dangles.
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if connection.dialect.name == "sqlite":
                # pysqlite starts no transaction for reads: each SELECT would
                # see the database as it is then. A read transaction holds one.
                connection.exec_driver_sql("BEGIN")
            require_newest_migration(connection)
            for section in _sections(include_secret_hashes):
                columns = section.columns(include_secret_hashes)
                query = sa.select(*columns).order_by(*section.table.primary_key)
                data[section.name] = [
                    # str(): a plain Table's column names are quoted_name,
                    # a str subclass orjson refuses as a key.
                    {str(key): _json_value(value) for key, value in row.items()}
                    for row in connection.execute(query).mappings()
                ]
    return data


def dumps(data: dict[str, Any]) -> bytes:
    """The file's bytes: indented (a backup is read by people too), one newline."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def _messages(where: str, messages: Any) -> Iterator[str]:
    """marshmallow's nested messages as ``gifts[3].price: At most two decimals.``"""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _messages(where if key == "_schema" else f"{where}.{key}", value)
    elif isinstance(messages, list):
        for message in messages:
            yield from _messages(where, message)
    else:
        yield f"{where}: {messages}"


def parse(raw: bytes) -> dict[str, list[dict[str, Any]]]:
    """Check the whole file; the records, loaded, by section. Raise BackupError
    naming every damaged place (up to a limit) if anything is wrong."""
    try:
        # Fractions as Decimal: a third decimal is seen, not rounded away.
        data = json.loads(raw, parse_float=decimal.Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError([f"not a JSON file: {error}"]) from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError([f'format: not a Gifts API backup (expected "{FORMAT}")'])
    if data.get("version") != VERSION:
        raise BackupError(
            [
                f"version: {data.get('version')!r} is not one this release reads "
                f"({VERSION})"
            ]
        )
    secrets = data.get("includes_secret_hashes") is True
    sections = list(_sections(secrets))
    known = {"format", "version", "includes_secret_hashes"}
    known |= {section.name for section in sections}
    problems = []
    for key in data.keys() - known:
        secret = any(key == s.name and s.secret_section for s in SECTIONS)
        problems.append(
            f"{key}: Holds secret hashes, but includes_secret_hashes is not true."
            if secret
            else f"{key}: Unknown section."
        )
    loaded: dict[str, list[dict[str, Any]]] = {}
    for section in sections:
        records = data.get(section.name, [])
        if not isinstance(records, list):
            problems.append(f"{section.name}: Not a list.")
            continue
        schema = section.schema()
        loaded[section.name] = []
        for index, record in enumerate(records):
            where = f"{section.name}[{index}]"
            if not secrets and isinstance(record, dict):
                problems += [
                    f"{where}.{key}: A secret hash, but includes_secret_hashes "
                    "is not true."
                    for key in sorted(record.keys() & set(section.secret_columns))
                ]
            try:
                loaded[section.name].append(schema.load(record))
            except ma.ValidationError as error:
                problems += _messages(where, error.normalized_messages())
        key = [column.name for column in section.table.primary_key]
        keys = [
            tuple(record.get(name) for name in key) for record in loaded[section.name]
        ]
        if len(keys) != len(set(keys)):
            problems.append(f"{section.name}: The same {', '.join(key)} appears twice.")
        for column in section.unique:
            values = [r[column] for r in loaded[section.name] if r.get(column)]
            if len(values) != len(set(values)):
                problems.append(f"{section.name}: The same {column} appears twice.")
    problems += _dangling(sections, loaded)
    if problems:
        raise BackupError(problems)
    return loaded


def _dangling(
    sections: list[Section], loaded: dict[str, list[dict[str, Any]]]
) -> Iterator[str]:
    """A problem for each reference to an id the file does not hold."""
    for section in sections:
        for column, target in section.references:
            ids = {record["id"] for record in loaded.get(target, [])}
            for index, record in enumerate(loaded.get(section.name, [])):
                value = record.get(column)
                if value is not None and value not in ids:
                    yield (
                        f"{section.name}[{index}].{column}: No record of {target} "
                        f"has id {value}."
                    )


def _move_sequence(connection: Connection, table: sa.Table) -> None:
    """Let the next insert take an id past every imported one."""
    if "id" not in table.c:
        return  # a link table: its key is the pair it links
    highest = sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))
    if connection.dialect.name == "postgresql":
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        next_id = highest.scalar_subquery() + 1
        connection.execute(sa.select(sa.func.setval(sequence, next_id, False)))
    elif table.dialect_options["sqlite"].get("autoincrement"):
        # SQLite moves sqlite_sequence itself when an insert names a larger
        # id; this makes sure of it.
        connection.execute(
            sa.text("UPDATE sqlite_sequence SET seq = max(seq, :id) WHERE name = :t"),
            {"id": connection.scalar(highest), "t": table.name},
        )


def require_newest_migration(connection: Connection) -> None:
    """A backup is written and read at the newest migration only."""
    heads = head_revisions(current_app.config["MIGRATIONS_DIRECTORY"])
    try:
        current = database_revisions(connection)
    except sa.exc.DBAPIError:  # no alembic_version: never migrated
        current = set()
    if current != heads:
        raise BackupError(
            ["the database is not at the newest migration: run `flask db upgrade`"]
        )


def import_data(loaded: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Insert every record in one transaction into an empty database; return
    the count per section. Raise BackupError (nothing changed) if not empty.
    On SQLite it queues with the server's writers (app.sqlite_writers)."""
    with (
        household_engine() as engine,
        writer_lock(engine),
        engine.begin() as connection,
    ):
        require_newest_migration(connection)
        holding = [
            section.name
            for section in SECTIONS
            if connection.scalar(sa.select(sa.func.count()).select_from(section.table))
        ]
        if holding:
            raise BackupError(
                [
                    f"the database already holds {', '.join(holding)}: "
                    "import into an empty database (`flask db upgrade` on a new one)"
                ]
            )
        counts = {}
        for section in SECTIONS:
            records = loaded.get(section.name, [])
            # One executemany per run of records with the same fields (a
            # record may leave out fields that have a default).
            for _, run in itertools.groupby(records, key=lambda r: sorted(r)):
                connection.execute(sa.insert(section.table), list(run))
            _move_sequence(connection, section.table)
            counts[section.name] = len(records)
    return counts

"""Reads and writes of gifts: one transaction per call, atomic under concurrency.

A change of columns by a member with no person is a single conditional
statement (UPDATE/DELETE ... WHERE id AND version), never a read-modify-write
of the whole row: two edits of different fields both survive, and a stale
``If-Match`` is caught by the database itself. Every other change (links,
claims, a linked member's, bulk) locks its rows first and is checked against
them (app/gifts/guarded.py); it too writes only the columns sent.

Statements run on a pooled connection with SQLAlchemy Core and return rows as
mappings: a request needs no ORM unit of work, and skipping it makes a read
about four times cheaper (see ``make bench``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.datastructures import ETags

from app import etags, ids
from app.gifts.links import apply_link_changes, link_columns, link_ids
from app.models import Gift, Occasion, utcnow
from app.prepared import Prepared
from app.transactions import (
    NotFound,
    PreconditionFailed,
    UnknownIds,
    autocommit,
    check_ids,
    read_engine,
    retry_read,
    transaction,
)
from app.visibility import (
    WISH_SEEN,
    Viewer,
    hidden_list_ids,
    visible_to,
    wish_view,
)
from app.wishes import present

gifts = Gift.__table__
occasions = Occasion.__table__


class Forbidden(Exception):
    """The asker may not make this change (403); the message says why."""


class Conflict(Exception):
    """Another member holds the claim on these gifts (409)."""

    def __init__(self, gift_ids: Sequence[int]) -> None:
        super().__init__(gift_ids)
        self.gift_ids = list(gift_ids)


def read_columns(dialect: str, viewer: Viewer) -> tuple[Any, ...]:
    """A gift's columns and links as ``viewer`` may read them; for a linked
    member also whether the row is seen through the wish view."""
    columns: tuple[Any, ...] = (gifts, *link_columns(dialect, viewer.person_id))
    if viewer.linked:
        columns += (wish_view(viewer).label("wish_view"),)
    return columns


@lru_cache(maxsize=64)
def _by_id(dialect: str, viewer: Viewer) -> sa.Select[Any]:
    return sa.select(*read_columns(dialect, viewer)).where(
        gifts.c.id == sa.bindparam("gift_id"), visible_to(viewer)
    )


@lru_cache(maxsize=64)
def _read_by_id(dialect: str, viewer: Viewer) -> Prepared:
    """``_by_id`` run on the driver's cursor (app/prepared.py)."""
    return Prepared(_by_id(dialect, viewer))


def read_gifts(
    connection: Connection, ids: Sequence[int], viewer: Viewer
) -> dict[int, Mapping[str, Any]]:
    """These gifts as ``viewer`` sees them, by id (after a change they made)."""
    statement = _by_ids(connection.dialect.name, viewer)
    rows = connection.execute(statement, {"gift_ids": sorted(ids)}).mappings()
    return {row["id"]: present(row, viewer) for row in rows}


@lru_cache(maxsize=64)
def _by_ids(dialect: str, viewer: Viewer) -> sa.Select[Any]:
    """Built once per viewer, as ``_by_id`` is."""
    return sa.select(*read_columns(dialect, viewer)).where(
        gifts.c.id.in_(sa.bindparam("gift_ids", expanding=True))
    )


def split(changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(column changes, link changes) of a change."""
    columns = {k: v for k, v in changes.items() if k in gifts.c}
    links = {k: v for k, v in changes.items() if k not in gifts.c}
    return columns, links


def etag(gift: Mapping[str, Any]) -> str:
    """A strong validator: version and updated_at move with every change (a
    wish view's own version and time: with every change its wisher sees)."""
    return etags.etag(gift)


@retry_read
def get_gift(gift_id: int, viewer: Viewer) -> Mapping[str, Any]:
    engine = read_engine()
    gift = _read_by_id(engine.dialect.name, viewer).first(engine, {"gift_id": gift_id})
    if gift is None:
        raise NotFound([gift_id])
    return present(gift, viewer)


def check_link_ids(
    connection: Connection, changes: dict[str, Any], viewer: Viewer
) -> set[int]:
    """Raise ``UnknownIds`` unless every id the change names (its links, its
    occasion) exists for ``viewer`` (their planning lists do not); return
    those planning lists."""
    links = split(changes)[1]
    wanted = link_ids(links)
    if changes.get("occasion_id") is not None:
        wanted["occasion_id"] = (occasions, "occasion", {changes["occasion_id"]})
    hidden: set[int] = set()
    if viewer.linked and links:
        hidden = set(connection.scalars(hidden_list_ids(viewer)))
    unknown: dict[str, tuple[str, list[int]]] = {}
    try:
        check_ids(connection, wanted)
    except UnknownIds as error:
        unknown = dict(error.unknown)
    for key in ("list_ids", "add_list_ids"):
        if key in wanted and (named := wanted[key][2] & hidden):
            missing = unknown.get(key, ("list", []))[1]
            unknown[key] = ("list", sorted({*missing, *named}))
    if unknown:
        raise UnknownIds(unknown)
    return hidden


def create_gift(fields: dict[str, Any], viewer: Viewer) -> Mapping[str, Any]:
    """A new gift by ``viewer``, with its recipients and lists if ``fields``
    name them, under a random id."""
    columns, links = split(fields)
    now = utcnow()
    values = {
        **columns,
        "created_by": viewer.id or None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "wish_version": 1,
        "wish_updated_at": now,
    }
    # Without links (or an occasion to check) the writes are atomic by
    # themselves; for a member with no person, one statement writes the gift
    # and returns it.
    checked = links or fields.get("occasion_id") is not None
    if not checked and not viewer.linked:
        with autocommit(write=True) as connection:
            statement = _insert_returning(connection.dialect.name)
            return ids.insert_with(connection, statement, values)
    with transaction() if checked else autocommit(write=True) as connection:
        hidden = check_link_ids(connection, fields, viewer)
        gift_id = ids.insert(connection, gifts, values)["id"]
        apply_link_changes(connection, [gift_id], links, hidden)
        return read_gifts(connection, [gift_id], viewer)[gift_id]


@lru_cache(maxsize=4)
def _insert_returning(dialect: str) -> sa.Insert:
    """The INSERT of a gift with no links, returning it as a member with no
    person (who sees every gift as it is) reads it. Reading it back in a
    second statement, inside SQLite's writer lock, made a POST (in-process,
    the test client) 1 200 -> 1 100 µs on SQLite, 1 670 -> 1 360 on
    PostgreSQL. Built once."""
    return ids.insert_statement(dialect, gifts).returning(gifts, *link_columns(dialect))


def _versions(gift_id: int, if_match: ETags | None) -> list[Any] | None:
    """The (version, updated_at) states an If-Match accepts; None when any
    state will do."""
    if if_match is None or if_match.star_tag:
        return None
    return etags.states(gift_id, if_match.as_set())


def _where(versioned: bool, viewer: Viewer) -> Any:
    """This gift, if ``viewer`` sees it; if ``versioned``, only while its
    version is an accepted one."""
    condition = (gifts.c.id == sa.bindparam("gift_id")) & visible_to(viewer)
    if versioned:
        state = sa.tuple_(gifts.c.version, gifts.c.updated_at)
        condition &= state.in_(sa.bindparam("versions", expanding=True))
    return condition


def _set(columns: tuple[str, ...]) -> dict[str, Any]:
    """The SET clause of a change of these columns: every change moves
    ``updated_at`` and the version (and so the ETag); the wish view's own
    version and time move only when a column its wisher sees takes another
    value (compared in the statement, so concurrent changes count right)."""
    values: dict[str, Any] = {
        name: sa.bindparam(f"set_{name}", type_=gifts.c[name].type)
        for name in (*columns, "updated_at")
    }
    values["version"] = gifts.c.version + 1
    if seen := [name for name in columns if name in WISH_SEEN]:
        changed = sa.or_(
            *(gifts.c[name].is_distinct_from(values[name]) for name in seen)
        )
        values["wish_version"] = gifts.c.wish_version + sa.case((changed, 1), else_=0)
        values["wish_updated_at"] = sa.case(
            (changed, values["updated_at"]), else_=gifts.c.wish_updated_at
        )
    return values


def set_parameters(changes: dict[str, Any]) -> dict[str, Any]:
    parameters = {f"set_{name}": value for name, value in changes.items()}
    parameters["set_updated_at"] = utcnow()
    return parameters


def update_columns(
    connection: Connection, gift_ids: Sequence[int], columns: dict[str, Any]
) -> None:
    """Write these columns of these gifts (already locked and checked)."""
    statement = (
        sa.update(gifts)
        .where(gifts.c.id.in_(sorted(gift_ids)))
        .values(_set(tuple(sorted(columns))))
    )
    connection.execute(statement, set_parameters(columns))


@lru_cache(maxsize=512)
def _update_statement(
    columns: tuple[str, ...], versioned: bool, viewer: Viewer, dialect: str
) -> sa.Update:
    """UPDATE of just these columns, built once per shape: building and
    caching-key a statement each request cost more than running it."""
    return (
        sa.update(gifts)
        .where(_where(versioned, viewer))
        .values(_set(columns))
        .returning(*read_columns(dialect, viewer))
    )


@lru_cache(maxsize=512)
def _prepared_update(
    columns: tuple[str, ...], versioned: bool, viewer: Viewer, dialect: str
) -> Prepared:
    """``_update_statement`` run on the driver's cursor (app/prepared.py)."""
    return Prepared(_update_statement(columns, versioned, viewer, dialect))


def _parameters(gift_id: int, versions: list[int] | None) -> dict[str, Any]:
    parameters: dict[str, Any] = {"gift_id": gift_id}
    if versions is not None:
        parameters["versions"] = versions
    return parameters


def _write_failed(
    connection: Connection, gift_id: int, viewer: Viewer, if_match: ETags | None
) -> Exception:
    """Tell a missing gift (or one ``viewer`` may not see) from a stale ETag,
    after a write touched no row.

    ``If-Match: *`` asks that the gift exist: on a missing one it fails (412,
    RFC 9110 section 13.1.1) -- and so on one ``viewer`` may not see, which
    must answer what a missing gift answers.
    """
    exists = connection.scalar(
        sa.select(gifts.c.id).where(gifts.c.id == gift_id, visible_to(viewer))
    )
    if exists or (if_match is not None and if_match.star_tag):
        return PreconditionFailed()
    return NotFound([gift_id])


def plain_change(viewer: Viewer, changes: dict[str, Any]) -> bool:
    """A change one conditional UPDATE makes (the fast path): some columns, no
    claim or occasion (an id to check), by a member with no wishes (no
    person) to check it against."""
    return (
        bool(changes)
        and not viewer.linked
        and not any(
            key not in gifts.c or key in ("claimed_by", "occasion_id")
            for key in changes
        )
    )


def update_gift(
    gift_id: int,
    changes: dict[str, Any],
    viewer: Viewer,
    if_match: ETags | None = None,
) -> Mapping[str, Any]:
    """Apply a plain change (``plain_change``): one conditional UPDATE of
    only the columns sent. Every other change is app/gifts/guarded.py's."""
    versions = _versions(gift_id, if_match)
    shape = (tuple(sorted(changes)), versions is not None, viewer)
    parameters = _parameters(gift_id, versions) | set_parameters(changes)
    with autocommit(write=True) as connection:
        prepared = _prepared_update(*shape, connection.dialect.name)
        gift = prepared.first_on(connection, parameters)
        if gift is None:
            raise _write_failed(connection, gift_id, viewer, if_match)
        return gift


def delete_gift(gift_id: int, viewer: Viewer, if_match: ETags | None = None) -> None:
    """Delete the gift, for a member with no person (who has no wishes)."""
    versions = _versions(gift_id, if_match)
    statement = sa.delete(gifts).where(_where(versions is not None, viewer))
    with autocommit(write=True) as connection:
        result = connection.execute(statement, _parameters(gift_id, versions))
        if result.rowcount == 0:
            raise _write_failed(connection, gift_id, viewer, if_match)

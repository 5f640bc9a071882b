"""Reads and writes of gifts: one transaction per call, atomic under concurrency.

Every write is a single conditional statement (UPDATE/DELETE ... WHERE id AND
version), never a read-modify-write of the whole row: two edits of different
fields both survive, and a stale ``If-Match`` is caught by the database itself.
A bulk change first locks its rows in id order, so two never deadlock.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError

from app.extensions import db
from app.gifts.schemas import STORABLE_TEXT
from app.models import Gift, utcnow


class NotFound(Exception):
    """No gift has (one of) the ids asked for."""

    def __init__(self, missing_ids: Sequence[int] = ()) -> None:
        super().__init__(missing_ids)
        self.missing_ids = list(missing_ids)


class PreconditionFailed(Exception):
    """The gift changed since the client's ``If-Match`` ETag was read."""


class BadCursor(Exception):
    """A cursor that this API did not hand out (or for another sort)."""


def get_gift(gift_id: int) -> Gift:
    gift = db.session.get(Gift, gift_id)
    if gift is None:
        raise NotFound([gift_id])
    return gift


def create_gift(fields: dict[str, Any]) -> Gift:
    gift = Gift(**fields)
    db.session.add(gift)
    db.session.commit()
    return gift


def _version_condition(gift_id: int, if_match: Any) -> sa.ColumnElement[bool]:
    """The WHERE clause that makes a write happen only if the ETag still holds."""
    condition = Gift.id == gift_id
    if if_match is None or if_match.star_tag:
        return condition
    prefix = f"{gift_id}-"
    versions = [
        int(tag[len(prefix) :])
        for tag in if_match.as_set()
        if tag.startswith(prefix) and tag[len(prefix) :].isdigit()
    ]
    return condition & Gift.version.in_(versions)


def _write_failed(gift_id: int) -> Exception:
    """Tell a missing gift from a stale ETag, after a write touched no row."""
    db.session.rollback()
    exists = db.session.scalar(sa.select(Gift.id).where(Gift.id == gift_id))
    return PreconditionFailed() if exists else NotFound([gift_id])


def _changes(changes: dict[str, Any]) -> dict[str, Any]:
    return {**changes, "version": Gift.version + 1, "updated_at": utcnow()}


def update_gift(gift_id: int, changes: dict[str, Any], if_match: Any = None) -> Gift:
    """Apply a partial update; only the columns sent are written."""
    if not changes:
        gift = get_gift(gift_id)
        if if_match is not None and not if_match.contains(gift.etag):
            raise PreconditionFailed()
        return gift
    statement = (
        sa.update(Gift)
        .where(_version_condition(gift_id, if_match))
        .values(_changes(changes))
        .returning(Gift)
        .execution_options(populate_existing=True)
    )
    gift = db.session.scalars(statement).one_or_none()
    if gift is None:
        raise _write_failed(gift_id)
    db.session.commit()
    return gift


def delete_gift(gift_id: int, if_match: Any = None) -> None:
    result = db.session.execute(
        sa.delete(Gift).where(_version_condition(gift_id, if_match))
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise _write_failed(gift_id)
    db.session.commit()


def bulk_update(ids: list[int], changes: dict[str, Any]) -> list[Gift]:
    """The same change to every gift, all or nothing; in the order of ``ids``."""
    ids = list(dict.fromkeys(ids))
    if changes and db.session.get_bind().dialect.name != "sqlite":
        # Lock the rows in id order first: an UPDATE locks them in scan order,
        # which differs between two bulk changes of the same gifts (deadlock,
        # 503). SQLite has no row locks: one writer at a time, nothing to order.
        db.session.execute(
            sa.select(Gift.id)
            .where(Gift.id.in_(ids))
            .order_by(Gift.id)
            .with_for_update()
        )
    if changes:
        statement: Any = (
            sa.update(Gift)
            .where(Gift.id.in_(ids))
            .values(_changes(changes))
            .returning(Gift)
            .execution_options(populate_existing=True)
        )
    else:
        statement = sa.select(Gift).where(Gift.id.in_(ids))
    by_id = {gift.id: gift for gift in db.session.scalars(statement)}
    missing = [gift_id for gift_id in ids if gift_id not in by_id]
    if missing:
        db.session.rollback()
        raise NotFound(missing)
    db.session.commit()
    return [by_id[gift_id] for gift_id in ids]


# Listing ---------------------------------------------------------------------

# sort -> (column, descending); id breaks ties in the same direction.
SORTS: dict[str, tuple[Any, bool]] = {
    "recent": (None, True),
    "price_asc": (Gift.price, False),
    "price_desc": (Gift.price, True),
    "name": (Gift.name, False),
}


def encode_cursor(sort: str, gift: Gift) -> str:
    column, _ = SORTS[sort]
    key = None if column is None else getattr(gift, column.key)
    if isinstance(key, Decimal):
        key = str(key)
    raw = json.dumps([sort, key, gift.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    """The (sort key, id) of the last gift of the previous page."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, key, last_id = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadCursor() from error
    if cursor_sort != sort or type(last_id) is not int:
        raise BadCursor()
    column, _ = SORTS[sort]
    if column is None:
        key = None
    elif column.key == "price" and key is not None:
        try:
            key = Decimal(key)
        except (InvalidOperation, TypeError) as error:
            raise BadCursor() from error
    elif column.key == "name":
        try:
            STORABLE_TEXT(key)  # a forged key the database cannot compare
        except (ValidationError, TypeError, AttributeError) as error:
            raise BadCursor() from error
    return key, last_id


def _filters(args: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    filters = []
    if args.get("statuses"):
        filters.append(Gift.status.in_(args["statuses"]))
    if args.get("priority"):
        filters.append(Gift.priority.in_(args["priority"]))
    if args.get("from_santa") is not None:
        filters.append(Gift.from_santa.is_(args["from_santa"]))
    if args.get("search"):
        filters.append(Gift.name.icontains(args["search"], autoescape=True))
    return filters


def _page(
    where: list[sa.ColumnElement[bool]], order: list[Any], limit: int
) -> list[Gift]:
    statement = sa.select(Gift).where(*where).order_by(*order).limit(limit)
    return list(db.session.scalars(statement))


def list_gifts(args: dict[str, Any]) -> tuple[list[Gift], bool, str | None]:
    """One page: (gifts, has_more, next_cursor). Keyset pagination, so a page
    deep in the table costs what the first one costs."""
    sort, limit = args["sort"], args["limit"]
    column, descending = SORTS[sort]
    key, last_id = (None, None)
    if args.get("cursor"):
        key, last_id = decode_cursor(sort, args["cursor"])
    where = _filters(args)
    id_order = Gift.id.desc() if descending else Gift.id.asc()

    def after_id() -> list[sa.ColumnElement[bool]]:
        if last_id is None:
            return []
        return [Gift.id < last_id if descending else Gift.id > last_id]

    if column is None:
        gifts = _page(where + after_id(), [id_order], limit + 1)
    elif column.key == "name":
        after = []
        if last_id is not None:
            row = sa.tuple_(Gift.name, Gift.id)
            bound = sa.tuple_(sa.literal(key), sa.literal(last_id))
            after = [row < bound if descending else row > bound]
        gifts = _page(where + after, [Gift.name.asc(), id_order], limit + 1)
    else:
        # Gifts with a price first, in price order; those with none after,
        # in id order. Two index walks instead of a NULLS LAST sort.
        gifts = []
        if key is not None or last_id is None:
            after = [column.is_not(None)]
            if last_id is not None:
                row = sa.tuple_(column, Gift.id)
                bound = sa.tuple_(sa.literal(key, column.type), sa.literal(last_id))
                after.append(row < bound if descending else row > bound)
            price_order = column.desc() if descending else column.asc()
            gifts = _page(where + after, [price_order, id_order], limit + 1)
            last_id = None
        if len(gifts) <= limit:
            gifts += _page(
                where + [column.is_(None)] + after_id(),
                [id_order],
                limit + 1 - len(gifts),
            )
    has_more = len(gifts) > limit
    gifts = gifts[:limit]
    next_cursor = encode_cursor(sort, gifts[-1]) if has_more else None
    return gifts, has_more, next_cursor

"""Pages of gifts and their summary, as the asking member sees them.

Every statement carries ``visible_to(viewer)``, and every filter reads a wish
as its wisher sees it (``wish_view``): for them a wish is an unclaimed idea,
not from Santa, whatever planners made of it. Sorts need nothing of the kind:
their keys (time of creation, price, name) are fields a wisher sees as they
are. For a member with no person the wish view is constant false and the
statements are those of before surprises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.extensions import db
from app.gifts import search
from app.gifts.cursors import decode_cursor, encode_cursor
from app.gifts.links import LINKS
from app.gifts.store import read_columns
from app.models import STATUSES
from app.money import cents, exact_sum, from_cents, joined
from app.transactions import autocommit, retry_read
from app.visibility import (
    Viewer,
    gifts,
    hidden_list_ids,
    visible_to,
    whole_table,
    wish_view,
)
from app.wishes import present

# sort -> (column, descending); id breaks ties in the same direction.
SORTS: dict[str, tuple[Any, bool]] = {
    "recent": (gifts.c.created_at, True),
    "price_asc": (gifts.c.price, False),
    "price_desc": (gifts.c.price, True),
    "name": (gifts.c.name, False),
}

# Listing filter parameter -> the link field it filters on.
LINK_FILTERS = {"person_ids": "recipient_ids", "list_ids": "list_ids"}


def _claimed_by(value: str, viewer: Viewer, wish: Any) -> Any:
    """``claimed_by=me|none|<member id>``; a wish reads unclaimed to its wisher."""
    if value == "none":
        return gifts.c.claimed_by.is_(None) | wish
    member_id = viewer.id if value == "me" else int(value)
    return (gifts.c.claimed_by == member_id) & ~wish


def filters(args: dict[str, Any], viewer: Viewer, whole: bool = False) -> list[Any]:
    """The listing's filters, as ``viewer`` sees the gifts, and the rule
    (``whole``: for a query that reads every match, see ``for_person``)."""
    wish = wish_view(viewer, whole)
    where = [visible_to(viewer, whole)]
    if statuses := args.get("statuses"):
        matches = gifts.c.status.in_(statuses) & ~wish
        where.append(matches | wish if "idea" in statuses else matches)
    if args.get("priority"):
        where.append(gifts.c.priority.in_(args["priority"]))
    if (santa := args.get("from_santa")) is not None:
        where.append(
            gifts.c.from_santa.is_(True) & ~wish
            if santa
            else gifts.c.from_santa.is_(False) | wish
        )
    if args.get("claimed_by") is not None:
        where.append(_claimed_by(args["claimed_by"], viewer, wish))
    if args.get("occasion_ids"):
        where.append(gifts.c.occasion_id.in_(args["occasion_ids"]))
    if args.get("search"):
        where.append(search.matches(args["search"], db.engine.dialect.name, whole))
    for key, field in LINK_FILTERS.items():
        if args.get(key):
            table, column, _, _ = LINKS[field]
            linked = sa.select(table.c.gift_id).where(column.in_(args[key]))
            if field == "list_ids" and viewer.linked:
                # A planning list of the viewer's matches nothing for them.
                linked = linked.where(column.not_in(hidden_list_ids(viewer)))
            where.append(gifts.c.id.in_(linked))
    return where


def _page(
    connection: Connection,
    viewer: Viewer,
    where: list[Any],
    order: list[Any],
    limit: int,
) -> list[Mapping[str, Any]]:
    read = read_columns(connection.dialect.name, viewer)
    statement = sa.select(*read).where(*where).order_by(*order).limit(limit)
    return [present(row, viewer) for row in connection.execute(statement).mappings()]


@retry_read
def list_gifts(
    args: dict[str, Any], viewer: Viewer
) -> tuple[list[Mapping[str, Any]], bool, str | None]:
    """One page: (gifts, has_more, next_cursor). Keyset pagination, so a page
    deep in the table costs what the first one costs."""
    sort, limit = args["sort"], args["limit"]
    column, descending = SORTS[sort]
    key, last_id = (None, None)
    if args.get("cursor"):
        key, last_id = decode_cursor(sort, args["cursor"])
    where = filters(args, viewer)
    id_order = gifts.c.id.desc() if descending else gifts.c.id.asc()
    order = [column.desc() if descending else column.asc(), id_order]

    def after(*columns: Any) -> list[Any]:
        """Past the previous page's last gift, in the sort's direction."""
        if last_id is None:
            return []
        if not columns:
            return [gifts.c.id < last_id if descending else gifts.c.id > last_id]
        row = sa.tuple_(*columns, gifts.c.id)
        bound = sa.tuple_(sa.literal(key, columns[0].type), sa.literal(last_id))
        return [row < bound if descending else row > bound]

    with autocommit() as connection:
        if column.key != "price":
            rows = _page(connection, viewer, where + after(column), order, limit + 1)
        else:
            # Gifts with a price first, in price order; those with none after,
            # in id order: two index range scans instead of a NULLS LAST sort.
            rows = []
            if key is not None or last_id is None:
                priced = [column.is_not(None), *after(column)]
                rows = _page(connection, viewer, where + priced, order, limit + 1)
                last_id = None  # the unpriced gifts start from the beginning
            if len(rows) <= limit:
                unpriced = [column.is_(None), *after()]
                rows += _page(
                    connection,
                    viewer,
                    where + unpriced,
                    [id_order],
                    limit + 1 - len(rows),
                )
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(sort, rows[-1]) if has_more else None
    return rows, has_more, next_cursor


@retry_read
def summarize(args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """Counts by status and from Santa, and the exact sum of price x quantity,
    of the gifts matching the listing's filters: one grouped query. Wishes
    count as their wisher sees them (grouped apart, then read as ideas)."""
    where = filters(args, viewer, whole=True)
    wish = wish_view(viewer, whole=True).label("wish")
    with autocommit() as connection:
        # Whole cents, summed exactly whatever the total (app/money.py).
        amount = exact_sum(cents(gifts.c.price) * gifts.c.quantity, "amount")
        groups: list[Any] = [gifts.c.status]
        if viewer.linked:
            groups.append(wish)
        statement = (
            sa.select(
                *groups,
                sa.func.count().label("count"),
                sa.func.count().filter(gifts.c.from_santa.is_(True)).label("santa"),
                *amount,
            )
            .select_from(whole_table(viewer))
            .where(*where)
            .group_by(*groups)
        )
        rows = connection.execute(statement).mappings().all()
    by_status = dict.fromkeys(STATUSES, 0)
    santa, total = 0, 0
    for row in rows:
        status, from_santa = row["status"], row["santa"]
        if viewer.linked and row["wish"]:  # wishes, as their wisher sees them
            status, from_santa = "idea", 0
        by_status[status] += row["count"]
        santa += from_santa
        total += joined(row, "amount")
    return {
        "total": sum(by_status.values()),
        "by_status": by_status,
        "from_santa": santa,
        "price_total": from_cents(total),
    }

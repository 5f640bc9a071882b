"""The wish view: a member's wish as they see it, and when it changes for them.

A gift's ``version`` and ``updated_at`` move with every change, planning
included, so the wish view keeps its own (``wish_version``,
``wish_updated_at``): moved by a change of a field its wisher sees (the
statements that change columns compare those in SQL, see
``store.wish_bump``), or of what the wisher sees of its recipients and lists.
The latter changes in more ways than a gift's own update (a list's kind or
person, a deleted list or person, `flask members set-person`), so each of
them runs inside ``track_wishes``, which compares what the wishers saw of the
gifts it may touch before and after, and moves the wish view of those that
differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.dump_schemas import Row
from app.models import Member, gift_lists, gift_recipients, utcnow
from app.visibility import PLANNING_FIELDS, Viewer, gifts, lists

members = Member.__table__


def present(row: Mapping[str, Any], viewer: Viewer) -> Mapping[str, Any]:
    """The gift as ``viewer`` sees it: as it is, or through the wish view
    (``row`` then carries ``wish_view``, as ``store`` reads it for a linked
    member; ``list_ids`` already leaves out their planning lists)."""
    if not viewer.linked or not row["wish_view"]:
        return row
    shown = Row(row)
    shown.update(PLANNING_FIELDS)
    shown["wish_withdrawn"] = False
    shown["version"] = row["wish_version"]
    shown["updated_at"] = row["wish_updated_at"] or row["created_at"]
    return shown


def planned(row: Mapping[str, Any], on_hidden_list: bool) -> bool:
    """Someone planned this wish: its real state is not the untouched one."""
    return on_hidden_list or any(
        row[field] != untouched
        for field, untouched in PLANNING_FIELDS.items()
        if field in ("status", "claimed_by", "from_santa")
    )


# What a wisher sees of a gift beyond its columns: whether it is their wish,
# its recipients, and the lists on it that are not their planning lists.
WishState = tuple[bool, tuple[int, ...], tuple[int, ...]]


def wish_states(
    connection: Connection, gift_ids: Collection[int]
) -> dict[int, WishState]:
    """What the creator of each of these gifts (if linked) sees of its links."""
    if not gift_ids:
        return {}
    creators = dict(
        connection.execute(
            sa.select(gifts.c.id, members.c.person_id)
            .join(members, members.c.id == gifts.c.created_by)
            .where(gifts.c.id.in_(sorted(gift_ids)), members.c.person_id.is_not(None))
        ).all()
    )
    if not creators:
        return {}
    ids = sorted(creators)
    recipients: dict[int, list[int]] = defaultdict(list)
    for gift_id, person_id in connection.execute(
        sa.select(gift_recipients.c.gift_id, gift_recipients.c.person_id).where(
            gift_recipients.c.gift_id.in_(ids)
        )
    ):
        recipients[gift_id].append(person_id)
    seen_lists: dict[int, list[int]] = defaultdict(list)
    for gift_id, list_id, owner, kind in connection.execute(
        sa.select(
            gift_lists.c.gift_id, gift_lists.c.list_id, lists.c.person_id, lists.c.kind
        )
        .join(lists, lists.c.id == gift_lists.c.list_id)
        .where(gift_lists.c.gift_id.in_(ids))
    ):
        if owner != creators[gift_id] or kind == "wishlist":
            seen_lists[gift_id].append(list_id)
    return {
        gift_id: (
            person in recipients[gift_id],
            tuple(sorted(recipients[gift_id])),
            tuple(sorted(seen_lists[gift_id])),
        )
        for gift_id, person in creators.items()
    }


def move_wish_views(connection: Connection, gift_ids: Collection[int]) -> None:
    if gift_ids:
        connection.execute(
            sa.update(gifts)
            .where(gifts.c.id.in_(sorted(gift_ids)))
            .values(wish_version=gifts.c.wish_version + 1, wish_updated_at=utcnow())
        )


@contextmanager
def track_wishes(connection: Connection, selected: Any) -> Iterator[None]:
    """Move the wish view of the gifts ``selected`` picks (a condition on
    gifts, read before the block) whose wisher sees their links change."""
    gift_ids = list(connection.scalars(sa.select(gifts.c.id).where(selected)))
    before = wish_states(connection, gift_ids)
    yield
    after = wish_states(connection, gift_ids)
    changed = {i for i in before.keys() | after.keys() if before.get(i) != after.get(i)}
    # A gift deleted meanwhile is simply not there to move.
    move_wish_views(connection, changed)

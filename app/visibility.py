"""What a member may know of: the one place the surprise rules are written.

Every query of gifts (one gift, pages, cursors, counts of people and lists,
the summary, bulk changes, writes and their ETag checks) carries
``visible_to(viewer)``, and every query of lists ``lists_visible_to(viewer)``,
so that everything follows by construction (API.md "Surprises"):

- a gift is hidden from a child when it is from Santa and not the child's
  wish; from a member linked to a person when that person is among its
  recipients, it is not the member's wish (or the member withdrew it) and it
  is not yet received;
- a member's wish (a gift they created for their own person) is shown to them
  through the wish view (``wish_view``): planning fields read as untouched;
- a list of a member's person that is not a wishlist is a planning list for
  them, hidden like a hidden gift.

Each expression is built once per viewer (cached): building it anew for
every request cost more than the database spent on it.

A member with no person sees what every member saw before surprises: the
expressions reduce to the Santa rule alone. Gifts from before surprises have
no creator (NULL): ``created_by IS NOT DISTINCT FROM :me`` is false for them,
never NULL, so no NOT(...) around it hides them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from app.models import Gift, GiftList, gift_recipients

gifts = Gift.__table__
lists = GiftList.__table__

PARENT = "parent"
# The fields a planner sets and a wisher never sees change (API.md "A
# member's wishes"), with what the wish view shows instead.
PLANNING_FIELDS: dict[str, Any] = {
    "status": "idea",
    "purchase_date": None,
    "notes": None,
    "sale_price": None,
    "claimed_by": None,
    "from_santa": False,
}
# What a wisher may change on their wish.
WISH_FIELDS = (
    "name",
    "description",
    "url",
    "image_url",
    "source",
    "price",
    "quantity",
    "priority",
)
# What a wisher sees change on their wish (its ETag moves) without being
# theirs to change: the occasion a planner puts it under.
WISH_SEEN = (*WISH_FIELDS, "occasion_id")


class Viewer(NamedTuple):
    """Who asks, as far as visibility goes: hashable, so statements built for
    a viewer are cached per viewer."""

    id: int
    role: str
    person_id: int | None

    @property
    def linked(self) -> bool:
        return self.person_id is not None


def viewer_of(member: Any) -> Viewer:
    """The viewer of a member (anything with id, role and person_id)."""
    return Viewer(member.id, member.role, member.person_id)


# Its own name: the rule sits inside queries that read gift_recipients too
# (a person's gift count), and must not correlate to their rows.
_mine = gift_recipients.alias("for_viewer")


# The summary's outer join to the asking member's own recipient rows.
_joined = gift_recipients.alias("joined_viewer")


def for_person(person_id: int, whole: bool = False) -> sa.ColumnElement[bool]:
    """The gift's recipients include this person.

    Two spellings of one rule. By default a correlated scalar subquery: one
    primary-key lookup per gift read, so a page of 50 reads 50. (Written as
    EXISTS, PostgreSQL may instead hash every gift of the person once per
    query, planning for the whole table: at a million gifts that made a
    page of 50 cost 150 ms instead of 4.) A query that reads ``whole`` the
    table (the summary) reads the person's gifts once instead, through an
    outer join: it must select from ``whole_table(person_id)``.
    """
    if whole:
        return _joined.c.gift_id.is_not(None)
    return _recipient_row(person_id, _mine.c.person_id).is_not(None)


def not_for_person(person_id: int, whole: bool = False) -> sa.ColumnElement[bool]:
    """The gift's recipients do not include this person: ``for_person``
    negated. Per gift, written as ``coalesce(<a 1 if they do>, 0) <> 1``
    and not as ``<lookup> IS NULL``: PostgreSQL takes an IS NULL of a
    subquery to hold for 0.5 % of rows and a <> for 99.5 %. Told 0.5 %, it
    expected a linked member's walk by name to find a page in none of the
    5 000 gifts it may walk, and read all 500 000 of a priority's from their
    index instead (at 1M gifts: 24 ms for the statement, against 3).
    Most gifts are not for her."""
    if whole:
        return ~for_person(person_id, True)
    return sa.func.coalesce(_recipient_row(person_id, sa.literal(1)), 0) != 1


def _recipient_row(person_id: int, selected: sa.ColumnElement[Any]) -> Any:
    """``selected`` of the gift's recipient row for this person, per gift
    (a primary-key lookup: one row at most), or NULL without one."""
    return (
        sa.select(selected)
        .where(_mine.c.gift_id == gifts.c.id, _mine.c.person_id == person_id)
        .correlate_except(_mine)
        .scalar_subquery()
    )


def whole_table(viewer: Viewer) -> sa.FromClause:
    """What a query that reads the whole table for ``viewer`` selects from:
    the gifts, outer-joined to the viewer's own recipient rows (one at most
    per gift: they are the primary key). A join, unlike a subquery per gift,
    lets PostgreSQL scan in parallel workers."""
    if viewer.person_id is None:
        return gifts
    return gifts.outerjoin(
        _joined,
        (_joined.c.gift_id == gifts.c.id) & (_joined.c.person_id == viewer.person_id),
    )


def _made_by(viewer: Viewer) -> sa.ColumnElement[bool]:
    """Created by the viewer and not withdrawn: false (not NULL) for a gift
    with no creator."""
    return gifts.c.created_by.is_not_distinct_from(
        viewer.id
    ) & gifts.c.wish_withdrawn.is_(False)


@lru_cache(maxsize=256)
def wish_of(viewer: Viewer, whole: bool = False) -> sa.ColumnElement[bool]:
    """The viewer's own wish (not withdrawn)."""
    if viewer.person_id is None:
        return sa.false()
    return _made_by(viewer) & for_person(viewer.person_id, whole)


@lru_cache(maxsize=256)
def visible_to(viewer: Viewer, whole: bool = False) -> sa.ColumnElement[bool]:
    """The gifts the viewer may know of (``whole``: see ``for_person``)."""
    if viewer.person_id is None:
        if viewer.role == PARENT:
            return sa.true()
        return gifts.c.from_santa.is_(False)
    # Not for me, or given, or my own wish.
    condition = (
        not_for_person(viewer.person_id, whole)
        | (gifts.c.status == "received")
        | _made_by(viewer)
    )
    if viewer.role != PARENT:
        condition &= gifts.c.from_santa.is_(False) | wish_of(viewer, whole)
    return condition


@lru_cache(maxsize=256)
def wish_view(viewer: Viewer, whole: bool = False) -> sa.ColumnElement[bool]:
    """The gifts the viewer sees through the wish view: their wishes, until a
    received one is revealed in full (to an adult; to a child unless it is
    Santa's)."""
    if viewer.person_id is None:
        return sa.false()
    revealed = gifts.c.status == "received"
    if viewer.role != PARENT:
        revealed &= gifts.c.from_santa.is_(False)
    return ~revealed & wish_of(viewer, whole)


@lru_cache(maxsize=256)
def lists_visible_to(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The lists the viewer may know of: all but their planning lists."""
    if viewer.person_id is None:
        return sa.true()
    return lists.c.person_id.is_distinct_from(viewer.person_id) | (
        lists.c.kind == "wishlist"
    )


@lru_cache(maxsize=256)
def hidden_list_ids(viewer: Viewer) -> sa.Select[Any]:
    """The ids of the viewer's planning lists."""
    return sa.select(lists.c.id).where(~lists_visible_to(viewer))


def as_seen(viewer: Viewer, name: str) -> sa.ColumnElement[Any]:
    """The gift's column ``name`` as the viewer sees it: a planning field of
    a gift seen through the wish view reads as untouched."""
    column = gifts.c[name]
    if name not in PLANNING_FIELDS or not viewer.linked:
        return column
    untouched = sa.literal(PLANNING_FIELDS[name], column.type)
    return sa.case((wish_view(viewer), untouched), else_=column)

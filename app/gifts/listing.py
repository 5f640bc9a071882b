"""Pages of gifts and their summary, as the asking member sees them.

Every statement carries ``visible_to(viewer)``, and every filter reads a wish
as its wisher sees it (``wish_view``): for them a wish is an unclaimed idea,
not from Santa, whatever planners made of it. Sorts need nothing of the kind:
their keys (time of creation, price, name) are fields a wisher sees as they
are. For a member with no person the wish view is constant false and the
statements are those of before surprises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import visitors

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
    lists,
    lists_visible_to,
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


def filters(
    args: dict[str, Any], viewer: Viewer, connection: Connection, whole: bool = False
) -> list[Any]:
    """The listing's filters, as ``viewer`` sees the gifts, and the rule
    (``whole``: for a query that reads every match, see ``for_person``), for
    a statement on ``connection``."""
    return _gift_filters(args, viewer, connection, whole) + _link_filters(args, viewer)


def _gift_filters(
    args: dict[str, Any],
    viewer: Viewer,
    connection: Connection,
    whole: bool = False,
    searched: bool = True,
) -> list[Any]:
    """The filters on the gift's own columns, and the rule; the search's
    (its drive form) unless not ``searched``: it may first ask
    ``connection`` (app/gifts/search.py)."""
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
    if searched and args.get("search"):
        where.append(search.matches(args["search"], connection, whole).drive)
    return where


def _link_filters(
    args: dict[str, Any],
    viewer: Viewer,
    probe: bool = False,
    shown: list[int] | None = None,
    joined: bool = False,
) -> list[Any]:
    """The people and lists filters. ``gifts.id IN (the linked ids)`` by
    default: the planners drive from the link table's index. With ``probe``
    one primary-key lookup of the link per gift read instead, for a page
    that walks a sort index (``_page``): the IN form made both databases read
    every link of the list before the first gift (SQLite built a temporary
    index of them), 40x the plain first page for a list of every 20th gift.
    ``shown``: the asked lists the viewer may know of, read already
    (``_shown_lists``), in place of the NOT IN their planning lists."""
    where = []
    links: list[tuple[sa.Table, Any]] = []
    for key, field in LINK_FILTERS.items():
        if args.get(key):
            table, column, _, _ = LINKS[field]
            if field == "list_ids" and shown is not None:
                linked = sa.select(table.c.gift_id).where(column.in_(shown))
            else:
                linked = sa.select(table.c.gift_id).where(column.in_(args[key]))
            if field == "list_ids" and viewer.linked and shown is None:
                # A planning list of the viewer's matches nothing for them.
                linked = linked.where(column.not_in(hidden_list_ids(viewer)))
            if probe:
                lookup = linked.where(table.c.gift_id == gifts.c.id).limit(1)
                where.append(lookup.scalar_subquery().is_not(None))
            else:
                where.append(gifts.c.id.in_(linked))
                links.append((table, linked))
    if joined and len(links) > 1:
        # One IN: the lists' links, each checked against the people's by
        # primary key. Two INs made SQLite read one link set and build a
        # temporary index of the other (50 000 of a person's): a list of
        # every 50th gift and a person of every 20th, 53 -> 13 ms of CPU at
        # 1M gifts. (PostgreSQL merge-joins the two link indexes already.)
        (first, linked), *rest = links[::-1]
        for table, other in rest:
            lookup = other.where(table.c.gift_id == first.c.gift_id).limit(1)
            linked = linked.where(lookup.scalar_subquery().is_not(None))
        where = [gifts.c.id.in_(linked)]
    return where


def _shown_lists(connection: Connection, viewer: Viewer, ids: list[int]) -> list[int]:
    """Those of the lists ``ids`` that the viewer may know of (their planning
    lists left out: app/visibility.py), read by primary key. The filter then
    names them alone: with ``NOT IN (the planning lists)`` in the link
    subquery both databases read every link of an asked planning list to
    find none of them (PostgreSQL: 11x the plain first page, 25 000 links)."""
    statement = sa.select(lists.c.id).where(
        lists.c.id.in_(ids), lists_visible_to(viewer)
    )
    return sorted(connection.scalars(statement))


# A filter whose own index holds fewer than this many entries for it is few:
# the page is driven at once from the ids those entries name (``_candidates``)
# and skips the walk, whose WALK_ROWS gifts cost 4-6x the plain page on
# SQLite for a filter matching one gift in 10 000 (bench/shapes.py).
PROBE_ROWS = 2000
# PostgreSQL counts at most this many: its statistics already drive a
# filter of 1 000 matches well, and a count of 2 000 entries (about 0.3 ms)
# is a tenth of its plain page, paid by every dense filter.
PROBE_ROWS_POSTGRESQL = 200


def _expanding(name: str) -> Any:
    return sa.bindparam(f"probe_{name}", expanding=True)


def _own_sets(member_id: Any) -> tuple[Any, Any]:
    """A linked member's own person: of that person's gifts they see those
    given and their own wishes alone (app/visibility.py), so the page is
    among these two sets (its own index each: 0003, 0013), however many
    gifts the person has."""
    return gifts.c.created_by == member_id, gifts.c.status == "received"


_OWN_GIFTS = sa.union_all(
    *(sa.select(gifts.c.id).where(own) for own in _own_sets(sa.bindparam("probe_own")))
).subquery("own")
_PEOPLES_LINKS = LINKS[LINK_FILTERS["person_ids"]][0]
_LISTS_LINKS = LINKS[LINK_FILTERS["list_ids"]][0]
# Each probe: the ids of gifts (or links) one filter's own index holds, with
# its values as parameters, so that the statements are built once.
_PROBES: dict[str, sa.Select[Any]] = {
    "statuses": sa.select(gifts.c.id).where(gifts.c.status.in_(_expanding("statuses"))),
    "priority": sa.select(gifts.c.id).where(
        gifts.c.priority.in_(_expanding("priority"))
    ),
    "santa": sa.select(gifts.c.id).where(gifts.c.from_santa.is_(True)),
    "not_santa": sa.select(gifts.c.id).where(gifts.c.from_santa.is_(False)),
    "unclaimed": sa.select(gifts.c.id).where(gifts.c.claimed_by.is_(None)),
    "claimed_by": sa.select(gifts.c.id).where(
        gifts.c.claimed_by == sa.bindparam("probe_claimed_by")
    ),
    "occasion_ids": sa.select(gifts.c.id).where(
        gifts.c.occasion_id.in_(_expanding("occasion_ids"))
    ),
    **{
        key: sa.select(LINKS[field][0].c.gift_id).where(
            LINKS[field][1].in_(_expanding(key))
        )
        for key, field in LINK_FILTERS.items()
    },
    "own": sa.select(_OWN_GIFTS.c.id),
    # Both link filters at once: the gifts of the asked lists that are also
    # the asked people's (PostgreSQL merges the two link indexes in gift
    # order; SQLite checks each of the list's links against the person's).
    "links": sa.select(_PEOPLES_LINKS.c.gift_id)
    .join(_LISTS_LINKS, _LISTS_LINKS.c.gift_id == _PEOPLES_LINKS.c.gift_id)
    .where(
        _PEOPLES_LINKS.c.person_id.in_(_expanding("person_ids")),
        _LISTS_LINKS.c.list_id.in_(_expanding("list_ids")),
    ),
}
# The most ids of the "own" probe counted: a member's wishes and the gifts
# given may be many (the page is then walked), and the person's other gifts,
# which the probe leaves out, many more (a person on 50 000 gifts at 1M, 5 000
# of them her wishes: her page read all 50 000, 22x the plain page on SQLite,
# 61x on PostgreSQL).
OWN_PROBE_ROWS = 20_000
# PostgreSQL's statistics drive a few status, priority, claimer or occasion
# well already (1.3-1.7x the plain page at 1M), and the count statement
# (planned anew each time) cost every dense filter 0.2-0.4x of the plain
# page: it counts only these.
_POSTGRESQL_PROBES = frozenset({*LINK_FILTERS, "own", "links"})
# The "links" probe is read, not counted: its ids themselves, at most the
# bound (``_shared``). A person on 50 000 gifts and a list of 20 000 sharing
# none at 1M gifts: PostgreSQL planned the drive's two INs as a scan of every
# gift (35x the plain page on one seeding, 9x on another), its merge join of
# the two link indexes finds the none in 10 ms; SQLite walked 5 000 gifts and
# then drove from the same join (4.4x), and now reads the join alone (3.0-3.2x).
_SHARED_LINKS = "links"
# The search's few ids, read by app/gifts/search.py: a probe counted there.
_SEARCHED = "search"


def _probes(
    args: dict[str, Any], viewer: Viewer, shown: list[int] | None
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """For each filter with an index of its own, the probe (``_PROBES``) of
    the ids that index holds for it, and the parameters: every gift the
    filter matches (as the viewer sees it) is among those ids, and more may
    be (a wish reads as an unclaimed idea to its wisher: where that could
    add matches, as for ``statuses=idea`` or ``claimed_by=none`` of a linked
    member, there is no probe). They only narrow where the page looks: the
    page's own statement carries the visibility rule and every filter."""
    kinds: list[str] = []
    values: dict[str, Any] = {}

    def probe(kind: str, value: Any = None) -> None:
        kinds.append(kind)
        if value is not None:
            values[f"probe_{kind}"] = value

    statuses = args.get("statuses")
    if statuses and not (viewer.linked and "idea" in statuses):
        probe("statuses", list(statuses))
    if args.get("priority"):
        probe("priority", list(args["priority"]))
    santa = args.get("from_santa")
    if santa or (santa is not None and not viewer.linked):
        probe("santa" if santa else "not_santa")
    claimed = args.get("claimed_by")
    if claimed == "none":
        if not viewer.linked:
            probe("unclaimed")
    elif claimed is not None:
        probe("claimed_by", viewer.id if claimed == "me" else int(claimed))
    if args.get("occasion_ids"):
        probe("occasion_ids", list(args["occasion_ids"]))
    for key in LINK_FILTERS:
        if args.get(key):
            ids = shown if key == "list_ids" and shown is not None else args[key]
            probe(key, list(ids))
    if all(args.get(key) for key in LINK_FILTERS):
        kinds.append("links")  # its parameters are the two filters' probes'
    if viewer.linked and set(args.get("person_ids") or ()) == {viewer.person_id}:
        probe("own", viewer.id)
    return tuple(kinds), values


def _count(probe: sa.Select[Any], bound: int) -> Any:
    """At most ``bound`` of the probe's ids, counted."""
    return (
        sa.select(sa.func.count()).select_from(probe.limit(bound).subquery())
    ).scalar_subquery()


@lru_cache(maxsize=256)
def _counts(kinds: tuple[str, ...], bounds: tuple[int, ...]) -> sa.Select[Any]:
    """One statement counting at most ``bounds[i]`` ids of each probe. The
    "own" probe's two sets are counted each on its own index and added (the
    same answer against the bound): through their union, PostgreSQL spent
    0.4 us a row on it, 2 ms for a member's 5 000 wishes."""
    counts = []
    for kind, bound in zip(kinds, bounds, strict=True):
        if kind == "own":
            wishes, given = _own_sets(sa.bindparam("probe_own"))
            counts.append(
                _count(sa.select(gifts.c.id).where(wishes), bound)
                + _count(sa.select(gifts.c.id).where(given), bound)
            )
        else:
            counts.append(_count(_PROBES[kind], bound))
    return sa.select(*counts)


# A few filter is driven only where that reads less than the walk would: a
# page of ``limit`` walks about limit x gifts / count gifts of its order,
# the drive reads the count candidates; so it drives when the table holds
# more than count² / limit gifts, which one read of the (created_at, id)
# index at that offset tells, up to PAST_ROWS; past it the planner's count.
# A person on 1 282 of 10 000 gifts (the HTTP bench's family) walks: 2.9 ms
# of CPU a page, against 5.2 ms driven.
PAST_ROWS = 20_000
_PAST = (
    sa.select(gifts.c.id)
    .order_by(gifts.c.created_at, gifts.c.id)
    .offset(sa.bindparam("walked"))
    .limit(1)
)
# The planner's count of the gifts: pg_class.reltuples (autovacuum keeps it;
# -1 before its first ANALYZE), or the first figure of sqlite_stat1's row of
# the (created_at, id) index (from the last ANALYZE: migrations 0011, 0012).
_PLANNED_ROWS = {
    "postgresql": sa.text(
        "SELECT CAST(reltuples AS bigint) FROM pg_class"
        " WHERE oid = to_regclass('gifts')"
    ),
    "sqlite": sa.text(
        "SELECT stat FROM sqlite_stat1"
        " WHERE tbl = 'gifts' AND idx = 'ix_gifts_created_at_id'"
    ),
}


def _planned_rows(connection: Connection) -> int | None:
    """How many gifts the planner's statistics count, or None without them."""
    try:
        found = connection.scalar(_PLANNED_ROWS[connection.dialect.name])
    except sa.exc.OperationalError:  # SQLite before its first ANALYZE
        return None
    rows = int(str(found).split()[0]) if found is not None else -1
    return rows if rows >= 0 else None


def _shared(connection: Connection, values: dict[str, Any], bound: int) -> list[int]:
    """The ids of the "links" probe, at most ``bound`` rows of it (a gift
    on two asked lists, or for two asked people, is one id)."""
    statement = _PROBES[_SHARED_LINKS].limit(bound)
    found = list(connection.scalars(statement, values))
    return found if len(found) >= bound else sorted(set(found))


def _candidates(
    connection: Connection,
    args: dict[str, Any],
    viewer: Viewer,
    shown: list[int] | None,
    limit: int,
    searched: list[int] | None = None,
) -> _Candidates | None:
    """When some filter's own index holds fewer than PROBE_ROWS entries for
    it (OWN_PROBE_ROWS: the "own" probe), and the table more than (their
    count)² / ``limit`` gifts (``_PAST``): ``gifts.id IN`` the ids of the
    fewest of them (every gift that may match is among them), and how many
    they are. None when each probed filter has more, or none has a probe,
    or the walk would read less. One statement counts every probe, each
    reading at most its bound of entries of its index; the "links" probe is
    read before it, its ids kept (``_shared``). ``searched``: the ids the
    search read from its index (``search.Search.ids``), one more probe."""
    kinds, values = _probes(args, viewer, shown)
    bound = PROBE_ROWS
    if connection.dialect.name == "postgresql":
        kinds = tuple(kind for kind in kinds if kind in _POSTGRESQL_PROBES)
        bound = min(bound, PROBE_ROWS_POSTGRESQL)
    shared = None
    if _SHARED_LINKS in kinds:
        kinds = tuple(kind for kind in kinds if kind != _SHARED_LINKS)
        shared = _shared(connection, values, bound)
    if not kinds and shared is None and searched is None:
        return None
    if shared is not None and len(shared) < bound:
        # Fewer than the bound share both filters: the page is among them,
        # and the other probes need no count (at 1M gifts on SQLite, 0.2 ms
        # of the 4 a person and a list sharing none cost).
        kinds = ()
    bounds = tuple(OWN_PROBE_ROWS if kind == "own" else bound for kind in kinds)
    found: list[int] = []
    if kinds:
        found = list(connection.execute(_counts(kinds, bounds), values).one())
    if shared is not None:
        kinds, bounds = (*kinds, _SHARED_LINKS), (*bounds, bound)
        found.append(len(shared))
    if searched is not None:
        kinds, bounds = (*kinds, _SEARCHED), (*bounds, search.FEW)
        found.append(len(searched))
    few = [(n, i) for i, n in enumerate(found) if n < bounds[i]]
    if not few:
        return None
    count, fewest = min(few)
    walked = count * count // limit
    if walked > PAST_ROWS:
        # Reading the index that far costs more than it can save (12 ms on
        # SQLite at 510 000): the planner's count of the gifts instead,
        # none when it has none (the walk then, as for a small table).
        rows = _planned_rows(connection)
        if rows is None or rows <= walked:
            return None
    elif walked and connection.execute(_PAST, {"walked": walked}).first() is None:
        return None  # a small table: the walk finds the page sooner
    kind = kinds[fewest]
    if not count:
        return _Candidates(sa.false(), 0)
    if kind == _SEARCHED:
        # The search's own term names these ids already (``search.Search``).
        return _Candidates(sa.true(), count)
    if kind == _SHARED_LINKS and shared is not None:
        # The ids themselves: told ``IN`` the join, PostgreSQL planned on
        # its estimate of the join (every link of the list) and scanned the
        # gifts; told the few ids, it reads each by primary key.
        return _Candidates(gifts.c.id.in_(shared), len(shared))
    # correlate(None): the probe reads gifts of its own.
    probe = _PROBES[kind].correlate(None)
    if f"probe_{kind}" in values:
        probe = probe.params({f"probe_{kind}": values[f"probe_{kind}"]})
    own = viewer.id if kind == "own" else None
    return _Candidates(gifts.c.id.in_(probe), count, own)


# A filtered page first walks at most this many gifts of its sort order (the
# sort's index), probing each; a filter matching fewer than a page in them
# is sparse, and the rest of the page comes from the filters' own indexes,
# its few matches sorted (``_drive``). Measured at 1M gifts (bench/shapes.py):
# walking 5 000 costs about what the plain page costs.
WALK_ROWS = 5000


def _index_alone(where: list[Any], order: list[Any]) -> bool:
    """Whether ``where`` reads no column of the gifts but those of the sort
    index (``order``'s columns; the id): its link probes and bounds, and a
    rule that needs nothing (a parent's), not the wish rules' columns."""
    held = {id(key.element) for key in order} | {id(gifts.c.id)}
    return all(
        id(element) in held
        for clause in where
        for element in visitors.iterate(clause)
        if isinstance(element, sa.Column) and element.table is gifts
    )


def _select(
    connection: Connection,
    viewer: Viewer,
    where: list[Any],
    order: list[Any],
    limit: int,
    narrow: bool = False,
    scattered: bool = False,
) -> list[Mapping[str, Any]]:
    """The first ``limit`` gifts of ``where`` in ``order``, as the viewer
    reads them. ``narrow``, for a page whose matches are all sorted (a
    drive): the sort reads ids and keys alone, and only the page's gifts are
    read whole (their links, the wish view); SQLite computed every column of
    every match before sorting them. ``scattered``: the matches of a walk
    of the sort index whose gifts lie scattered across the table (by price
    or name: rows are appended, so newest first walks neighbours), read
    narrow on PostgreSQL when ``where`` needs nothing else (``_index_alone``):
    its Index Scan read the row of each gift it walked (2 650 for a page of
    a list of every 50th gift by price), where an Index Only Scan reads the
    index, then the page's rows by primary key. At 1M gifts, that page:
    13.8 -> 10.4 ms, 0.75x (bench/shapes.py's data; newest first, or by
    names that are in creation order there, 1.0x). SQLite reads a walked
    gift's row only when a term needs a column of it: the matches' alone.
    """
    read = read_columns(connection.dialect.name, viewer)
    if scattered and connection.dialect.name == "postgresql":
        narrow = _index_alone(where, order)
    if narrow:
        # correlate(None): the subquery reads gifts of its own.
        page = sa.select(gifts.c.id).where(*where).order_by(*order).limit(limit)
        statement = (
            sa.select(*read)
            .where(gifts.c.id.in_(page.correlate(None)))
            .order_by(*order)
        )
    else:
        statement = sa.select(*read).where(*where).order_by(*order).limit(limit)
    # all(): one fetchall, not a fetchone a row (SQLite: about 50 of a page's
    # 900 us in process, interleaved batches)
    rows = connection.execute(statement).mappings().all()
    return [present(row, viewer) for row in rows]


def _unindexed(column: Any) -> Any:
    """The same sort key, which no index provides: the planner then drives
    from the filters' indexes and sorts the matches."""
    return sa.func.coalesce(column, column)


class _Candidates(NamedTuple):
    """Every gift that may match a page (``_candidates``): ``gifts.id IN``
    them, and how many they are; ``own``: the member whose own person's page
    this is, when they are that member's wishes and the gifts given."""

    among: Any
    count: int
    own: int | None = None


def _own_page(
    connection: Connection,
    viewer: Viewer,
    where: list[Any],
    keys: list[tuple[Any, bool]],
    sorts: tuple[list[Any], list[Any]],
    limit: int,
) -> list[Mapping[str, Any]]:
    """A linked member's page of her own person: her first wishes matching
    ``where`` in the page's order, that of an index by creator (0013's
    (created_by, created_at, id), 0014's by price and by name), merged with
    the gifts given that match it, those read by ``status``'s index and
    sorted. Read as one set and sorted, her 5 000 wishes cost 6.2x the plain
    first page at 1M gifts on SQLite, 11.9x on PostgreSQL, newest first
    (bench/shapes.py); by price or name 6.8-7.2x and 10.5x. ``sorts``:
    ``_page``'s order by ``keys``, and the same order that no index
    provides."""
    order, unindexed = sorts
    wishes, given = _own_sets(viewer.id)
    # The given as ``id IN``, sorted by keys no index provides: told
    # ``status = 'received'`` and a cursor's ``created_at <``, SQLite walked
    # the sort index through every older gift to find the few given (1.6 s
    # for page 4 at 1M gifts). correlate(None): it reads gifts of its own.
    given = gifts.c.id.in_(sa.select(gifts.c.id).where(given).correlate(None))
    columns = [column for column, _ in keys]
    arms = [
        sa.select(*columns).where(wishes, *where).order_by(*order).limit(limit),
        sa.select(*columns).where(given, *where).order_by(*unindexed).limit(limit),
    ]
    # UNION: a wish given is in both.
    both = sa.union(*(sa.select(arm.subquery()) for arm in arms)).subquery()
    merged = [(both.c[column.key], desc) for column, desc in keys]
    page = (
        sa.select(both.c.id)
        .order_by(*(c.desc() if desc else c.asc() for c, desc in merged))
        .limit(limit)
    )
    # correlate(None): the subquery reads gifts of its own.
    return _select(
        connection, viewer, [gifts.c.id.in_(page.correlate(None))], order, limit
    )


class _Query(NamedTuple):
    """A page's query, in two forms: ``walk`` (link filters probed per gift)
    and ``drive`` (link filters as IN, read from their indexes); ``plain``
    when nothing but the visibility rule filters."""

    walk: list[Any]
    drive: list[Any]
    plain: bool
    # Every gift that may match, when a filter is few (``_candidates``).
    candidates: _Candidates | None = None


def _page(
    connection: Connection,
    viewer: Viewer,
    query: _Query,
    bounds: list[Any],
    keys: list[tuple[Any, bool]],
    limit: int,
    walk: bool = True,
    cursor: tuple[Any, ...] = (),
) -> tuple[list[Mapping[str, Any]], bool]:
    """The first ``limit`` gifts matching ``query`` within ``bounds`` (the
    cursor's, the price segment's), in the order of ``keys`` ((column,
    descending); the last one the id), and whether the filters proved sparse
    (``cursor``: those of ``bounds`` that are the cursor's).

    An unfiltered page walks the sort index. A filtered one walks it for at
    most WALK_ROWS gifts (the WALK_ROWS-th one's keys bound the walk); if
    that gave less than a page, the filters are sparse: the rest comes from
    beyond that bound with the sort index out of the planner's reach
    (``_unindexed``), as all of it does without ``walk`` (the unpriced
    segment after a sparse priced one). The answer is the one query's: the
    walk's matches are the first ones in sort order, and the rest follow."""
    order = [column.desc() if desc else column.asc() for column, desc in keys]
    if query.plain:
        return _select(connection, viewer, query.walk + bounds, order, limit), False
    unindexed = [
        _unindexed(column).desc() if desc else _unindexed(column).asc()
        for column, desc in keys
    ]
    if query.candidates is not None:  # a few filter: the page is among these
        among, count, own = query.candidates
        if not count:
            return [], True
        if own is not None:
            where = query.walk + bounds
            sorts = (order, unindexed)
            return _own_page(connection, viewer, where, keys, sorts, limit), True
        # The link filters probed per gift, as in the walk: as IN they were
        # one more ``gifts.id IN`` for SQLite, which drove from a list's
        # 50 000 gifts instead of the candidates (62 ms against 2.5).
        where = query.walk + [among] + bounds
        return _select(connection, viewer, where, unindexed, limit, narrow=True), True
    if not walk:
        where = query.drive + bounds
        return _select(connection, viewer, where, unindexed, limit, narrow=True), True
    columns = [column for column, _ in keys]
    last = connection.execute(
        sa.select(*columns)
        .where(*bounds)
        .order_by(*order)
        .offset(WALK_ROWS - 1)
        .limit(1)
    ).first()
    if last is None:  # fewer than WALK_ROWS gifts left: walk them all
        rows = _select(connection, viewer, query.walk + bounds, order, limit)
        return rows, False
    descending = keys[0][1]
    # The unpriced segment's key is (NULL, id): its edge is the id alone.
    edges = [(c, v) for c, v in zip(columns, last, strict=True) if v is not None]
    row = sa.tuple_(*(column for column, _ in edges))
    edge = sa.tuple_(*(sa.literal(value, column.type) for column, value in edges))
    within = row >= edge if descending else row <= edge
    where = query.walk + bounds + [within]
    scattered = columns[0] is not gifts.c.created_at
    rows = _select(connection, viewer, where, order, limit, scattered=scattered)
    if len(rows) == limit:
        return rows, False
    # Beyond the walk, in keys no index provides either: SQLite, told that
    # half the gifts share the filter's status, read the sort index's range
    # and every gift in it instead (5 s at 1M gifts for 100 matches).
    out_of_reach = sa.tuple_(*(_unindexed(column) for column, _ in edges))
    beyond = out_of_reach < edge if descending else out_of_reach > edge
    # ``beyond`` implies the cursor's bound (the edge is past the cursor):
    # only the price segment's stays, so that no index serves the cursor's.
    segment = [b for b in bounds if not any(b is c for c in cursor)]
    rest = query.drive + segment + [beyond]
    rows += _select(connection, viewer, rest, unindexed, limit - len(rows), narrow=True)
    return rows, True


def _newest_first(
    connection: Connection,
    viewer: Viewer,
    query_of: Callable[[list[Any], list[Any], Any], _Query],
    found: search.Search,
    past: tuple[Any, ...],
    keys: list[tuple[Any, bool]],
    limit: int,
) -> list[Mapping[str, Any]]:
    """The first ``limit`` gifts newest first past the cursor (``past``) of a
    search term in many names (``search.Newest``): among the newest matches
    its index named, every one created since ``since``; if that is less than
    ``limit``, the rest from the older gifts, as any page is read. At 1M
    gifts, "gift 1" (the newest of its 111 000 names 800 000 gifts back):
    96-100x the plain first page on SQLite -> 1.8-2.0x; for a linked member
    107-112x -> 2.0x (bench/shapes.py, one run each way, twice)."""
    newest = found.newest
    assert newest is not None
    query = query_of([newest.among], [newest.among], newest.ids)
    since = [] if newest.since is None else [gifts.c.created_at >= newest.since]
    rows, _ = _page(
        connection, viewer, query, [*past, *since], keys, limit, cursor=past
    )
    if newest.since is None or len(rows) >= limit:
        return rows
    older = [*past, gifts.c.created_at < newest.since]
    query = query_of([found.walk], [found.drive], found.ids)
    more = _page(connection, viewer, query, older, keys, limit - len(rows), cursor=past)
    return rows + more[0]


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
    keys = [(column, descending), (gifts.c.id, descending)]

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
        shown = None
        if viewer.linked and args.get("list_ids"):
            shown = _shown_lists(connection, viewer, args["list_ids"])
            if not shown:  # only planning lists of theirs: nothing to show
                return [], False, None
        # Built once, on the page's connection: a search's predicate may look
        # at its index first (app/gifts/search.py).
        own = _gift_filters(args, viewer, connection, searched=False)
        # The link probes first: SQLite checks a walk's terms in order, and
        # reads the gift's row only for the first term that needs a column of
        # it; a probe needs the id alone, which the sort index holds. A list
        # of every 50th gift walked for a linked member (whose rule reads the
        # row): 2.2 -> 1.1 ms for the walk's statement at 1M gifts.
        probes = _link_filters(args, viewer, probe=True, shown=shown)
        sqlite = connection.dialect.name == "sqlite"
        links = _link_filters(args, viewer, shown=shown, joined=sqlite)

        def query_of(walked: list[Any], driven: list[Any], ids: Any) -> _Query:
            """The page's query, with the search's terms (``ids``: those it
            read, ``search.Search.ids``)."""
            walk = probes + own + walked
            plain = len(walk) == 1
            candidates = (
                None
                if plain
                else _candidates(connection, args, viewer, shown, limit + 1, ids)
            )
            return _Query(walk, own + driven + links, plain, candidates)

        found = None
        if args.get("search"):
            newest = search.NEWEST * (limit + 1) if sort == "recent" else 0
            found = search.matches(
                args["search"], connection, newest=newest, before=key
            )
        if found is not None and found.newest is not None:
            past = tuple(after(column))
            rows = _newest_first(
                connection, viewer, query_of, found, past, keys, limit + 1
            )
            return _answer(sort, rows, limit)
        if found is None:
            query = query_of([], [], None)
        else:
            query = query_of([found.walk], [found.drive], found.ids)
        if column.key != "price":
            past = tuple(after(column))
            rows, _ = _page(
                connection, viewer, query, list(past), keys, limit + 1, cursor=past
            )
        else:
            # Gifts with a price first, in price order; those with none after,
            # in id order: two index range scans instead of a NULLS LAST sort.
            rows, sparse = [], False
            if key is not None or last_id is None:
                past = tuple(after(column))
                priced = [column.is_not(None), *past]
                rows, sparse = _page(
                    connection, viewer, query, priced, keys, limit + 1, cursor=past
                )
                last_id = None  # the unpriced gifts start from the beginning
            if len(rows) <= limit:
                # In id order; (price, id) says the same of these, and lets
                # PostgreSQL walk the price index (it walked the primary key,
                # skipping the priced ones, when told id alone).
                past = tuple(after())
                unpriced = [column.is_(None), *past]
                more = limit + 1 - len(rows)
                rows += _page(
                    connection, viewer, query, unpriced, keys, more, not sparse, past
                )[0]
    return _answer(sort, rows, limit)


def _answer(
    sort: str, rows: list[Mapping[str, Any]], limit: int
) -> tuple[list[Mapping[str, Any]], bool, str | None]:
    """The page of ``limit`` gifts of ``rows`` (one more says there are
    more), whether there are more, and the next page's cursor."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, rows[-1]) if has_more else None
    return rows, has_more, next_cursor


@retry_read
def summarize(args: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """Counts by status and from Santa, and the exact sum of price x quantity,
    of the gifts matching the listing's filters: one grouped query. Wishes
    count as their wisher sees them (grouped apart, then read as ideas)."""
    wish = wish_view(viewer, whole=True).label("wish")
    with autocommit() as connection:
        where = filters(args, viewer, connection, whole=True)
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

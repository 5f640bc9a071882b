"""The listing's three ways to a page give the one answer (app/gifts/listing.py
``_page``): a filtered page walks the sort order for at most WALK_ROWS gifts,
then takes the rest from the filters' indexes; or, when a filter's own index
holds fewer than PROBE_ROWS entries for it, reads the page from the gifts
those entries name (``_candidates``). With WALK_ROWS far above the table's
size and PROBE_ROWS 0 every page is one query walking the sort order; with
WALK_ROWS 1 to 6, most pages mix the walk and the drive, or drive alone;
with PROBE_ROWS above the table's size every probed filter is few. For
random filters, sorts, page sizes and members (a linked parent and a linked
child among them), every page followed by its cursors is the same every way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.gifts import listing, search
from app.visibility import gifts
from tests.conftest import POSTGRES_URL, client_with_token, make_member
from tests.family import GIFTS, make_family

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
STATUSES = ("idea", "selected", "purchased", "received")
PRIORITIES = ("low", "medium", "high")
SORTS = ("recent", "price_asc", "price_desc", "name")


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """A family's gifts: every status, priority, price or none, from Santa or
    not, for Mum, the kid or Gran, on lists (Mum's planning list among them),
    claimed or not, some of them wishes; names repeat, so sorts tie."""
    family = make_family(app)
    planning = family.list(family.dad, name="For Mum", person_id=family.mum.person)
    shared = family.list(family.dad, name="Shared")
    people = [family.mum.person, family.kid.person, family.gran]
    for n in range(24):
        by = family.mum if n % 7 == 0 else family.dad
        fields: dict[str, Any | None] = {
            "name": ("Kite", "Ball", "Book")[n % 3],
            "price": None if n % 5 == 0 else n % 4 * 10 + 5,
            "priority": PRIORITIES[n % 3],
            "status": STATUSES[n % 4],
            "from_santa": n % 6 == 1,
            "recipient_ids": [people[n % 3]] + ([people[(n + 1) % 3]] if n % 4 else []),
            "list_ids": [[], [shared["id"]], [planning["id"]]][n % 3],
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        if by is family.mum:  # her wish when it is for her; no planning list
            fields = {
                k: v for k, v in fields.items() if k not in ("status", "from_santa")
            }
            fields["list_ids"] = [shared["id"]]
        if n % 4 == 2 and by is family.dad:
            fields["claimed_by"] = family.dad.id
        family.gift(by, **fields)
    spread_creation(app)
    observer = client_with_token(app, make_member(app, "Aunt", "parent")[1])
    return {
        "clients": {
            "observer": observer,
            "mum": family.mum.client,
            "kid": family.kid.client,
        },
        "people": people,
        "lists": [planning["id"], shared["id"]],
        "dad": family.dad.id,
    }


def spread_creation(app: Flask) -> None:
    """The gifts created four to a second, a microsecond apart, in the order
    of creation: a Kite, a Ball, a Book and a Kite share a second (names
    repeat every third gift), for an index keyed by the second
    (app/gifts/search.py ``Newest``)."""
    from app.extensions import db

    base = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)
    with app.app_context(), db.engine.begin() as connection:
        order = [gifts.c.created_at, gifts.c.id]
        ids = connection.scalars(sa.select(gifts.c.id).order_by(*order)).all()
        for n, gift_id in enumerate(ids):
            at = base + dt.timedelta(seconds=n // 4, microseconds=n)
            connection.execute(
                sa.update(gifts).where(gifts.c.id == gift_id).values(created_at=at)
            )


def _args(world: dict[str, Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    def some(name: str, values: Any) -> st.SearchStrategy[list[tuple[str, Any]]]:
        chosen = st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)
        return st.one_of(st.just([]), chosen.map(lambda v: [(name, x) for x in v]))

    parts = [
        some("statuses", STATUSES),
        some("priority", PRIORITIES),
        some("person_ids", world["people"]),
        some("list_ids", world["lists"]),
        st.sampled_from([[], [("from_santa", "true")], [("from_santa", "false")]]),
        st.sampled_from([[], [("search", "kit")], [("search", "boo")]]),
        st.sampled_from(
            [[], [("claimed_by", "none")], [("claimed_by", str(world["dad"]))]]
        ),
    ]
    return st.tuples(*parts).map(
        lambda chosen: [pair for part in chosen for pair in part]
    )


def _pages(client: Any, query: list[tuple[str, Any]]) -> list[list[int]]:
    """Every page's ids, following next_cursor to the end."""
    pages, cursor = [], None
    for _ in range(40):
        params = query + ([("cursor", cursor)] if cursor else [])
        response = client.get(f"{GIFTS}?{urlencode(params)}")
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append([gift["id"] for gift in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("more than 40 pages")


@contextmanager
def _spied_selects() -> Iterator[list[bool]]:
    """Each ``listing._select`` the pages make, in order: whether it was
    narrow (a drive's sort of ids and keys)."""
    narrow: list[bool] = []
    real = listing._select

    def spy(*args: Any, **kwargs: Any) -> Any:
        narrow.append(kwargs.get("narrow", False))
        return real(*args, **kwargs)

    with mock.patch.object(listing, "_select", spy):
        yield narrow


@contextmanager
def _one_query() -> Iterator[None]:
    """Every page one query walking the sort order: no probe is ever few."""
    with (
        mock.patch.object(listing, "WALK_ROWS", 10**9),
        mock.patch.object(listing, "PROBE_ROWS", 0),
        mock.patch.object(listing, "OWN_PROBE_ROWS", 0),
        mock.patch.object(search, "FEW", 0),
        mock.patch.object(search, "NEWEST", 0),
    ):
        yield


@given(data=st.data())
@SETTINGS
def test_the_walk_and_the_drive_give_the_pages_of_one_query(
    world: dict[str, Any], data: st.DataObject
) -> None:
    member = data.draw(st.sampled_from(sorted(world["clients"])))
    client = world["clients"][member]
    query = data.draw(_args(world))
    query += [
        ("sort", data.draw(st.sampled_from(SORTS))),
        ("limit", data.draw(st.integers(1, 5))),
    ]
    with _one_query():
        one_query = _pages(client, query)
    walk = data.draw(st.integers(1, 6))
    probes = [0, 1, 2, 3, 5, 8, 10**9]
    probe, own = data.draw(st.sampled_from(probes)), data.draw(st.sampled_from(probes))
    # No trigram rare (RARE 0): newest first reads the newest matches in key
    # order, NEWEST at a time.
    rare = data.draw(st.sampled_from([search.RARE, 0]))
    newest = data.draw(st.sampled_from([1, 2, 3, search.NEWEST]))
    with (
        mock.patch.object(listing, "WALK_ROWS", walk),
        mock.patch.object(listing, "PROBE_ROWS", probe),
        mock.patch.object(listing, "OWN_PROBE_ROWS", own),
        mock.patch.object(search, "RARE", rare),
        mock.patch.object(search, "NEWEST", newest),
    ):
        mixed = _pages(client, query)
    assert mixed == one_query


@given(data=st.data())
@SETTINGS
def test_a_search_newest_first_read_from_its_newest_matches_pages_as_one_query(
    world: dict[str, Any], data: st.DataObject
) -> None:
    """Newest first, a term no trigram of which is rare (RARE 0) is read from
    the newest matches its index names in key order (SQLite; PostgreSQL
    walks): those created after the last one's second, then the older ones.
    With 1, 2, 3 or 5 pages of them read at a time, seconds shared by four
    gifts, any filters, members and page sizes: the one query's pages."""
    member = data.draw(st.sampled_from(sorted(world["clients"])))
    client = world["clients"][member]
    query = [(k, v) for k, v in data.draw(_args(world)) if k != "search"]
    query += [
        ("search", data.draw(st.sampled_from(["kit", "boo", "Book", "ook", "all"]))),
        ("sort", "recent"),
        ("limit", data.draw(st.integers(1, 5))),
    ]
    with _one_query():
        one_query = _pages(client, query)
    walk = data.draw(st.sampled_from([1, 3, 10**9]))
    with (
        mock.patch.object(listing, "WALK_ROWS", walk),
        mock.patch.object(search, "RARE", 0),
        mock.patch.object(search, "NEWEST", data.draw(st.sampled_from([1, 2, 3, 5]))),
    ):
        assert _pages(client, query) == one_query


def test_a_short_walk_drives_and_still_finds_every_match(
    world: dict[str, Any],
) -> None:
    """The mixed way is not the one query by accident: with a walk of one
    gift a sparse filter's page comes from the drive, and has every match."""
    client = world["clients"]["observer"]
    query = [("list_ids", world["lists"][1]), ("sort", "name"), ("limit", 50)]
    with mock.patch.object(listing, "WALK_ROWS", 10**9):
        (whole,) = _pages(client, query)
    with (
        mock.patch.object(listing, "WALK_ROWS", 1),
        mock.patch.object(listing, "PROBE_ROWS", 0),
        _spied_selects() as calls,
    ):
        (driven,) = _pages(client, query)
    assert len(calls) == 2  # the walk of one gift, then the drive
    assert driven == whole
    # On the shared list: every 3rd gift (n % 3 == 1), and all of Mum's.
    assert len(whole) == len([n for n in range(24) if n % 3 == 1 or n % 7 == 0])


@contextmanager
def _sent(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engines send meanwhile, in order."""
    from app.extensions import db

    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", keep)


def _statements(app: Flask, client: Any, query: list[tuple[str, Any]]) -> list[str]:
    """The SQL statements one page of ``query`` sends."""
    with _sent(app) as sent:
        _pages(client, query)
    return [s for s in sent if "gifts" in s or "gift_lists" in s]


def test_a_few_filter_reads_its_candidates_and_skips_the_walk(
    app: Flask, world: dict[str, Any]
) -> None:
    """A filter whose index holds fewer than PROBE_ROWS entries is read
    from them: no walk of the sort order, and still every match, in order;
    one with more is walked as before. (A list: on PostgreSQL only the link
    filters are probed.)"""
    client = world["clients"]["observer"]
    query = [("list_ids", world["lists"][1]), ("sort", "price_desc"), ("limit", 50)]
    with _one_query():
        (whole,) = _pages(client, query)
    with mock.patch.object(listing, "WALK_ROWS", 1), _spied_selects() as calls:
        (driven,) = _pages(client, query)
    # The priced ones, then the unpriced: two reads of the candidates, no walk.
    assert len(calls) == 2
    assert driven == whole
    # On the shared list: every 3rd gift (n % 3 == 1), and all of Mum's.
    assert len(whole) == len([n for n in range(24) if n % 3 == 1 or n % 7 == 0])
    with (
        mock.patch.object(listing, "WALK_ROWS", 1),
        mock.patch.object(listing, "PROBE_ROWS", 2),  # 11 links: not few
        _spied_selects() as calls,
    ):
        (walked,) = _pages(client, query)
    assert walked == whole
    # The priced: a walk of one gift, then the drive; the unpriced: driven
    # (the priced proved the filter sparse).
    assert len(calls) == 3


def test_a_few_filter_of_a_small_table_is_walked(
    app: Flask, world: dict[str, Any]
) -> None:
    """The list's 11 links are few (under PROBE_ROWS), but in a table of 24
    gifts a page of 2 is found sooner by the walk: the candidates are read
    only when the table holds more than their count squared over the page
    (121 / 3 = 40 gifts > 24); for a page of 50 (121 / 51 = 2) they are."""
    client = world["clients"]["observer"]
    for limit, driven in ((2, False), (50, True)):
        query = [("list_ids", world["lists"][1]), ("sort", "name"), ("limit", limit)]
        with _one_query():
            one_query = _pages(client, query)
        with _spied_selects() as narrow:
            assert _pages(client, query) == one_query
        assert narrow[0] is driven, limit


def test_a_planning_list_of_the_viewer_matches_nothing_without_a_read(
    app: Flask, world: dict[str, Any]
) -> None:
    """Mum asks for her own planning list: the empty page comes from the
    lists she may see, with no read of gifts or links at all; the shared
    list beside it still gives its gifts."""
    client = world["clients"]["mum"]
    planning, shared = world["lists"]
    sent = _statements(app, client, [("list_ids", planning)])
    assert not [s for s in sent if "FROM gifts" in s or "FROM gift_lists" in s]
    (page,) = _pages(client, [("list_ids", planning)])
    assert page == []
    (both,) = _pages(client, [("list_ids", planning), ("list_ids", shared)])
    (alone,) = _pages(client, [("list_ids", shared)])
    assert both == alone and alone


def test_a_members_own_person_is_read_from_her_wishes_and_the_given_gifts(
    world: dict[str, Any],
) -> None:
    """Of the gifts for Mum, Mum sees her wishes and those received alone:
    her page of her own person is read from those two (gifts.created_by's
    and gifts.status's indexes), not from every gift for her, and is the
    one query's page. For another person, or with her and another, it is
    not (she sees every gift of theirs that is not for her)."""
    client = world["clients"]["mum"]
    mum, kid, _ = world["people"]
    for people, driven in (([mum], True), ([kid], False), ([mum, kid], False)):
        query = [*(("person_ids", p) for p in people), ("sort", "name"), ("limit", 50)]
        with _one_query():
            (whole,) = _pages(client, query)
        with (
            mock.patch.object(listing, "WALK_ROWS", 1),
            mock.patch.object(listing, "PROBE_ROWS", 0),
            _spied_selects() as narrow,
        ):
            (page,) = _pages(client, query)
        assert page == whole and whole, people
        # Driven: one read of her two sets (``_own_page``), no walk first;
        # otherwise a walk of one gift, then the drive.
        assert narrow == ([False] if driven else [False, True]), (people, narrow)
    # Of the gifts for her (world: first or second recipient), her own
    # (n % 7 == 0: ideas) and Dad's received ones (n % 4 == 3).
    (own,) = _pages(client, [("person_ids", mum), ("limit", 50)])
    for_mum = [n for n in range(24) if n % 3 == 0 or (n % 4 and n % 3 == 2)]
    assert len(own) == len([n for n in for_mum if n % 7 == 0 or n % 4 == 3])


def test_a_members_own_person_in_every_sort_merges_her_wishes_and_the_given(
    world: dict[str, Any],
) -> None:
    """In every sort, her page of her own person reads her first wishes in
    the order of an index by creator ((created_by, created_at, id), by price,
    by name), merged with the gifts given (``_own_page``), page after page
    through the cursor: the one query's pages (by price: the priced, then
    the unpriced)."""
    client = world["clients"]["mum"]
    mum = world["people"][0]
    # One of her wishes given: in both sets, once on her page.
    me = client.get("/api/v1/members/me").get_json()["id"]
    observer = world["clients"]["observer"]
    body = observer.get(f"{GIFTS}?person_ids={mum}&limit=100").get_json()
    wish = next(gift for gift in body["items"] if gift["created_by"] == me)
    given = observer.patch(f"{GIFTS}/{wish['id']}", json={"status": "received"})
    assert given.status_code == 200, given.get_json()
    for sort in listing.SORTS:
        query = [("person_ids", mum), ("sort", sort), ("limit", 2)]
        with _one_query():
            whole = _pages(client, query)
        calls: list[int] = []
        real = listing._own_page

        def spy(*args: Any, calls: list[int] = calls, real: Any = real) -> Any:
            calls.append(1)
            return real(*args)

        with (
            mock.patch.object(listing, "WALK_ROWS", 1),
            mock.patch.object(listing, "PROBE_ROWS", 0),
            # As in a large table: the candidates, not the walk.
            mock.patch.object(listing, "PAST_ROWS", 0),
            mock.patch.object(listing, "_planned_rows", lambda _: 10**6),
            mock.patch.object(listing, "_own_page", spy),
            _spied_selects() as selects,
        ):
            pages = _pages(client, query)
        assert pages == whole and len(whole) > 2, sort
        # Every read of every page is hers (by price, the page where the
        # priced end reads the unpriced too): none walks.
        assert len(selects) == len(calls) >= len(pages), (sort, calls, selects)


def _planned_rows(connection: Any, rows: int | None) -> Callable[[Any], None]:
    """Set the planner's count of the gifts as ANALYZE would (None: never
    counted); what puts the figure before back. Only that figure: an ANALYZE
    here left column statistics that changed later tests' plans on
    PostgreSQL."""
    if connection.dialect.name == "sqlite":
        where = "WHERE tbl = 'gifts' AND idx = 'ix_gifts_created_at_id'"

        def put(connection: Any, stat: str | None) -> None:
            connection.exec_driver_sql(f"DELETE FROM sqlite_stat1 {where}")
            if stat is not None:
                connection.exec_driver_sql(
                    "INSERT INTO sqlite_stat1 VALUES"
                    " ('gifts', 'ix_gifts_created_at_id', ?)",
                    (stat,),
                )

        found = connection.exec_driver_sql(f"SELECT stat FROM sqlite_stat1 {where}")
        before = found.scalar()
        put(connection, None if rows is None else f"{rows} 1")
        return lambda connection: put(connection, before)

    def count(connection: Any, reltuples: float) -> None:
        connection.exec_driver_sql(
            "UPDATE pg_class SET reltuples = %(rows)s WHERE oid = 'gifts'::regclass",
            {"rows": reltuples},
        )

    found = "SELECT reltuples FROM pg_class WHERE oid = 'gifts'::regclass"
    before = connection.exec_driver_sql(found).scalar()
    count(connection, -1 if rows is None else rows)
    return lambda connection: count(connection, before)


def test_past_the_read_of_the_index_the_planners_count_says_how_big(
    app: Flask, world: dict[str, Any]
) -> None:
    """When the candidates' count squared over the page is more than
    PAST_ROWS, the table's size comes from the planner's statistics, not a
    read of the index that far: without them the page is walked, as for a
    small table, and when they count too few gifts; when they count enough
    it is driven. The same page every way."""
    from app.extensions import db

    client = world["clients"]["observer"]
    query = [("list_ids", world["lists"][1]), ("sort", "name"), ("limit", 50)]
    with _one_query():
        (whole,) = _pages(client, query)
    # 11 links: the walk would read 11² / 51 = 2 gifts.
    with app.app_context(), db.engine.begin() as connection:
        restore = _planned_rows(connection, None)
    try:
        for rows, driven in ((None, False), (1, False), (24, True)):
            with app.app_context(), db.engine.begin() as connection:
                _planned_rows(connection, rows)
            with (
                mock.patch.object(listing, "PAST_ROWS", 0),
                mock.patch.object(listing, "_PAST", None),  # never read
                _spied_selects() as narrow,
            ):
                (page,) = _pages(client, query)
            assert page == whole
            assert narrow[0] is driven, rows
    finally:
        with app.app_context(), db.engine.begin() as connection:
            restore(connection)


def test_a_person_and_a_list_sharing_few_gifts_are_read_from_those_alone(
    app: Flask,
) -> None:
    """Gran is on 8 gifts, the list holds 6, and they share 2, then none:
    each filter alone has more links than PROBE_ROWS (3), the two together
    fewer. The page is read from the shared gifts by id (no walk), and with
    none shared it is empty without a read of the gifts. The one query's
    page every way."""
    family = make_family(app)
    toys = family.list(family.dad, name="Toys")
    for n in range(12):
        fields: dict[str, Any] = {"name": f"Gift {n}"}
        if n < 8:
            fields["recipient_ids"] = [family.gran]
        if n >= 6:
            fields["list_ids"] = [toys["id"]]
        family.gift(family.dad, **fields)
    client = family.dad.client
    query = [("person_ids", family.gran), ("list_ids", toys["id"]), ("limit", 50)]
    with _one_query():
        (whole,) = _pages(client, query)
    assert len(whole) == 2  # gifts 6 and 7
    with (
        mock.patch.object(listing, "WALK_ROWS", 1),
        mock.patch.object(listing, "PROBE_ROWS", 3),
        _spied_selects() as narrow,
    ):
        (page,) = _pages(client, query)
    assert page == whole
    # One read of the shared gifts, sorted: no walk.
    assert narrow == [True], narrow
    for gift_id in whole:  # now they share none
        response = client.patch(f"{GIFTS}/{gift_id}", json={"list_ids": []})
        assert response.status_code == 200, response.get_json()
    with mock.patch.object(listing, "PROBE_ROWS", 3):
        sent = _statements(app, client, query)
        (page,) = _pages(client, query)
    assert page == []
    read_gifts = [s for s in sent if "FROM gifts" in s]
    assert read_gifts == [], read_gifts


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's trigram index names ids")
def test_a_search_few_names_hold_is_read_from_the_ids_its_index_names(
    app: Flask,
) -> None:
    """Three of twelve names hold "kite": the index names their ids, and the
    page is read from them alone, sorted, with no walk of the sort order;
    with none holding the term, the page is empty without a read of the
    gifts. The one query's page either way."""
    family = make_family(app)
    for n in range(12):
        family.gift(family.dad, name=f"Kite {n}" if n % 4 == 0 else f"Gift {n}")
    client = family.dad.client
    query = [("search", "KITE"), ("limit", 2), ("sort", "name")]
    with _one_query():
        whole = _pages(client, query)
    assert [len(page) for page in whole] == [2, 1]
    with mock.patch.object(listing, "WALK_ROWS", 1), _spied_selects() as narrow:
        assert _pages(client, query) == whole
    assert narrow == [True, True], narrow  # one read a page: no walk
    query = [("search", "kitten"), ("limit", 2)]
    sent = _statements(app, client, query)
    assert _pages(client, query) == [[]]
    assert [s for s in sent if "FROM gifts" in s] == []


@contextmanager
def _walks_sent(app: Flask) -> Iterator[list[tuple[bool, str]]]:
    """Each walk of the sort index (a ``_select`` not ``narrow``), in order:
    whether it was called ``scattered``, and the SQL statement it sent."""
    walked: list[tuple[bool, str]] = []
    real = listing._select

    with _sent(app) as sent:

        def spy(*args: Any, **kwargs: Any) -> Any:
            del sent[:]
            rows = real(*args, **kwargs)
            if not kwargs.get("narrow"):
                walked.extend((kwargs.get("scattered", False), s) for s in sent)
            return rows

        with mock.patch.object(listing, "_select", spy):
            yield walked


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite reads a walked gift's row lazily")
def test_a_walk_that_needs_the_sort_index_alone_reads_ids_first_on_postgresql(
    app: Flask, world: dict[str, Any]
) -> None:
    """A parent's walk of a list's gifts by price or name probes each gift's
    links, which the sort index's id answers: the walk reads ids alone (an
    Index Only Scan), and the page's gifts whole after. Newest first (the
    table's own order) it reads them whole, as a child's walk does (the
    Santa rule) and a linked member's (her hidden gifts): those read columns
    of the row. The one query's pages every way."""
    cases = [
        ("observer", "price_desc", True),
        ("observer", "name", True),
        ("observer", "recent", False),
        ("kid", "price_asc", False),
        ("mum", "name", False),
    ]
    for member, sort, ids_first in cases:
        client = world["clients"][member]
        query = [("list_ids", world["lists"][1]), ("sort", sort), ("limit", 2)]
        with _one_query():
            one_query = _pages(client, query)
        with (
            mock.patch.object(listing, "WALK_ROWS", 5),
            mock.patch.object(listing, "PROBE_ROWS", 0),
            _walks_sent(app) as walked,
        ):
            assert _pages(client, query) == one_query, member
        # The first page's walk is of 5 gifts of the 24; the last pages walk
        # the few left whole.
        assert walked[0][0] is (sort != "recent"), (member, sort, walked)
        narrow = [
            "WHERE gifts.id IN (SELECT gifts.id" in statement
            for scattered, statement in walked
        ]
        expected = [ids_first and scattered for scattered, _ in walked]
        assert narrow == expected, (member, sort, walked)

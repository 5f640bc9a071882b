"""The listing's and the summary's ``search``, by database.

The rule (app/folding.py): the term, folded, is a substring of the name,
folded. Every database answers it exactly, in two forms (``Search``): one a
page checks on each gift it walks in its sort order, one that reads the
matches from an index (the page's drive, app/gifts/listing.py ``_page``,
and the summary). The listing's walk decides between them: a term in many
names fills the page within its walk, a rare one is driven from the index.

- PostgreSQL, both forms: ``name ~ <regex>``, each character of the term a
  class of the characters folding as it does (app.folding.regex), served
  by the trigram index of migration 0006 for 3 or more characters. pg_trgm
  takes no trigram from a class holding a character above U+07FF (``k``'s
  holds the Kelvin sign), so ``kit`` read the whole index (464 ms at a
  million gifts): such a term gets ``name ILIKE <pattern>`` before it, a
  superset the index reads (app.folding.like_superset; 0.2 ms). Only such a
  term: ILIKE reads every trigram, common ones too, where the regex's
  extraction leaves some out (``Gift 123456``: 15 ms against 4 ms).
- SQLite, 3 or more characters with the FTS5 trigram index of migration
  0015 (0010's on a database one revision behind): of the trigrams covering
  the term side by side (every third, and the last), those found in at most
  ``RARE`` names each (one statement counts each up to RARE + 1) give the
  ids, ANDed, and the name is checked on those; the walk too then reads
  ids, not names. Fewer than FEW of them are read at once (``Search.ids``),
  and the listing reads its page from them, sorted (app/gifts/listing.py
  ``_candidates``). A phrase of the whole term made FTS5 read every
  trigram's list, common ones too (``gift 123456``: 22 ms for one gift,
  "gif" being in every name; its rare trigrams 0.4 ms). A term all of whose
  trigrams are common walks checking each name and drives by the same scan
  (the summary reads the phrase); newest first, it is read from its newest
  matches instead, in the order of 0015's keys (``Newest``): the walk found
  none of "gift 1" in the newest 800 000 gifts of bench/shapes.py.
- The scan: SQLite's ``lower()`` where it folds exactly as the rule does
  (an ASCII term with no letter that a character beyond ASCII folds into),
  else the SQL function ``gift_name_contains`` (app/database.py registers
  it on every connection); alone for 2 characters or without the index
  (before 0010, an SQLite without FTS5's trigrams).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app import folding
from app.visibility import gifts

# 0015's index, its rowid the gift's creation second and id counted down
# (the newest gift first: its migration says why), and 0010's, its rowid the
# id, which a database one revision behind still has.
INDEX = "gift_name_trigrams"
INDEX_BY_ID = "gift_name_search"
ID_BITS = 31  # ids are below 2^31 (app/ids.py)
ID_MASK = (1 << ID_BITS) - 1
LAST_SECOND = 2**32 - 1  # 0015 clamps the second to 0 ... 2^32 - 1
# A trigram in at most this many names drives a search (counting one's
# first 5 001 names costs about 0.3 ms at a million gifts).
RARE = 5000
# Rare trigrams naming fewer than this many gifts together: their ids are
# read once, and the page is read from them (the listing's PROBE_ROWS).
# Asked as the index's subquery instead, "1234" (600 names at 1M gifts)
# read the index twice, for a walk of 5 000 gifts and then the drive.
FEW = 2000
# Newest first, a term in many names: the newest matches, this many pages of
# them, are read from 0015's index in key order, and the page is read from
# those created after the last one's second (``Newest``). At 1M gifts, "gift
# 1" first page newest first (bench/shapes.py): 2 pages (102 keys, 0.1 ms),
# 1.8-2.0x the plain first page; 500 keys cost 3.2-3.3x (the page then
# reads 500 gifts). 0 reads none (the walk, as before 0015).
NEWEST = 2


class Newest(NamedTuple):
    """Newest first, a term in many names: ``among``, the gifts that may
    match of the newest the index names at or before the cursor's second
    (``ids``); every match created since ``since`` is among them, and every
    match when ``since`` is None (the index named fewer than it was asked)."""

    among: Any
    ids: list[int]
    since: dt.datetime | None


class Search(NamedTuple):
    """``walk``: checked on each gift a page walks; ``drive``: the matches
    read from an index. The same gifts. ``ids``: when the index named fewer
    than FEW gifts that may match, their ids, read already (both forms then
    check those alone): the listing reads its page from them, sorted.
    ``newest``: for a page newest first, the newest matches (``Newest``)."""

    walk: Any
    drive: Any
    ids: list[int] | None = None
    newest: Newest | None = None


def second(moment: dt.datetime) -> int:
    """The creation second of 0015's key, as its triggers compute it."""
    return max(0, min(LAST_SECOND, int(moment.timestamp())))


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _scan(term: str) -> Any:
    folded = folding.fold(term)
    if folding.ascii_lower_finds(folded):
        return sa.func.instr(sa.func.lower(gifts.c.name), folded) > 0
    return sa.func.gift_name_contains(gifts.c.name, folded) == 1


class _Index(NamedTuple):
    """One search index (``name``) and its statements, built once."""

    name: str
    gift_id: Any  # a match's id: the rowid, or 0015's key's low bits
    whole: Any  # the table as FTS5's MATCH names it
    # The first ``bound`` ids of the FTS5 query ``match``.
    named: Any
    # 0015's: the first ``bound`` keys of ``match`` from ``lowest`` on,
    # newest first; None for 0010's.
    newest: Any


def _found(index: _Index, match: Any) -> Any:
    """The ids of the FTS5 query ``match`` (a value or a parameter)."""
    return sa.select(index.gift_id).where(index.whole.op("MATCH")(match))


@lru_cache(maxsize=4)
def _index(name: str) -> _Index:
    table = sa.table(name, sa.column("rowid"))
    whole = sa.literal_column(name)
    keyed = name == INDEX
    gift_id = ID_MASK - table.c.rowid.op("&")(ID_MASK) if keyed else table.c.rowid
    index = _Index(name, gift_id, whole, None, None)
    named = _found(index, sa.bindparam("match")).limit(sa.bindparam("bound"))
    newest = None
    if keyed:
        newest = (
            sa.select(table.c.rowid)
            .where(whole.op("MATCH")(sa.bindparam("match")))
            .where(table.c.rowid >= sa.bindparam("lowest"))
            .order_by(table.c.rowid)
            .limit(sa.bindparam("bound"))
        )
    return index._replace(named=named, newest=newest)


_INDEXES = sa.text(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (:a, :b)"
).bindparams(a=INDEX, b=INDEX_BY_ID)


def _present(connection: Connection) -> _Index | None:
    """The search index this database has (0015's, or 0010's), or None."""
    names = set(connection.scalars(_INDEXES))
    for name in (INDEX, INDEX_BY_ID):
        if name in names:
            return _index(name)
    return None  # before 0010, or an SQLite without FTS5's trigrams


@lru_cache(maxsize=64)
def _trigram_counts(name: str, n: int) -> sa.Select[Any]:
    """One statement counting the first RARE + 1 names of each of ``n``
    trigrams (parameters ``t0``, ``t1``, ...) in index ``name``."""
    index = _index(name)
    return sa.select(
        *(
            sa.select(sa.func.count())
            .select_from(
                _found(index, sa.bindparam(f"t{i}")).limit(RARE + 1).subquery()
            )
            .scalar_subquery()
            for i in range(n)
        )
    )


def _rare_trigrams(connection: Connection, index: _Index, term: str) -> list[str]:
    """Of the term's trigrams that cover it side by side (every third, and
    the last: counting a common one costs what counting a rare one to RARE
    does), those in at most RARE names each, as FTS5 phrases."""
    starts = {*range(0, len(term) - 2, 3), len(term) - 3}
    trigrams = sorted({_phrase(term[i : i + 3]) for i in starts})
    values = {f"t{i}": trigram for i, trigram in enumerate(trigrams)}
    counts = _trigram_counts(index.name, len(trigrams))
    found = connection.execute(counts, values).one()
    return [t for t, n in zip(trigrams, found, strict=True) if n <= RARE]


def _newest(
    connection: Connection,
    index: _Index,
    term: str,
    scan: Any,
    newest: int,
    before: dt.datetime | None,
) -> Newest | None:
    """The ``newest`` newest matches of ``term`` at or before ``before``'s
    second (the cursor's; None: the first page), from 0015's index in key
    order. None where the key cannot tell: past its last second."""
    if before is not None and second(before) >= LAST_SECOND:
        return None
    lowest = (LAST_SECOND - second(before)) << ID_BITS if before is not None else 0
    values = {"match": _phrase(term), "lowest": lowest, "bound": newest}
    keys = list(connection.scalars(index.newest, values))
    since = None
    if len(keys) >= newest:
        # Every match created after this second is among the keys; of its
        # own second, maybe not all: the page takes those after it.
        last = LAST_SECOND - (keys[-1] >> ID_BITS)
        if last >= LAST_SECOND:
            return None
        since = dt.datetime.fromtimestamp(last + 1, dt.UTC)
    ids = sorted(ID_MASK - (k & ID_MASK) for k in keys)
    listed = sa.bindparam("newest_ids", ids, expanding=True)
    return Newest(gifts.c.id.in_(listed) & scan, ids, since)


def _sqlite(
    term: str,
    connection: Connection,
    reads_all: bool,
    newest: int,
    before: dt.datetime | None,
) -> Search:
    scan = _scan(term)
    if len(term) < 3:
        return Search(scan, scan)
    index = _present(connection)
    if index is None:
        return Search(scan, scan)
    rare = _rare_trigrams(connection, index, term)
    if rare:  # few matches: the walk too reads the index's ids, not each name
        match = " AND ".join(rare)
        named = {"match": match, "bound": FEW}
        ids = sorted(connection.execute(index.named, named).scalars().all())
        if len(ids) < FEW:
            # One expanding parameter: IN of the list itself coerced each id
            # into a parameter of its own as the statement was built.
            listed = sa.bindparam("search_ids", ids, expanding=True)
            among = gifts.c.id.in_(listed) & scan
            return Search(among, among, ids)
        few = gifts.c.id.in_(_found(index, match)) & scan
        return Search(few, few)
    if reads_all:  # every match is read: the index's phrase, as before
        return Search(scan, gifts.c.id.in_(_found(index, _phrase(term))))
    if newest and index.newest is not None:
        found = _newest(connection, index, term, scan, newest, before)
        return Search(scan, scan, newest=found)
    return Search(scan, scan)


# The database's lower() of each character of folding.cased(), by database
# (its LC_CTYPE, or its ICU collation, decides): asked once per process.
_lowers: dict[str, dict[str, str]] = {}


def lowers(connection: Connection) -> dict[str, str]:
    """PostgreSQL's ``lower()`` of each character of ``folding.cased()``."""
    key = str(connection.engine.url)
    found = _lowers.get(key)
    if found is None:
        rows = connection.execute(
            sa.text("SELECT c, lower(c) FROM unnest(CAST(:chars AS text[])) AS c"),
            {"chars": list(folding.cased())},
        )
        found = _lowers[key] = dict(rows.all())
    return found


def _postgresql(term: str, connection: Connection) -> Search:
    exact = gifts.c.name.regexp_match(folding.regex(term))
    if len(term) >= 3 and folding.beyond_trigram_regex(term):
        pattern = folding.like_superset(term, lowers(connection))
        exact = gifts.c.name.ilike(pattern, escape="\\") & exact
    return Search(exact, exact)


def matches(
    term: str,
    connection: Connection,
    reads_all: bool = False,
    newest: int = 0,
    before: dt.datetime | None = None,
) -> Search:
    """The gifts whose name holds ``term`` by the folding rule, for a
    statement on ``connection`` (the page's or the summary's, which also
    answers what the predicate asks first). ``reads_all``: the query reads
    every match (the summary), not a page; ``newest``: for a page newest
    first, after a cursor's ``before`` (its created_at), how many of the
    newest matches to read (0: the page is not newest first)."""
    if connection.dialect.name == "postgresql":
        return _postgresql(term, connection)
    return _sqlite(term, connection, reads_all, newest, before)

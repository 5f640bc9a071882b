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
  0010: of the trigrams covering the term side by side (every third, and
  the last), those found in at most ``RARE`` names each (one statement
  counts each up to RARE + 1) give the ids, ANDed, and the name is checked
  on those; the walk too then reads ids, not names. Fewer than FEW of them
  are read at once (``Search.ids``), and the listing reads its page from
  them, sorted (app/gifts/listing.py ``_candidates``). A phrase of the whole
  term made FTS5 read every trigram's list, common ones too (``gift
  123456``: 22 ms for one gift, "gif" being in every name; its rare
  trigrams 0.4 ms). A term all of whose trigrams are common walks checking
  each name and drives by the same scan (the summary reads the phrase).
- The scan: SQLite's ``lower()`` where it folds exactly as the rule does
  (an ASCII term with no letter that a character beyond ASCII folds into),
  else the SQL function ``gift_name_contains`` (app/database.py registers
  it on every connection); alone for 2 characters or without the index
  (before 0010, an SQLite without FTS5's trigrams).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app import folding
from app.visibility import gifts

INDEX = "gift_name_search"
# A trigram in at most this many names drives a search (counting one's
# first 5 001 names costs about 0.3 ms at a million gifts).
RARE = 5000
# Rare trigrams naming fewer than this many gifts together: their ids are
# read once, and the page is read from them (the listing's PROBE_ROWS).
# Asked as the index's subquery instead, "1234" (600 names at 1M gifts)
# read the index twice, for a walk of 5 000 gifts and then the drive.
FEW = 2000

_index = sa.table(INDEX, sa.column("rowid"))
_whole_index = sa.literal_column(INDEX)


class Search(NamedTuple):
    """``walk``: checked on each gift a page walks; ``drive``: the matches
    read from an index. The same gifts. ``ids``: when the index named fewer
    than FEW gifts that may match, their ids, read already (both forms then
    check those alone): the listing reads its page from them, sorted."""

    walk: Any
    drive: Any
    ids: list[int] | None = None


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _scan(term: str) -> Any:
    folded = folding.fold(term)
    if folding.ascii_lower_finds(folded):
        return sa.func.instr(sa.func.lower(gifts.c.name), folded) > 0
    return sa.func.gift_name_contains(gifts.c.name, folded) == 1


def _found(query: Any) -> Any:
    return sa.select(_index.c.rowid).where(_whole_index.op("MATCH")(query))


# Built once: the statements of each search differ only in their parameters.
_INDEXED = sa.text(
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :n"
).bindparams(n=INDEX)
# The first ``bound`` ids the index names for the FTS5 query ``match``.
_NAMED = _found(sa.bindparam("match")).limit(sa.bindparam("bound"))


@lru_cache(maxsize=64)
def _trigram_counts(n: int) -> sa.Select[Any]:
    """One statement counting the first RARE + 1 names of each of ``n``
    trigrams (parameters ``t0``, ``t1``, ...)."""
    return sa.select(
        *(
            sa.select(sa.func.count())
            .select_from(_found(sa.bindparam(f"t{i}")).limit(RARE + 1).subquery())
            .scalar_subquery()
            for i in range(n)
        )
    )


def _rare_trigrams(connection: Connection, term: str) -> list[str] | None:
    """Of the term's trigrams that cover it side by side (every third, and
    the last: counting a common one costs what counting a rare one to RARE
    does), those in at most RARE names each, as FTS5 phrases; None without
    the index."""
    if not connection.scalar(_INDEXED):
        return None  # before 0010, or an SQLite without FTS5's trigrams
    starts = {*range(0, len(term) - 2, 3), len(term) - 3}
    trigrams = sorted({_phrase(term[i : i + 3]) for i in starts})
    values = {f"t{i}": trigram for i, trigram in enumerate(trigrams)}
    found = connection.execute(_trigram_counts(len(trigrams)), values).one()
    return [t for t, n in zip(trigrams, found, strict=True) if n <= RARE]


def _sqlite(term: str, connection: Connection, reads_all: bool) -> Search:
    scan = _scan(term)
    if len(term) < 3:
        return Search(scan, scan)
    rare = _rare_trigrams(connection, term)
    if rare is None:
        return Search(scan, scan)
    if rare:  # few matches: the walk too reads the index's ids, not each name
        match = " AND ".join(rare)
        named = {"match": match, "bound": FEW}
        ids = sorted(connection.execute(_NAMED, named).scalars().all())
        if len(ids) < FEW:
            # One expanding parameter: IN of the list itself coerced each id
            # into a parameter of its own as the statement was built.
            listed = sa.bindparam("search_ids", ids, expanding=True)
            among = gifts.c.id.in_(listed) & scan
            return Search(among, among, ids)
        few = gifts.c.id.in_(_found(match)) & scan
        return Search(few, few)
    if reads_all:  # every match is read: the index's phrase, as before
        return Search(scan, gifts.c.id.in_(_found(_phrase(term))))
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


def matches(term: str, connection: Connection, reads_all: bool = False) -> Search:
    """The gifts whose name holds ``term`` by the folding rule, for a
    statement on ``connection`` (the page's or the summary's, which also
    answers what the predicate asks first). ``reads_all``: the query reads
    every match (the summary), not a page."""
    if connection.dialect.name == "postgresql":
        return _postgresql(term, connection)
    return _sqlite(term, connection, reads_all)

"""The listing's and the summary's ``search``: one predicate, by database.

The rule (app/folding.py): the term, folded, is a substring of the name,
folded. Every database answers it exactly:

- PostgreSQL: ``name ~ <regex>``, each character of the term a class of the
  characters folding as it does (app.folding.regex). The trigram index of
  migration 0006 serves it for 3 or more characters as it served ILIKE.
- SQLite, 3 or more characters, with the FTS5 trigram index of migration
  0010: the term as an FTS5 phrase. A phrase of consecutive trigrams is a
  substring of the folded name, and quoting makes ``%``, ``_``, ``"`` and
  ``*`` literal (``LIKE`` on the index would be re-checked with SQLite's
  ASCII-only ``LIKE``, which does not fold ``Ä``).
- SQLite otherwise (2 characters, or no index): a scan, with SQLite's
  ``lower()`` where it folds exactly as the rule does (an ASCII term with no
  letter that a character beyond ASCII folds into), else the SQL function
  ``gift_name_contains`` (app/database.py registers it on every connection).

A term in many names is found faster by walking the page's order than by
reading all its index entries (``gift`` is in every name of the bench's
million: 414 ms through the index, 2.6 ms walking): a page first reads at
most ``MANY`` + 1 matches from the index, and walks when it finds more.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app import folding
from app.transactions import autocommit
from app.visibility import gifts

INDEX = "gift_name_search"
# Past this many matches a page walks instead (at a million gifts: reading
# 5 001 index entries costs about 6 ms, walking to 50 matches among 5 000
# about as much).
MANY = 5000

_index = sa.table(INDEX, sa.column("rowid"))
_whole_index = sa.literal_column(INDEX)


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _scan(term: str) -> Any:
    folded = folding.fold(term)
    if folding.ascii_lower_finds(folded):
        return sa.func.instr(sa.func.lower(gifts.c.name), folded) > 0
    return sa.func.gift_name_contains(gifts.c.name, folded) == 1


def _sqlite(term: str, reads_all: bool) -> Any:
    if len(term) < 3:
        return _scan(term)
    phrase = _phrase(term)
    found = sa.select(_index.c.rowid).where(_whole_index.op("MATCH")(phrase))
    with autocommit() as connection:
        indexed = connection.scalar(
            sa.text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :n"
            ),
            {"n": INDEX},
        )
        if not indexed:  # before 0010, or an SQLite without FTS5's trigrams
            return _scan(term)
        if not reads_all:
            count = connection.scalar(
                sa.select(sa.func.count()).select_from(found.limit(MANY + 1).subquery())
            )
            if count > MANY:
                return _scan(term)
    return gifts.c.id.in_(found)


def matches(term: str, dialect: str, reads_all: bool = False) -> Any:
    """The gifts whose name holds ``term`` by the folding rule. ``reads_all``:
    the query reads every match (the summary), not a page."""
    if dialect == "postgresql":
        return gifts.c.name.regexp_match(folding.regex(term))
    return _sqlite(term, reads_all)

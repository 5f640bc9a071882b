"""Money in SQL: amounts as whole cents, and sums of them that stay exact.

SQLite keeps NUMERIC as a float (0.1 + 0.2 would not be 0.3), so amounts are
summed as integer cents. SQLite's ``sum()`` of integers then fails past 2**63
("integer overflow"), which 92 234 gifts at the highest price and quantity
reach (10**14 cents each). ``exact_sum`` sums the cents in two parts, the
billions and the rest, each far from that bound (it would take 9 * 10**9
rows), and ``joined`` adds them up in Python, where integers have no bound.
PostgreSQL's ``sum()`` of a bigint is a numeric and never overflows; the same
two parts serve it, so a statement reads alike on both databases.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

CENT = Decimal("0.01")
_PART = 10**9


def cents(column: Any) -> Any:
    """A NUMERIC(10,2) amount as whole cents, exact on both databases."""
    return sa.cast(sa.func.round(column * 100), sa.BigInteger)


def exact_sum(amount: Any, name: str) -> tuple[Any, Any]:
    """The sum of ``amount`` (non-negative whole cents) as two labelled
    columns, ``<name>_high`` and ``<name>_low``: read it with ``joined``."""
    return (
        sa.func.sum(amount // _PART).label(f"{name}_high"),
        sa.func.sum(amount % _PART).label(f"{name}_low"),
    )


def joined(row: Mapping[str, Any], name: str) -> int:
    """The sum that ``exact_sum(..., name)`` split, in cents (0 for none)."""
    high, low = row[f"{name}_high"], row[f"{name}_low"]
    return int(high or 0) * _PART + int(low or 0)


def from_cents(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / 100).quantize(CENT)

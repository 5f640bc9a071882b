"""Budgets per person and occasion, and the budget view of an occasion.

The view is one statement, summed by the database in integer cents, exact
whatever the size (app/money.py), over the occasion's
gifts as the asking member sees them (``visible_to`` and the wish view's
status, from app/visibility.py). A gift counts in full in the row of each of
its people, and once in the total. The member's own person has no row and
their budget counts nowhere.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.models import Occasion, Person, budgets, gift_recipients
from app.money import cents, exact_sum, from_cents, joined
from app.transactions import NotFound, autocommit, retry_read, transaction
from app.visibility import Viewer, as_seen, gifts, visible_to

occasions = Occasion.__table__
people = Person.__table__
SPENT = ("purchased", "received")
PLANNED = ("idea", "selected")


class OwnBudget(Exception):
    """A member's own budget is not theirs to see or set (403)."""


class MissingPerson(Exception):
    """The budget's person does not exist (404)."""


class MissingBudget(Exception):
    """The person has no budget at this occasion (404)."""


def _check_not_own(person_id: int, viewer: Viewer) -> None:
    if viewer.person_id == person_id:
        raise OwnBudget()


def _lock_both(connection: Connection, occasion_id: int, person_id: int) -> None:
    """404 unless the occasion and the person exist; on PostgreSQL both stay
    locked against deletion (FOR KEY SHARE) until the transaction ends."""
    for table, row_id, missing in (
        (occasions, occasion_id, NotFound([occasion_id])),
        (people, person_id, MissingPerson()),
    ):
        found = connection.scalar(
            sa.select(table.c.id)
            .where(table.c.id == row_id)
            .with_for_update(read=True, key_share=True)
        )
        if found is None:
            raise missing


def set_budget(
    occasion_id: int, person_id: int, amount: Decimal, viewer: Viewer
) -> dict[str, Any]:
    """Set or replace the budget: one upsert, never read-then-insert."""
    _check_not_own(person_id, viewer)
    with transaction() as connection:
        _lock_both(connection, occasion_id, person_id)
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(budgets).values(
            occasion_id=occasion_id, person_id=person_id, amount=amount
        )
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[budgets.c.occasion_id, budgets.c.person_id],
                set_={"amount": insert.excluded.amount},
            )
        )
    return {"person_id": person_id, "amount": amount}


def delete_budget(occasion_id: int, person_id: int, viewer: Viewer) -> None:
    _check_not_own(person_id, viewer)
    with autocommit(write=True) as connection:
        result = connection.execute(
            sa.delete(budgets).where(
                budgets.c.occasion_id == occasion_id, budgets.c.person_id == person_id
            )
        )
    if result.rowcount == 0:
        raise MissingBudget()


SUMS, PARTS = ("spent", "planned"), ("high", "low")


@lru_cache(maxsize=256)
def _statement(viewer: Viewer) -> sa.Select[Any]:
    """Every row of the view and the total, in one statement: rows first (by
    name, then id), the total last (``is_total``). Built once per viewer (the
    occasion is a parameter): building it cost more than running it."""
    occasion_id = sa.bindparam("occasion_id", type_=sa.Integer)
    status = as_seen(viewer, "status")
    amount = cents(sa.func.coalesce(gifts.c.price, 0)) * gifts.c.quantity
    seen = (
        sa.select(
            gifts.c.id.label("gift_id"),
            sa.case((status.in_(SPENT), amount), else_=0).label("spent"),
            sa.case((status.in_(PLANNED), amount), else_=0).label("planned"),
        )
        .where(gifts.c.occasion_id == occasion_id, visible_to(viewer))
        .cte("seen")
    )
    others = sa.true()
    if viewer.person_id is not None:
        others = people.c.id != viewer.person_id
    per_person = (
        sa.select(
            gift_recipients.c.person_id,
            *exact_sum(seen.c.spent, "spent"),
            *exact_sum(seen.c.planned, "planned"),
        )
        .join(seen, seen.c.gift_id == gift_recipients.c.gift_id)
        .group_by(gift_recipients.c.person_id)
        .cte("per_person")
    )
    budget = (
        sa.select(budgets.c.person_id, cents(budgets.c.amount).label("cents"))
        .where(budgets.c.occasion_id == occasion_id)
        .cte("budget")
    )
    rows = (
        sa.select(
            people.c.id.label("person_id"),
            people.c.name,
            budget.c.cents.label("budget"),
            *(per_person.c[f"{sum}_{part}"] for sum in SUMS for part in PARTS),
        )
        .select_from(
            people.outerjoin(budget, budget.c.person_id == people.c.id).outerjoin(
                per_person, per_person.c.person_id == people.c.id
            )
        )
        .where(
            (budget.c.person_id.is_not(None) | per_person.c.person_id.is_not(None)),
            others,
        )
        .cte("rows")
    )
    # The occasion's gifts, each once: one pass over them, one row always.
    sums = sa.select(
        *exact_sum(seen.c.spent, "spent"), *exact_sum(seen.c.planned, "planned")
    ).subquery("sums")
    total = sa.select(
        sa.cast(sa.null(), sa.Integer).label("person_id"),
        sa.cast(sa.null(), people.c.name.type).label("name"),
        sa.select(sa.func.sum(rows.c.budget)).scalar_subquery().label("budget"),
        *sums.c,
        sa.literal_column("1").label("is_total"),
        # The total's row is there whether or not the occasion is.
        sa.exists().where(occasions.c.id == occasion_id).label("found"),
    )
    union = sa.union_all(
        sa.select(
            *rows.c,
            sa.literal_column("0").label("is_total"),
            sa.true().label("found"),
        ),
        total,
    ).subquery()
    return sa.select(union).order_by(union.c.is_total, union.c.name, union.c.person_id)


def _amounts(row: Any) -> dict[str, Any]:
    budget, spent, planned = row["budget"], joined(row, "spent"), joined(row, "planned")
    over = budget is not None and spent + planned > budget
    remaining = None if budget is None else budget - spent - planned
    return {
        "budget": from_cents(budget),
        "spent": from_cents(spent),
        "planned": from_cents(planned),
        "remaining": from_cents(remaining),
        "over_budget": over,
    }


@retry_read
def budget_view(occasion_id: int, viewer: Viewer) -> dict[str, Any]:
    with autocommit() as connection:
        statement = _statement(viewer)
        rows = list(
            connection.execute(statement, {"occasion_id": occasion_id}).mappings()
        )
    *people_rows, total = rows
    if not total["found"]:
        raise NotFound([occasion_id])
    return {
        "occasion_id": occasion_id,
        "people": [
            {"person_id": row["person_id"], **_amounts(row)} for row in people_rows
        ],
        "total": _amounts(total),
    }

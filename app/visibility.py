"""Who may see what: the one WHERE clause every query of gifts takes.

A gift a member may not see does not exist for them: pages, cursors, counts
(a person's or a list's gift count included) and 404s all follow from this
clause, so a store passes it into every statement that reads gifts and a view
never filters afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Gift

PARENT = "parent"

gifts = Gift.__table__


def visible_to(role: str) -> sa.ColumnElement[bool]:
    """The gifts a member of ``role`` may know of: for a child, Santa's do not
    exist."""
    if role == PARENT:
        return sa.true()
    return gifts.c.from_santa.is_(False)

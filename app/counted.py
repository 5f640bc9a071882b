"""People and lists alike: rows read with the count of their gifts, locked, ETagged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from werkzeug.datastructures import ETags

from app.models import Gift
from app.transactions import NotFound, PreconditionFailed
from app.visibility import Viewer, visible_to

gifts = Gift.__table__


def etag(row: RowMapping) -> str:
    """Moves with every change of the row and of its gift count."""
    return f"{row['id']}-{row['version']}-{row['gift_count']}"


def everyone(viewer: Viewer) -> Any:
    """Rows every member may know of."""
    return sa.true()


class Counted:
    """The rows of ``table`` that a viewer may know of (``shown``), each with
    the count of the gifts they may know of linked to it by ``link`` (a
    column of a link table naming the row)."""

    def __init__(
        self,
        table: sa.Table,
        link: sa.Column[int],
        shown: Callable[[Viewer], Any] = everyone,
    ) -> None:
        self.table = table
        self.link = link
        self.shown = shown

    def gift_count(self, viewer: Viewer) -> sa.Label[int]:
        """The number of gifts, of those ``viewer`` sees, linked to the row."""
        return (
            sa.select(sa.func.count())
            .select_from(self.link.table.join(gifts))
            .where(self.link == self.table.c.id, visible_to(viewer))
            .scalar_subquery()
            .label("gift_count")
        )

    def select(self, viewer: Viewer) -> sa.Select[Any]:
        return sa.select(self.table, self.gift_count(viewer)).where(self.shown(viewer))

    def read(self, connection: Connection, row_id: int, viewer: Viewer) -> RowMapping:
        statement = self.select(viewer).where(self.table.c.id == row_id)
        row = connection.execute(statement).mappings().first()
        if row is None:
            raise NotFound([row_id])
        return row

    def lock(
        self,
        connection: Connection,
        row_id: int,
        if_match: ETags | None,
        viewer: Viewer,
    ) -> RowMapping:
        """The row, locked until the transaction ends; checks ``If-Match``."""
        locked = sa.select(self.table.c.id).where(self.table.c.id == row_id)
        if connection.dialect.name != "sqlite":
            locked = locked.with_for_update()
        connection.execute(locked)
        try:
            row = self.read(connection, row_id, viewer)
        except NotFound:
            # If-Match: * asks that it exist: on a missing one, 412 (RFC 9110).
            if if_match is not None and if_match.star_tag:
                raise PreconditionFailed() from None
            raise
        if if_match is not None and not if_match.contains(etag(row)):
            raise PreconditionFailed()
        return row

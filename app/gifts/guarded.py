"""Changes checked against the gifts as they are: wishes, claims, hidden lists.

Each runs in one transaction: the gifts are locked (in id order, so two
writers never deadlock), read as the asker sees them, checked (404 for one
they may not see, 412 for a stale ``If-Match`` against the ETag they were
given, 403 for a change a wisher or a child may not make, 409 for another
member's claim), and only then written, all or nothing. Claims are decided
under that lock: of members claiming one gift at once, exactly one wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.datastructures import ETags

from app.gifts import store
from app.gifts.links import apply_link_changes, lock_gifts
from app.models import gift_lists, utcnow
from app.transactions import NotFound, PreconditionFailed, transaction
from app.visibility import (
    PARENT,
    WISH_FIELDS,
    Viewer,
    gifts,
    hidden_list_ids,
    visible_to,
)
from app.wishes import planned, present, track_wishes

WISH_CHANGE = (
    "A wish's planning fields, people and lists are not its wisher's to "
    "change: only " + ", ".join(WISH_FIELDS) + "."
)
OTHERS_CLAIM = "Only a parent may release another member's claim."


def _locked(
    connection: Connection, ids: Sequence[int], viewer: Viewer
) -> dict[int, Mapping[str, Any]]:
    """The gifts of these ids that ``viewer`` may see, locked, as they are
    (with ``wish_view`` for a linked member)."""
    selected = gifts.c.id.in_(sorted(ids)) & visible_to(viewer)
    lock_gifts(connection, selected)
    read = store.read_columns(connection.dialect.name, viewer)
    rows = connection.execute(sa.select(*read).where(selected)).mappings()
    return {row["id"]: row for row in rows}


def _one(
    connection: Connection, gift_id: int, viewer: Viewer, if_match: ETags | None
) -> Mapping[str, Any]:
    """The gift, locked, once ``If-Match`` holds for the view ``viewer`` has."""
    row = _locked(connection, [gift_id], viewer).get(gift_id)
    if row is None:
        # If-Match: * asks that it exist: on a missing one, 412 (RFC 9110).
        if if_match is not None and if_match.star_tag:
            raise PreconditionFailed()
        raise NotFound([gift_id])
    if (
        if_match is not None
        and not if_match.star_tag
        and not if_match.contains(store.etag(present(row, viewer)))
    ):
        raise PreconditionFailed()
    return row


def check(
    rows: Sequence[Mapping[str, Any]], changes: dict[str, Any], viewer: Viewer
) -> None:
    """403 for what a wisher may not change on their wish, or a child's
    release of another's claim; 409 naming the gifts another member holds
    when ``viewer`` claims them."""
    wishes = [row for row in rows if viewer.linked and row["wish_view"]]
    if wishes and any(key not in WISH_FIELDS for key in changes):
        raise store.Forbidden(WISH_CHANGE)
    if "claimed_by" not in changes:
        return
    held = [row["id"] for row in rows if row["claimed_by"] not in (None, viewer.id)]
    if not held:
        return
    if changes["claimed_by"] is not None:
        raise store.Conflict(held)
    if viewer.role != PARENT:
        raise store.Forbidden(OTHERS_CLAIM)


def _apply(
    connection: Connection,
    gift_ids: Sequence[int],
    changes: dict[str, Any],
    viewer: Viewer,
    hidden: set[int],
) -> dict[int, Mapping[str, Any]]:
    """Write the change (checked already; ``hidden``: the asker's planning
    lists) and read the gifts back as ``viewer`` sees them."""
    columns, links = store.split(changes)
    if links:
        with track_wishes(connection, gifts.c.id.in_(sorted(gift_ids))):
            apply_link_changes(connection, gift_ids, links, hidden)
    store.update_columns(connection, gift_ids, columns)
    return store.read_gifts(connection, gift_ids, viewer)


def update_gift(
    gift_id: int, changes: dict[str, Any], viewer: Viewer, if_match: ETags | None
) -> Mapping[str, Any]:
    with transaction() as connection:
        # Ids in the body first: people, then lists, then gifts, as everywhere.
        hidden = store.check_link_ids(connection, changes, viewer)
        row = _one(connection, gift_id, viewer, if_match)
        if not changes:
            return present(row, viewer)
        check([row], changes, viewer)
        return _apply(connection, [gift_id], changes, viewer, hidden)[gift_id]


def bulk_update(
    ids: list[int], changes: dict[str, Any], viewer: Viewer
) -> list[Mapping[str, Any]]:
    """The same change to every gift, all or nothing; in the order of ``ids``.
    A gift ``viewer`` may not see is missing like one that does not exist.

    Link changes (sets, add_ and remove_) are link rows inserted or deleted
    after the gifts are locked, so two bulk changes adding different lists to
    the same gifts both stick.
    """
    ids = list(dict.fromkeys(ids))
    with transaction() as connection:
        hidden = store.check_link_ids(connection, changes, viewer)
        rows = _locked(connection, ids, viewer)
        if missing := [gift_id for gift_id in ids if gift_id not in rows]:
            raise NotFound(missing)
        if not changes:
            return [present(rows[gift_id], viewer) for gift_id in ids]
        check(list(rows.values()), changes, viewer)
        by_id = _apply(connection, ids, changes, viewer, hidden)
    return [by_id[gift_id] for gift_id in ids]


def delete_gift(gift_id: int, viewer: Viewer, if_match: ETags | None) -> None:
    """Delete the gift; a wish someone planned is withdrawn instead: gone for
    its wisher, kept (``wish_withdrawn``) for everyone else."""
    with transaction() as connection:
        row = _one(connection, gift_id, viewer, if_match)
        if row.get("wish_view"):
            on_hidden_list = connection.scalar(
                sa.select(
                    sa.exists().where(
                        gift_lists.c.gift_id == gift_id,
                        gift_lists.c.list_id.in_(hidden_list_ids(viewer)),
                    )
                )
            )
            if planned(row, bool(on_hidden_list)):
                connection.execute(
                    sa.update(gifts)
                    .where(gifts.c.id == gift_id)
                    .values(
                        wish_withdrawn=True,
                        version=gifts.c.version + 1,
                        updated_at=utcnow(),
                    )
                )
                return
        connection.execute(sa.delete(gifts).where(gifts.c.id == gift_id))

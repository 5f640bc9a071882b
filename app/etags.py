"""Gift ETags: id, version and the time of the last change, parsed strictly.

The version alone is not enough: a migration that drops and re-adds the column
(``downgrade 0002`` then ``upgrade``) starts every version at 1 again, and an
ETag read before would match a newer state. ``updated_at`` moves with every
change and no migration resets it, so the pair names one state for good.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)
# What etag() writes and nothing else: ASCII digits of bounded length (int()
# would read "²" or "١" as digits, and thousands of digits cost a worker time).
TAG = re.compile(r"([1-9][0-9]{0,9})-([1-9][0-9]{0,9})-([0-9]{1,18})", re.ASCII)


def etag(gift: Mapping[str, Any]) -> str:
    """The gift's strong validator (without quotes). A wish view (its own
    version and time) ends in ``-w``: it never equals a tag of the gift in
    full, and ``states`` reads no state from it."""
    stamp = (gift["updated_at"] - EPOCH) // MICROSECOND
    wish = "-w" if gift.get("wish_view") else ""
    return f"{gift['id']}-{gift['version']}-{stamp}{wish}"


def states(gift_id: int, tags: Iterable[str]) -> list[tuple[int, dt.datetime]]:
    """The (version, updated_at) pairs these tags name for this gift.

    Tags of other gifts, of older formats or forged are left out: they match
    no state, so a write conditioned on them fails with 412.
    """
    found = []
    for tag in tags:
        match = TAG.fullmatch(tag)
        if match is None or int(match[1]) != gift_id:
            continue
        try:
            updated_at = EPOCH + int(match[3]) * MICROSECOND
        except OverflowError:  # beyond year 9999
            continue
        found.append((int(match[2]), updated_at))
    return found

"""Sealed cursors for bench/wrk/get_page.lua, which cannot seal its own.

A cursor is AES-GCM sealed with the server's key (app/sealing.py): the bench
writes, with the same settings (CURSOR_KEY, or the instance folder's key
file) as the gunicorn it starts, the cursors a page ending at a random place
of the newest-first order would hand out, one a line; the script picks one
per request.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path
from typing import Any

from app import create_app
from app.gifts import cursors

COUNT = 2000


def _position(now: dt.datetime, low: int, high: int) -> dict[str, Any]:
    """A place in "recent" order (created_at, then id): bench.seed's gifts were
    created over the year before ``now``; a week in, a page has 50 older ones."""
    minutes = random.randint(60 * 24 * 7, 60 * 24 * 358)
    created = now - dt.timedelta(minutes=minutes)
    return {"created_at": created, "id": random.randint(low, high)}


def write(ids: tuple[int, int], count: int = COUNT) -> Path:
    """A file of ``count`` sealed "recent" cursors after ids in the range."""
    low, high = ids
    now = dt.datetime.now(dt.UTC)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    with app.app_context():
        lines = [
            cursors.encode_cursor("recent", _position(now, low, high))
            for _ in range(count)
        ]
    with tempfile.NamedTemporaryFile(
        "w", prefix="gifts-bench-cursors-", suffix=".txt", delete=False
    ) as out:
        out.write("\n".join(lines) + "\n")
    return Path(out.name)

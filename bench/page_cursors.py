"""Sealed cursors for bench/wrk/get_page.lua, which cannot seal its own.

A cursor is AES-GCM sealed with the server's key (app/sealing.py): the bench
writes, with the same settings (CURSOR_KEY, or the instance folder's key
file) as the gunicorn it starts, the cursors a page ending just above random
ids would hand out, one a line; the script picks one per request.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from app import create_app
from app.gifts import cursors

COUNT = 2000


def write(ids: tuple[int, int], count: int = COUNT) -> Path:
    """A file of ``count`` sealed "recent" cursors after ids in the range."""
    low, high = ids
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    with app.app_context():
        lines = [
            cursors.encode_cursor("recent", {"id": random.randint(low + 50, high + 1)})  # type: ignore[arg-type]
            for _ in range(count)
        ]
    with tempfile.NamedTemporaryFile(
        "w", prefix="gifts-bench-cursors-", suffix=".txt", delete=False
    ) as out:
        out.write("\n".join(lines) + "\n")
    return Path(out.name)

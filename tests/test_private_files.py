"""The SQLite database holds the family's gifts and password hashes: its file
and the -wal and -shm files beside it are readable by their owner only."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import POSTGRES_URL, dispose
from tests.serving import gunicorn

pytestmark = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="about the SQLite file; PostgreSQL keeps its own"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_the_served_database_and_its_wal_and_shm_are_owner_only(
    tmp_path: Path,
) -> None:
    database = tmp_path / "gifts.db"
    with gunicorn(f"sqlite:///{database}", tmp_path / "gunicorn.log") as served:
        assert served.request("POST", "/api/v1/gifts", {"name": "Kite"}).status == 201
        assert served.request("GET", "/api/v1/gifts").status == 200
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(path.exists() for path in files)  # WAL, while it serves
        assert [mode(path) for path in files] == [0o600] * 3


def test_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "gifts.db"
    database.parent.mkdir()
    old = os.umask(0)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    finally:
        os.umask(old)
    assert mode(database) == 0o600
    dispose(app)


def test_an_existing_readable_file_is_named_in_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not changed behind the operator's back: told how to fix it."""
    database = tmp_path / "gifts.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="app.config"):
        dispose(create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"}))
    assert mode(database) == 0o644
    assert f"{database} is readable by other accounts (mode 644)" in caplog.text

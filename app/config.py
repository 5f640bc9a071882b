"""Settings, read from the environment each time the factory runs."""

from __future__ import annotations

import logging
import os
import re
import stat
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from app import database
from app.models.types import utcnow

MIGRATIONS_DIRECTORY = str(Path(__file__).resolve().parent.parent / "migrations")
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024
# PostgreSQL: a second engine on the same database for single statements.
AUTOCOMMIT_BIND = "autocommit"
log = logging.getLogger(__name__)


def database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class ConfigError(Exception):
    """A setting the app refuses to start with; the message says why."""


# An origin as a browser sends it: scheme, host, optional port, nothing else.
ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", re.ASCII)


def cors_origins(setting: str) -> list[str]:
    """CORS_ORIGINS' comma-separated origins, each exactly as a browser sends
    it. ``*`` (every site's pages could call the API with a family member's
    token) and anything else flask-cors would read as a pattern (``*``,
    ``[``, ``$``...: matched as a regular expression, by prefix) is refused."""
    origins = [origin.strip() for origin in setting.split(",") if origin.strip()]
    for origin in origins:
        if origin == "*":
            raise ConfigError(
                "CORS_ORIGINS=* is refused: it would let the pages of every site "
                "call the API; list the dashboards' origins, comma-separated "
                "(https://dash.example,http://127.0.0.1:5173)"
            )
        if not ORIGIN.fullmatch(origin):
            raise ConfigError(
                f"CORS_ORIGINS: {origin!r} is not an origin such as "
                "https://dash.example or http://127.0.0.1:5173 (scheme, host, "
                "optional port; no path, no wildcard)"
            )
    return origins


def positive(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 from the environment, else a clear error."""
    text = env.get(name) or str(default)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name}={text!r}: give a whole number of at least 1")
    return int(text)


def load(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` from the environment, then apply ``overrides``."""
    env = os.environ
    default_db = "sqlite:///" + os.path.join(app.instance_path, "gifts.db")
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=env.get("DATABASE_URL") or default_db,
        MAX_CONTENT_LENGTH=int(
            env.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH
        ),
        LOG_LEVEL=env.get("LOG_LEVEL", "INFO").upper(),
        LOG_FORMAT=env.get("LOG_FORMAT", "json").lower(),
        MIGRATIONS_DIRECTORY=MIGRATIONS_DIRECTORY,
        # Members and access: sign-in tokens' lifetime; origins of dashboards.
        SESSION_DAYS=int(env.get("SESSION_DAYS") or 30),
        CORS_ORIGINS=cors_origins(env.get("CORS_ORIGINS", "")),
        # Password checks at once (app/access/gate.py): per worker, per host,
        # and the folder of the host's slot files (default instance/...).
        SIGN_IN_HASHES_PER_WORKER=positive(env, "SIGN_IN_HASHES_PER_WORKER", 1),
        SIGN_IN_HASHES_PER_HOST=positive(
            env, "SIGN_IN_HASHES_PER_HOST", max(1, (os.cpu_count() or 2) // 2)
        ),
        SIGN_IN_SLOTS_DIR=env.get("SIGN_IN_SLOTS_DIR") or None,
        # The key that seals listing cursors (app/sealing.py); unset: a key
        # file in the instance folder, made on the first start.
        CURSOR_KEY=env.get("CURSOR_KEY") or None,
        # Occasions: "today" is a calendar date in the family's time zone (an
        # IANA name), read from CLOCK (the time now, aware; tests fix it).
        FAMILY_TIMEZONE=env.get("FAMILY_TIMEZONE") or "UTC",
        CLOCK=utcnow,
        # flask-smorest: the OpenAPI document and its docs page.
        API_TITLE="Gifts API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",  # served by the app (create_app)
        # No calls to validator.swagger.io: the page must work offline.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
    )
    if overrides:
        app.config.update(overrides)
    app.config["FAMILY_TIMEZONE"] = family_timezone(app.config["FAMILY_TIMEZONE"])
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        # Its connections stay in autocommit: no BEGIN, COMMIT, reset or
        # isolation switch per request (see app.transactions.autocommit).
        app.config.setdefault("SQLALCHEMY_BINDS", {})[AUTOCOMMIT_BIND] = (
            database.bind_options(
                url, {"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
            )
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
        private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])


def private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by its owner only (0600) before
    SQLite would create it world-readable: it holds the family's gifts and
    the password hashes. SQLite gives its -wal and -shm files the mode of the
    database file. An existing file keeps its mode; a warning says if others
    may read it."""
    path = sa.make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            log.warning(
                "%s is readable by other accounts (mode %o): chmod 600 it, and "
                "its -wal and -shm files",
                path,
                mode,
            )
        return
    except OSError:
        return  # no such folder, no right: SQLite will say why (503)
    os.close(descriptor)


def family_timezone(name: str) -> str:
    """``name`` if it names an IANA time zone; else the app does not start."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(
            f"FAMILY_TIMEZONE: {name!r} is not an IANA time zone name "
            "(such as Europe/Paris or UTC)"
        ) from error
    return name


def engine_options(app: Flask) -> dict[str, Any]:
    """Engine settings that depend on the database kind (every wait bounded)."""
    return database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"])

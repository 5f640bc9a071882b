"""Liveness and readiness probes for the operator (outside the API base path)."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, current_app, jsonify
from flask_migrate import Config

from app.errors import problem
from app.extensions import db

blp = Blueprint("health", __name__)


@cache
def head_revisions(directory: str) -> frozenset[str]:
    """The newest revision(s) of migrations/: read once, they change on deploy."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz() -> Response:
    """The database answers and is at the newest migration."""
    try:
        with db.engine.connect() as connection:
            current = set(
                connection.scalars(sa.text("SELECT version_num FROM alembic_version"))
            )
    except sa.exc.SQLAlchemyError:
        return problem(503, "The database is unreachable or not migrated.")
    heads = head_revisions(current_app.config["MIGRATIONS_DIRECTORY"])
    if current != heads:
        return problem(
            503,
            f"The database is at {sorted(current) or 'no revision'}, "
            f"not at the newest migration {sorted(heads)}.",
        )
    return jsonify(status="ready")

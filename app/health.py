"""Liveness and readiness probes for the operator (outside the API base path)."""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Response, current_app
from flask_migrate import Config
from flask_smorest import Blueprint

from app.errors import problem, problem_response, problem_responses
from app.extensions import db

blp = Blueprint("health", __name__, description="Probes for the operator.")


class HealthSchema(ma.Schema):
    """The process is up."""

    status = ma.fields.String(required=True, metadata={"enum": ["ok"]})


class ReadySchema(ma.Schema):
    """The database answers and is at the newest migration."""

    status = ma.fields.String(required=True, metadata={"enum": ["ready"]})


@cache
def head_revisions(directory: str) -> frozenset[str]:
    """The newest revision(s) of migrations/: read once, they change on deploy."""
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(responses=problem_responses(500))
def healthz() -> dict[str, Any]:
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadySchema)
@problem_response(
    blp, 503, "The database is unreachable or not at the newest migration."
)
@blp.doc(responses=problem_responses(500))
def readyz() -> dict[str, Any] | Response:
    """The database answers and is at the newest migration"""
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
    return {"status": "ready"}

"""Liveness and readiness probes for the operator (outside the API base path)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, current_app
from flask_smorest import Blueprint

from app import revisions
from app.errors import problem, problem_response, problem_responses
from app.extensions import db

blp = Blueprint("health", __name__, description="Probes for the operator.")


class HealthSchema(ma.Schema):
    """The process is up."""

    status = ma.fields.String(required=True, metadata={"enum": ["ok"]})


class ReadySchema(ma.Schema):
    """The database answers and this code serves its revision."""

    status = ma.fields.String(required=True, metadata={"enum": ["ready"]})


@blp.route("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(responses=problem_responses(500))
def healthz() -> dict[str, Any]:
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadySchema)
@problem_response(
    blp, 503, "The database is unreachable or older than this code needs."
)
@blp.doc(responses=problem_responses(500))
def readyz() -> dict[str, Any] | Response:
    """The database answers and this code serves its revision"""
    try:
        with db.engine.connect() as connection:
            current = revisions.database_revisions(connection)
    except sa.exc.SQLAlchemyError:
        return problem(503, "The database is unreachable or not migrated.")
    detail = revisions.unserved(current, current_app.config["MIGRATIONS_DIRECTORY"])
    if detail is not None:
        return problem(503, detail)
    return {"status": "ready"}

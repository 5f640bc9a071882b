"""/healthz says the process is up; /readyz that the database is usable."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.revisions import OLDEST_SERVED_REVISION
from tests.conftest import ClientResponse, make_app


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_is_ready_at_the_newest_migration(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_readyz_is_503_when_the_database_is_behind(empty_database_url: str) -> None:
    app: Flask = make_app(empty_database_url)
    client = FlaskClient(app, ClientResponse)
    with app.app_context():
        upgrade(revision="0001")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["detail"] == (
        f"The database is at ['0001']; this code needs {OLDEST_SERVED_REVISION} "
        "or newer: run `flask db upgrade`."
    )
    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    client = FlaskClient(
        make_app(f"sqlite:///{tmp_path}/no/such/dir.db"), ClientResponse
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert (
        response.get_json()["detail"] == "The database is unreachable or not migrated."
    )

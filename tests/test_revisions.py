"""Which database revisions the code serves (app/revisions.py): during a deploy
the code meets a database one migration behind it (before `flask db upgrade`
ends) or ahead of it (a newer release migrated while this one still runs),
and answers; a database older than it needs answers 503."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import Config, downgrade, upgrade

from app.config import MIGRATIONS_DIRECTORY
from app.extensions import db
from app.revisions import OLDEST_SERVED_REVISION
from tests.conftest import client_with_token, dispose, make_app, make_member

GIFTS = "/api/v1/gifts"


def _revision_before(revision: str) -> str:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIRECTORY)
    down = ScriptDirectory.from_config(config).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


def _migrated_to(url: str, revision: str) -> tuple[Flask, FlaskClient]:
    app = make_app(url)
    with app.app_context():
        upgrade(revision=revision)
    return app, client_with_token(app, make_member(app, "Mum", "parent")[1])


def _every_feature_answers(client: FlaskClient) -> None:
    """Gifts, people, lists, the links, search and the filters all work."""
    ann = client.post("/api/v1/people", json={"name": "Ann"}).get_json()
    wish = client.post("/api/v1/lists", json={"name": "Wish"}).get_json()
    created = client.post(
        GIFTS,
        json={
            "name": "Wooden train",
            "from_santa": True,
            "recipient_ids": [ann["id"]],
            "list_ids": [wish["id"]],
        },
    )
    assert created.status_code == 201, created.get_json()
    gift = created.get_json()
    assert client.get(created.headers["Location"]).get_json() == gift
    query = {"search": "TRAIN", "person_ids": ann["id"], "list_ids": wish["id"]}
    found = client.get(GIFTS, query_string=query)
    assert found.status_code == 200, found.get_json()
    assert [item["id"] for item in found.get_json()["items"]] == [gift["id"]]
    changed = client.patch(created.headers["Location"], json={"price": 12.5})
    assert changed.get_json()["price"] == 12.5
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_the_code_serves_a_database_the_upgrade_has_not_reached(
    empty_database_url: str,
) -> None:
    """Started before `flask db upgrade` ends: every feature answers."""
    app, client = _migrated_to(empty_database_url, OLDEST_SERVED_REVISION)

    _every_feature_answers(client)
    dispose(app)


def test_the_code_serves_a_database_a_newer_release_migrated(
    empty_database_url: str,
) -> None:
    """Still running after a newer release's upgrade: a revision this code does
    not know is a newer one, and that release's migrations keep it working."""
    app, client = _migrated_to(empty_database_url, "head")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE gift_photos (id INTEGER)"))
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))

    _every_feature_answers(client)
    dispose(app)


def test_a_database_older_than_the_code_needs_is_a_503(
    empty_database_url: str,
) -> None:
    older = _revision_before(OLDEST_SERVED_REVISION)
    # The member is made at the newest revision (the code writes columns the
    # older one has not), then the database goes back.
    app, client = _migrated_to(empty_database_url, "head")
    with app.app_context():
        downgrade(revision=older)

    api, ready = client.get(GIFTS), client.get("/readyz")

    detail = (
        f"The database is at ['{older}']; this code needs "
        f"{OLDEST_SERVED_REVISION} or newer: run `flask db upgrade`."
    )
    assert (api.status_code, api.get_json()["detail"]) == (503, detail)
    assert api.headers["Retry-After"]
    assert (ready.status_code, ready.get_json()["detail"]) == (503, detail)
    dispose(app)


def test_the_oldest_served_revision_has_every_column_the_code_maps(
    empty_database_url: str,
) -> None:
    """A migration adding a table or column the code uses must move
    OLDEST_SERVED_REVISION; this fails until it does."""
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision=OLDEST_SERVED_REVISION)
        inspector = sa.inspect(db.engine)
        found = {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }
        mapped = {
            table.name: {column.name for column in table.columns}
            for table in db.metadata.sorted_tables
        }
    dispose(app)

    missing = {
        table: columns - found.get(table, set())
        for table, columns in mapped.items()
        if columns - found.get(table, set())
    }
    assert missing == {}

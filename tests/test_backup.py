"""`flask gifts export` / `import`: a household moves from SQLite to another
database (PostgreSQL when TEST_DATABASE_URL is set) and back to the same file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import backup
from app.extensions import db
from app.models import Member
from tests.conftest import client_with_token, first_connect, make_app, make_member


def _migrated(url: str) -> Flask:
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def _signed_in(app: Flask) -> FlaskClient:
    """A parent's client: every /api/v1 request needs a token."""
    name = f"Reader {uuid.uuid4().hex[:8]}"
    client = client_with_token(app, make_member(app, name, "parent")[1])
    with app.app_context():
        db.engine.dispose()
    return client


def _flask(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return result


def _count(app: Flask, table: str) -> int:
    with app.app_context():
        with db.engine.connect() as connection:
            count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
        db.engine.dispose()
    return count


@pytest.fixture
def source(tmp_path: Path) -> Flask:
    """A SQLite household with gifts of every shape, and a gap in the ids."""
    app = _migrated(f"sqlite:///{tmp_path / 'source.db'}")
    client = _signed_in(app)
    made = [
        client.post("/api/v1/gifts", json=body).get_json()
        for body in (
            {"name": "Wooden train set", "price": 49.99, "from_santa": True},
            {"name": "Gone", "price": 1},
            {
                "name": "Écharpe 🧣",
                "description": "Soft\nand warm",
                "url": "https://shop.example.com/scarf",
                "price": 99999999.99,
                "sale_price": 0.1,
                "quantity": 3,
                "priority": "high",
                "status": "purchased",
                "purchase_date": "2026-11-20",
            },
            {"name": "Kite"},
        )
    ]
    assert client.delete(f"/api/v1/gifts/{made[1]['id']}").status_code == 204
    changed = client.patch(f"/api/v1/gifts/{made[3]['id']}", json={"price": 12.5})
    assert changed.status_code == 200
    with app.app_context():
        db.engine.dispose()
    return app


@pytest.fixture
def target(empty_database_url: str) -> Iterator[Flask]:
    """The database a household moves to, migrated; its connections closed
    before the database is dropped."""
    app = _migrated(empty_database_url)
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def _export(app: Flask, path: Path, *flags: str) -> bytes:
    result = _flask(app, "gifts", "export", str(path), *flags)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def test_sqlite_to_file_to_another_database_gives_the_same_file(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    first = _export(source, tmp_path / "first.json")

    result = _flask(target, "gifts", "import", str(tmp_path / "first.json"))

    assert result.exit_code == 0, result.output
    assert "imported 3 gifts" in result.output
    assert _export(target, tmp_path / "second.json") == first
    document = json.loads(first)
    assert (document["format"], document["version"]) == ("gifts-api-backup", 1)
    assert [gift["id"] for gift in document["gifts"]] == [1, 3, 4]
    # The API answers the same for a moved gift, ETag included.
    target_client = _signed_in(target)
    before = _signed_in(source).get("/api/v1/gifts/4")
    after = target_client.get("/api/v1/gifts/4")
    assert after.get_json() == before.get_json()
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.get_json()["updated_at"] != after.get_json()["created_at"]
    # The id sequence moved past the imported ids.
    new = target_client.post("/api/v1/gifts", json={"name": "New"})
    assert new.get_json()["id"] == 5


def _damaged(raw: bytes, changes: dict[tuple[int, str], str]) -> bytes:
    """The file with some fields' JSON text replaced (kept as written)."""
    document = json.loads(raw)
    marker = "@@{}@@"
    for (index, field), _ in changes.items():
        document["gifts"][index][field] = marker.format(f"{index}.{field}")
    text = json.dumps(document, indent=2)
    for (index, field), replacement in changes.items():
        text = text.replace(json.dumps(marker.format(f"{index}.{field}")), replacement)
    return text.encode()


def test_a_damaged_file_changes_nothing_and_says_where(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    raw = _export(source, tmp_path / "backup.json")
    damaged = tmp_path / "damaged.json"
    damaged.write_bytes(
        _damaged(raw, {(2, "price"): "12.345", (0, "status"): '"lost"', (1, "id"): "0"})
    )

    result = _flask(target, "gifts", "import", str(damaged))

    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "gifts[2].price: At most two decimals." in result.output
    assert "gifts[0].status: Must be one of: idea, selected, purchased, received." in (
        result.output
    )
    assert "gifts[1].id: Must be greater than or equal to 1" in result.output
    assert _count(target, "gifts") == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format": "gifts-api-backup", "version": 1, "gifts": [', "not a JSON file"),
        (b'{"gifts": []}', "format: not a Gifts API backup"),
        (b'{"format": "gifts-api-backup", "version": 2}', "version: 2 is not one"),
        (
            b'{"format": "gifts-api-backup", "version": 1, "gift": []}',
            "gift: Unknown section.",
        ),
        (
            b'{"format": "gifts-api-backup", "version": 1, "gifts": {}}',
            "gifts: Not a list.",
        ),
    ],
)
def test_a_file_that_is_no_backup_is_refused(
    tmp_path: Path, target: Flask, content: bytes, message: str
) -> None:
    path = tmp_path / "not-a-backup.json"
    path.write_bytes(content)
    result = _flask(target, "gifts", "import", str(path))
    assert result.exit_code == 1
    assert message in result.output


def test_the_same_id_twice_is_refused(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    raw = _export(source, tmp_path / "backup.json")
    path = tmp_path / "twice.json"
    path.write_bytes(_damaged(raw, {(1, "id"): "1"}))
    result = _flask(target, "gifts", "import", str(path))
    assert result.exit_code == 1
    assert "gifts: The same id appears twice." in result.output
    assert _count(target, "gifts") == 0


def test_import_needs_an_empty_migrated_database(
    source: Flask, empty_database_url: str, tmp_path: Path
) -> None:
    _export(source, tmp_path / "backup.json")
    again = _flask(source, "gifts", "import", str(tmp_path / "backup.json"))
    assert again.exit_code == 1
    assert "the database already holds gifts" in again.output
    assert _count(source, "gifts") == 3

    never_migrated = make_app(empty_database_url)
    result = _flask(never_migrated, "gifts", "import", str(tmp_path / "backup.json"))
    assert result.exit_code == 1
    assert "not at the newest migration" in result.output


def test_export_to_stdout(source: Flask) -> None:
    result = _flask(source, "gifts", "export", "-")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert [gift["name"] for gift in document["gifts"]] == [
        "Wooden train set",
        "Écharpe 🧣",
        "Kite",
    ]


class MemberRecordSchema(ma.Schema):
    """Enough of a member for the secret-hash rule (members join the registry
    with their own schema once the access package lands)."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    email_key = ma.fields.String(allow_none=True)
    role = ma.fields.String(required=True)
    password_hash = ma.fields.String(allow_none=True)
    disabled = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(required=True)


def test_secret_hashes_are_written_only_when_asked(
    source: Flask, target: Flask, tmp_path: Path, monkeypatch: Any
) -> None:
    members = backup.Section(
        "members", Member.__table__, MemberRecordSchema, ("password_hash",)
    )
    monkeypatch.setattr(backup, "SECTIONS", (*backup.SECTIONS, members))
    with source.app_context():
        with db.engine.begin() as connection:
            # Only Mum: not the member the fixture signed in with.
            connection.execute(sa.delete(Member.__table__))
            connection.execute(
                sa.insert(Member.__table__).values(
                    id=1,
                    name="Mum",
                    role="parent",
                    password_hash="scrypt$SECRET-HASH",
                    created_at=sa.func.now(),
                )
            )
        db.engine.dispose()

    plain = _export(source, tmp_path / "plain.json")
    with_hashes = _export(source, tmp_path / "hashes.json", "--include-secret-hashes")

    assert b"SECRET-HASH" not in plain
    assert json.loads(plain)["members"][0]["name"] == "Mum"
    assert json.loads(with_hashes)["includes_secret_hashes"] is True
    assert json.loads(with_hashes)["members"][0]["password_hash"].endswith("HASH")
    smuggled = json.loads(plain)
    smuggled["members"][0]["password_hash"] = "x"
    (tmp_path / "smuggled.json").write_text(json.dumps(smuggled))
    refused = _flask(target, "gifts", "import", str(tmp_path / "smuggled.json"))
    assert refused.exit_code == 1
    assert "members[0].password_hash: A secret hash" in refused.output
    loaded = _flask(target, "gifts", "import", str(tmp_path / "hashes.json"))
    assert loaded.exit_code == 0, loaded.output
    assert _export(target, tmp_path / "again.json", "--include-secret-hashes") == (
        with_hashes
    )


def test_seed_adds_the_same_sample_gifts_for_the_same_seed(tmp_path: Path) -> None:
    one = _migrated(f"sqlite:///{tmp_path / 'one.db'}")
    two = _migrated(f"sqlite:///{tmp_path / 'two.db'}")
    assert _flask(one, "gifts", "seed", "25").exit_code == 0
    assert _flask(two, "gifts", "seed", "25").exit_code == 0
    names = [
        [
            g["name"]
            for g in json.loads(_flask(app, "gifts", "export", "-").stdout)["gifts"]
        ]
        for app in (one, two)
    ]
    assert names[0] == names[1] and len(names[0]) == 25
    assert _count(one, "gifts") == 25
    assert _flask(one, "gifts", "seed", "0").exit_code == 2  # at least one


def test_export_to_a_missing_directory_says_so(source: Flask, tmp_path: Path) -> None:
    result = _flask(source, "gifts", "export", str(tmp_path / "no" / "such.json"))
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("database", ["source", "target"])
def test_export_reads_every_section_from_one_snapshot(
    source: Flask, target: Flask, tmp_path: Path, monkeypatch: Any, database: str
) -> None:
    """A member added while the gifts are read is not in the file: the file
    is the household at one moment (on SQLite and on the target database)."""
    _export(source, tmp_path / "first.json")
    if database == "target":
        assert (
            _flask(target, "gifts", "import", str(tmp_path / "first.json")).exit_code
            == 0
        )
        source = target
    members = backup.Section("members", Member.__table__, MemberRecordSchema)
    monkeypatch.setattr(backup, "SECTIONS", (*backup.SECTIONS, members))
    other = sa.create_engine(source.config["SQLALCHEMY_DATABASE_URI"])

    def add_member_meanwhile(
        conn: Any, cursor: Any, statement: str, *args: Any
    ) -> None:
        if "FROM gifts" in statement:
            with other.begin() as connection:
                connection.execute(
                    sa.insert(Member.__table__).values(
                        name="Late", role="child", created_at=sa.func.now()
                    )
                )

    with source.app_context():
        sa.event.listen(db.engine, "after_cursor_execute", add_member_meanwhile)
        try:
            document = json.loads(_export(source, tmp_path / "backup.json"))
        finally:
            sa.event.remove(db.engine, "after_cursor_execute", add_member_meanwhile)
            db.engine.dispose()
    other.dispose()
    assert len(document["gifts"]) == 3
    # The member added after the export's snapshot began is not in it.
    assert "Late" not in [member["name"] for member in document["members"]]
    assert _count(source, "members") == len(document["members"]) + 1


def test_a_large_household_is_not_cut_by_the_requests_statement_timeout(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Export and import read and write a whole household in one statement
    or transaction: the 5 s that bounds a request must not bound them."""
    app = _migrated(empty_database_url)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's statement_timeout (SQLite has none)")
    _flask(app, "gifts", "seed", "20000")
    # 1 ms: reading 20 000 gifts in one statement takes longer than that.
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT", "1")
    bounded = make_app(empty_database_url)
    first_connect(bounded)

    raw = _export(bounded, tmp_path / "large.json")
    with app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM gifts")
        db.engine.dispose()
    imported = _flask(bounded, "gifts", "import", str(tmp_path / "large.json"))

    assert imported.exit_code == 0, imported.output
    assert len(json.loads(raw)["gifts"]) == _count(app, "gifts") == 20000
    with bounded.app_context():  # the pooled connections are bounded again
        with db.engine.connect() as connection:
            assert connection.scalar(sa.text("SHOW statement_timeout")) == "1ms"
        db.engine.dispose()

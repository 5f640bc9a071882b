"""`flask gifts export` / `import`: a household moves from SQLite to another
database (PostgreSQL when TEST_DATABASE_URL is set) and back to the same file."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app.extensions import db
from app.models import Member, Person
from tests.conftest import (
    client_with_token,
    dispose,
    first_connect,
    make_app,
    make_member,
)


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
    dispose(app)
    return result


def _count(app: Flask, table: str) -> int:
    with app.app_context():
        with db.engine.connect() as connection:
            count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
        db.engine.dispose()
    return count


MUM_PASSWORD = "correct horse battery"


@pytest.fixture
def source(tmp_path: Path) -> Flask:
    """A SQLite household: members (Mum has an email and a password), gifts of
    every shape, people and lists, the gifts' links; gaps in the ids."""
    app = _migrated(f"sqlite:///{tmp_path / 'source.db'}")
    make_member(app, "Mum", "parent", email="Mum@Example.org", password=MUM_PASSWORD)
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
    ann, gone, bob = (
        client.post("/api/v1/people", json=body).get_json()["id"]
        for body in (
            {"name": "Ann", "relationship": "niece", "birthdate": "2019-05-04"},
            {"name": "Gone"},
            {"name": "Bob", "notes": "Likes trains"},
        )
    )
    assert client.delete(f"/api/v1/people/{gone}").status_code == 204
    wish = client.post(
        "/api/v1/lists", json={"name": "Wish", "kind": "wishlist", "person_id": ann}
    ).get_json()["id"]
    client.post("/api/v1/lists", json={"name": "Xmas", "gift_ids": [made[0]["id"]]})
    links = {"recipient_ids": [ann, bob], "list_ids": [wish]}
    assert client.patch(f"/api/v1/gifts/{made[3]['id']}", json=links).status_code == 200
    xmas = client.post(
        "/api/v1/occasions",
        json={"name": "Xmas", "kind": "christmas", "date": "2026-12-25"},
    ).get_json()["id"]
    budget = client.put(f"/api/v1/occasions/{xmas}/budgets/{bob}", json={"amount": 0.3})
    assert budget.status_code == 200
    on_xmas = {"occasion_id": xmas}
    assert (
        client.patch(f"/api/v1/gifts/{made[0]['id']}", json=on_xmas).status_code == 200
    )
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
    assert (
        "imported 2 people, 2 members, 0 access_tokens, 2 lists, 1 occasions, "
        "3 gifts, 2 gift_recipients, 2 gift_lists, 1 budgets"
    ) in result.output
    assert _export(target, tmp_path / "second.json") == first
    document = json.loads(first)
    assert (document["format"], document["version"]) == ("gifts-api-backup", 1)
    assert "access_tokens" not in document  # secret: only when asked
    gift_ids = {gift["name"]: gift["id"] for gift in document["gifts"]}
    assert list(gift_ids) != [] and sorted(gift_ids.values()) == [
        gift["id"] for gift in document["gifts"]
    ]
    assert sorted(gift_ids) == ["Kite", "Wooden train set", "Écharpe 🧣"]
    assert [(p["id"], p["name"]) for p in document["people"]] == [
        (1, "Ann"),
        (3, "Bob"),
    ]
    list_ids = {gift_list["name"]: gift_list["id"] for gift_list in document["lists"]}
    assert sorted((g["name"], g["person_id"]) for g in document["lists"]) == [
        ("Wish", 1),
        ("Xmas", None),
    ]
    kite, train = gift_ids["Kite"], gift_ids["Wooden train set"]
    assert document["gift_recipients"] == [
        {"gift_id": kite, "person_id": 1},
        {"gift_id": kite, "person_id": 3},
    ]
    assert document["gift_lists"] == sorted(
        [
            {"gift_id": train, "list_id": list_ids["Xmas"]},
            {"gift_id": kite, "list_id": list_ids["Wish"]},
        ],
        key=lambda link: (link["gift_id"], link["list_id"]),
    )
    assert document["budgets"] == [{"occasion_id": 1, "person_id": 3, "amount": 0.3}]
    assert [g["occasion_id"] for g in document["gifts"] if g["id"] == train] == [1]
    mum = document["members"][0]
    assert (mum["name"], mum["email"], mum["role"]) == (
        "Mum",
        "Mum@Example.org",
        "parent",
    )
    assert [m["name"].startswith("Reader ") for m in document["members"]] == [
        False,
        True,
    ]
    # The API answers the same for moved records, ETags included.
    target_client = _signed_in(target)
    source_client = _signed_in(source)
    paths = [f"gifts/{kite}", f"gifts/{train}", "people/1", "people/3"]
    paths += [f"lists/{list_id}" for list_id in list_ids.values()]
    paths += ["occasions/1", "occasions/1/budget"]
    for path in paths:
        before = source_client.get(f"/api/v1/{path}")
        after = target_client.get(f"/api/v1/{path}")
        assert after.status_code == 200, path
        assert after.get_json() == before.get_json(), path
        assert after.headers.get("ETag") == before.headers.get("ETag"), path
    gift = target_client.get(f"/api/v1/gifts/{kite}").get_json()
    assert (gift["recipient_ids"], gift["list_ids"]) == ([1, 3], [list_ids["Wish"]])
    assert gift["updated_at"] != gift["created_at"]
    # Every id sequence moved past the imported ids (the new member took 3);
    # gifts and lists take random ids, none of them an imported one.
    assert target_client.get("/api/v1/members/me").get_json()["id"] == 3
    new = target_client.post("/api/v1/gifts", json={"name": "New"})
    assert new.status_code == 201 and new.get_json()["id"] not in gift_ids.values()
    assert (
        target_client.post("/api/v1/people", json={"name": "C"}).get_json()["id"] == 4
    )
    new_list = target_client.post("/api/v1/lists", json={"name": "L"})
    assert new_list.status_code == 201
    assert new_list.get_json()["id"] not in list_ids.values()


def _edited(raw: bytes, edit: Any) -> bytes:
    document = json.loads(raw)
    edit(document)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["gift_lists"].append({"gift_id": 1, "list_id": 99}),
            "gift_lists[2].list_id: No record of lists has id 99.",
        ),
        (
            lambda d: d["gift_recipients"][0].update(gift_id=2),
            "gift_recipients[0].gift_id: No record of gifts has id 2.",
        ),
        (
            lambda d: d["lists"][0].update(person_id=2),
            "lists[0].person_id: No record of people has id 2.",
        ),
        (
            lambda d: d["members"][1].update(name="Mum"),
            "members: The same name appears twice.",
        ),
        (
            lambda d: d["members"][0].update(email_key="Mum@Example.org"),
            "members[0].email_key: Must be the email in lower case",
        ),
        (
            lambda d: d["members"][0].update(role="admin"),
            "members[0].role: Must be one of: parent, child.",
        ),
        (
            lambda d: d["gifts"][0].update(list_ids=[1]),
            "gifts[0].list_ids: Unknown field.",
        ),
        (
            lambda d: d["lists"][0].update(gift_ids=[1]),
            "lists[0].gift_ids: Unknown field.",
        ),
        (
            lambda d: d["people"][0].update(name="  "),
            "people[0].name: Length must be between 1 and 80.",
        ),
    ],
)
def test_a_file_whose_records_do_not_fit_together_changes_nothing(
    source: Flask, target: Flask, tmp_path: Path, edit: Any, message: str
) -> None:
    path = tmp_path / "edited.json"
    path.write_bytes(_edited(_export(source, tmp_path / "backup.json"), edit))

    result = _flask(target, "gifts", "import", str(path))

    assert result.exit_code == 1
    assert message in result.output
    for table in ("members", "people", "lists", "gifts", "gift_lists"):
        assert _count(target, table) == 0


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
    first_id = json.loads(raw)["gifts"][0]["id"]
    path = tmp_path / "twice.json"
    path.write_bytes(_damaged(raw, {(1, "id"): str(first_id)}))
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
    assert (
        "the database already holds people, members, access_tokens, lists, "
        "occasions, gifts, gift_recipients, gift_lists, budgets:"
    ) in again.output
    assert _count(source, "gifts") == 3

    never_migrated = make_app(empty_database_url)
    result = _flask(never_migrated, "gifts", "import", str(tmp_path / "backup.json"))
    assert result.exit_code == 1
    assert "not at the newest migration" in result.output


def test_export_to_stdout(source: Flask) -> None:
    result = _flask(source, "gifts", "export", "-")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert sorted(gift["name"] for gift in document["gifts"]) == [
        "Kite",
        "Wooden train set",
        "Écharpe 🧣",
    ]


def test_secret_hashes_are_written_only_when_asked(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    plain = _export(source, tmp_path / "plain.json")
    with_hashes = _export(source, tmp_path / "hashes.json", "--include-secret-hashes")

    assert b"$argon2" not in plain
    members = json.loads(plain)["members"]
    assert members[0]["name"] == "Mum" and "password_hash" not in members[0]
    assert "access_tokens" not in json.loads(plain)
    document = json.loads(with_hashes)
    assert document["includes_secret_hashes"] is True
    assert document["members"][0]["password_hash"].startswith("$argon2")
    assert [t["member_id"] for t in document["access_tokens"]] == [1, 2]
    smuggled = json.loads(plain)
    smuggled["members"][0]["password_hash"] = "x"
    smuggled["access_tokens"] = document["access_tokens"]
    (tmp_path / "smuggled.json").write_text(json.dumps(smuggled))
    refused = _flask(target, "gifts", "import", str(tmp_path / "smuggled.json"))
    assert refused.exit_code == 1
    assert "members[0].password_hash: A secret hash" in refused.output
    assert "access_tokens: Holds secret hashes" in refused.output

    loaded = _flask(target, "gifts", "import", str(tmp_path / "hashes.json"))
    assert loaded.exit_code == 0, loaded.output
    assert _export(target, tmp_path / "again.json", "--include-secret-hashes") == (
        with_hashes
    )
    # Mum signs in to the new database with her password.
    body = {"login": "mum@example.org", "password": MUM_PASSWORD}
    signed_in = client_with_token(target, None).post("/api/v1/sessions", json=body)
    assert signed_in.status_code == 201
    assert signed_in.get_json()["member"]["name"] == "Mum"


def test_without_secret_hashes_members_move_but_sign_in_anew(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    with source.app_context():
        names = db.session.scalars(sa.select(Member.name)).all()
    _export(source, tmp_path / "plain.json")
    assert (
        _flask(target, "gifts", "import", str(tmp_path / "plain.json")).exit_code == 0
    )

    body = {"login": "Mum", "password": MUM_PASSWORD}
    refused = client_with_token(target, None).post("/api/v1/sessions", json=body)
    assert refused.status_code == 401
    assert (
        _count(target, "members") == len(names) and _count(target, "access_tokens") == 0
    )
    # A new password (or token) on the server, and Mum is back.
    result = target.test_cli_runner().invoke(
        args=["members", "set-password", "Mum"], input=f"{MUM_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    signed_in = client_with_token(target, None).post("/api/v1/sessions", json=body)
    assert signed_in.status_code == 201


def test_seed_adds_the_same_sample_gifts_for_the_same_seed(tmp_path: Path) -> None:
    one = _migrated(f"sqlite:///{tmp_path / 'one.db'}")
    two = _migrated(f"sqlite:///{tmp_path / 'two.db'}")
    assert _flask(one, "gifts", "seed", "25").exit_code == 0
    assert _flask(two, "gifts", "seed", "25").exit_code == 0
    names = [  # ids are random: the same gifts, in another order
        sorted(
            g["name"]
            for g in json.loads(_flask(app, "gifts", "export", "-").stdout)["gifts"]
        )
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
    """A person added while the members (the first section) are read is not in
    the file: the file is the household at one moment (on SQLite and on the
    target database)."""
    _export(source, tmp_path / "first.json")
    if database == "target":
        assert (
            _flask(target, "gifts", "import", str(tmp_path / "first.json")).exit_code
            == 0
        )
        source = target
    other = sa.create_engine(source.config["SQLALCHEMY_DATABASE_URI"])

    def add_member_meanwhile(
        conn: Any, cursor: Any, statement: str, *args: Any
    ) -> None:
        # The first section read, on whichever engine the export reads with
        # (on PostgreSQL, one of its own: app.database.household_engine).
        if conn.engine is not other and "FROM members" in statement:
            with other.begin() as connection:
                connection.execute(
                    sa.insert(Person.__table__).values(name="Late", version=1)
                )

    with source.app_context():
        sa.event.listen(sa.Engine, "after_cursor_execute", add_member_meanwhile)
        try:
            document = json.loads(_export(source, tmp_path / "backup.json"))
        finally:
            sa.event.remove(sa.Engine, "after_cursor_execute", add_member_meanwhile)
            db.engine.dispose()
    other.dispose()
    assert len(document["gifts"]) == 3
    # The person added after the export's snapshot began is not in it.
    assert "Late" not in [person["name"] for person in document["people"]]
    assert _count(source, "people") == len(document["people"]) + 1


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
    with bounded.app_context():  # the service's pooled connections keep their bound
        assert _setting_under_a_tiny_bound(db.engine, "statement_timeout") == "1ms"
        db.engine.dispose()


def _setting_under_a_tiny_bound(
    engine: sa.Engine, name: str, attempts: int = 50
) -> str:
    """``SHOW name`` on a pooled connection whose statement timeout is 1 ms,
    which even a SHOW can overrun on a busy machine: retried, bounded."""
    for _ in range(attempts):
        try:
            with engine.connect() as connection:
                return str(connection.scalar(sa.text(f"SHOW {name}")))
        except sa.exc.OperationalError:
            continue
            continue
    raise AssertionError(f"SHOW {name} was cancelled {attempts} times")

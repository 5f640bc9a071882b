"""The migrations, run for real on an empty database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set): the from_santa change keeps every row both ways."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import check, downgrade, upgrade

from app.access import accounts
from app.extensions import db
from app.models import SignInFailure
from tests.conftest import (
    POSTGRES_URL,
    client_with_token,
    creation_key,
    dispose,
    make_app,
    make_member,
)

BEFORE_FROM_SANTA = "0001"
FROM_SANTA = "0002"

PRE_FEATURE_ROWS = [
    {
        "name": "Wooden train set",
        "description": "With a bridge",
        "notes": "Ask grandma",
        "url": "https://example.com/train",
        "image_url": "https://example.com/train.jpg",
        "source": "Toy fair",
        "price": "49.99",
        "sale_price": "39.90",
        "quantity": 2,
        "priority": "high",
        "status": "purchased",
        "purchase_date": dt.date(2026, 11, 1),
        "created_at": dt.datetime(2026, 10, 1, 8, 30),
        "updated_at": dt.datetime(2026, 10, 2, 9, 45),
    },
    {
        "name": "Socks",
        "description": None,
        "notes": None,
        "url": None,
        "image_url": None,
        "source": None,
        "price": None,
        "sale_price": None,
        "quantity": 1,
        "priority": "low",
        "status": "idea",
        "purchase_date": None,
        "created_at": dt.datetime(2026, 10, 3, 12, 0),
        "updated_at": dt.datetime(2026, 10, 3, 12, 0),
    },
]
COLUMNS = list(PRE_FEATURE_ROWS[0])


@pytest.fixture
def migration_app(empty_database_url: str) -> Iterator[Flask]:
    app = make_app(empty_database_url)
    with app.app_context():
        yield app
    dispose(app)  # API requests use the autocommit bind too


def insert_pre_feature_rows() -> None:
    """Plain SQL, as a client of the old schema would write."""
    names = ", ".join(COLUMNS)
    values = ", ".join(f":{column}" for column in COLUMNS)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(f"INSERT INTO gifts ({names}) VALUES ({values})"), PRE_FEATURE_ROWS
        )


def read_rows(*extra: str) -> list[dict[str, Any]]:
    names = ", ".join([*COLUMNS, *extra])
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT {names} FROM gifts ORDER BY id"))
        return [normalise(row._asdict()) for row in rows]


def normalise(row: dict[str, Any]) -> dict[str, Any]:
    """Plain SQL reads back driver types: compare values, not representations."""
    for key in ("price", "sale_price"):
        if row[key] is not None:
            row[key] = Decimal(str(row[key])).quantize(Decimal("0.01"))
    for key in ("created_at", "updated_at"):
        if isinstance(row[key], str):
            row[key] = dt.datetime.fromisoformat(row[key])
        row[key] = row[key].replace(tzinfo=None)
    if isinstance(row["purchase_date"], str):
        row["purchase_date"] = dt.date.fromisoformat(row["purchase_date"])
    if "from_santa" in row:
        row["from_santa"] = bool(row["from_santa"])
    return row


def expected_rows(**extra: Any) -> list[dict[str, Any]]:
    rows = []
    for row in PRE_FEATURE_ROWS:
        row = {**row, **extra}
        for key in ("price", "sale_price"):
            if row[key] is not None:
                row[key] = Decimal(row[key])
        rows.append(row)
    return rows


def columns() -> dict[str, dict[str, Any]]:
    return {
        column["name"]: column for column in sa.inspect(db.engine).get_columns("gifts")
    }


def indexes() -> set[str]:
    return {index["name"] for index in sa.inspect(db.engine).get_indexes("gifts")}


def test_upgrade_from_empty_database_to_head_creates_gifts_with_from_santa(
    migration_app: Flask,
) -> None:
    upgrade()

    from_santa = columns()["from_santa"]
    assert from_santa["nullable"] is False
    assert isinstance(from_santa["type"], sa.Boolean)
    assert from_santa["default"] is not None


def test_from_santa_upgrade_keeps_every_row_and_reads_false(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_FROM_SANTA)
    assert "from_santa" not in columns()
    insert_pre_feature_rows()

    upgrade(revision=FROM_SANTA)

    assert read_rows("from_santa") == expected_rows(from_santa=False)


def test_from_santa_downgrade_drops_only_the_column_and_keeps_rows(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_FROM_SANTA)
    before = (columns().keys(), indexes())
    insert_pre_feature_rows()
    upgrade(revision=FROM_SANTA)
    assert set(columns()) - set(before[0]) == {"from_santa"}
    assert indexes() == before[1]

    downgrade(revision=BEFORE_FROM_SANTA)

    assert (columns().keys(), indexes()) == before
    assert read_rows() == expected_rows()


def test_upgrade_downgrade_upgrade_again_then_plain_insert_gets_false(
    migration_app: Flask,
) -> None:
    upgrade()
    downgrade(revision=BEFORE_FROM_SANTA)
    upgrade()
    insert_pre_feature_rows()  # omits from_santa, as an old client would

    assert read_rows("from_santa") == expected_rows(from_santa=False)


def test_downgrade_to_base_leaves_an_empty_database(migration_app: Flask) -> None:
    upgrade()

    downgrade(revision="base")

    inspector = sa.inspect(db.engine)
    assert inspector.get_table_names() == ["alembic_version"]
    if db.engine.dialect.name == "postgresql":
        assert inspector.get_enums() == []


def test_models_and_migrations_agree_at_head(migration_app: Flask) -> None:
    upgrade()

    check()  # exits with status 1 when autogenerate finds drift


def test_check_reports_drift_when_the_database_lags(migration_app: Flask) -> None:
    upgrade(revision=BEFORE_FROM_SANTA)

    with pytest.raises(SystemExit):
        check()


ACCESS_TABLES = {"members", "access_tokens", "sign_in_failures"}


def _insert_member(name: str, role: str) -> int:
    """Plain SQL, as the code of 0004 wrote members (today's models hold
    columns 0004 has not)."""
    with db.engine.begin() as connection:
        return connection.execute(
            sa.text(
                "INSERT INTO members (name, role, disabled, created_at) "
                "VALUES (:name, :role, :disabled, :now) RETURNING id"
            ),
            {"name": name, "role": role, "disabled": False, "now": dt.datetime.now()},
        ).scalar_one()


def _count(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def test_access_tables_come_and_go_with_rows_present(migration_app: Flask) -> None:
    upgrade(revision="0003")
    insert_pre_feature_rows()
    tables_before = set(sa.inspect(db.engine).get_table_names())
    upgrade(revision="0004")
    assert set(sa.inspect(db.engine).get_table_names()) - tables_before == ACCESS_TABLES
    member_id = _insert_member("Mum", "parent")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO access_tokens (member_id, token_hash, created_at) "
                "VALUES (:member, :hash, :now)"
            ),
            {"member": member_id, "hash": "0" * 64, "now": dt.datetime.now()},
        )
        connection.execute(
            sa.insert(SignInFailure.__table__).values(
                login_key="login:ghost", failed_at=dt.datetime.now(dt.UTC)
            )
        )

    downgrade(revision="0003")

    inspector = sa.inspect(db.engine)
    assert set(inspector.get_table_names()) == tables_before
    if db.engine.dialect.name == "postgresql":
        assert "member_role" not in {enum["name"] for enum in inspector.get_enums()}
    assert read_rows("from_santa") == expected_rows(from_santa=False)

    upgrade(revision="0004")  # and up again: the enum type is made anew
    assert (_count("members"), _count("access_tokens")) == (0, 0)
    _insert_member("Mum", "child")
    assert _count("members") == 1
    assert read_rows("from_santa") == expected_rows(from_santa=False)


# People and lists (0005) ------------------------------------------------------

BEFORE_PEOPLE = "0004"
PEOPLE = "0005"
PEOPLE_TABLES = {"people", "lists", "gift_recipients", "gift_lists"}


def foreign_keys(table: str) -> dict[str, tuple[str, str | None]]:
    """column -> (referred table, ON DELETE) of each foreign key of ``table``."""
    return {
        key["constrained_columns"][0]: (
            key["referred_table"],
            (key.get("options") or {}).get("ondelete"),
        )
        for key in sa.inspect(db.engine).get_foreign_keys(table)
    }


def test_people_upgrade_adds_tables_and_leaves_gifts_as_they_were(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_PEOPLE)
    before = (columns(), indexes(), set(sa.inspect(db.engine).get_table_names()))
    insert_pre_feature_rows()
    rows = read_rows("from_santa")

    upgrade(revision=PEOPLE)

    assert read_rows("from_santa") == rows == expected_rows(from_santa=False)
    assert (columns().keys(), indexes()) == (before[0].keys(), before[1])
    tables = set(sa.inspect(db.engine).get_table_names())
    assert tables - before[2] == PEOPLE_TABLES
    assert foreign_keys("lists") == {"person_id": ("people", "SET NULL")}
    assert foreign_keys("gift_recipients") == {
        "gift_id": ("gifts", "CASCADE"),
        "person_id": ("people", "CASCADE"),
    }
    assert foreign_keys("gift_lists") == {
        "gift_id": ("gifts", "CASCADE"),
        "list_id": ("lists", "CASCADE"),
    }
    with db.engine.connect() as connection:
        for table in PEOPLE_TABLES:
            assert connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0


def test_gifts_from_before_people_read_with_no_recipients_or_lists(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_PEOPLE)
    insert_pre_feature_rows()
    upgrade()

    _, token = make_member(migration_app, "Mum", "parent")
    client = client_with_token(migration_app, token)
    db.session.remove()

    items = client.get("/api/v1/gifts").get_json()["items"]

    assert [(g["name"], g["recipient_ids"], g["list_ids"]) for g in items] == [
        ("Socks", [], []),
        ("Wooden train set", [], []),
    ]


def test_people_downgrade_drops_the_tables_and_keeps_the_gifts(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_PEOPLE)
    before = (columns(), indexes(), set(sa.inspect(db.engine).get_table_names()))
    insert_pre_feature_rows()
    upgrade(revision=PEOPLE)
    with db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO people (name) VALUES ('Ann')"))
        connection.execute(
            sa.text(
                "INSERT INTO lists (name, kind, person_id) VALUES ('X', 'ideas', 1)"
            )
        )
        connection.execute(sa.text("INSERT INTO gift_recipients VALUES (1, 1)"))
        connection.execute(sa.text("INSERT INTO gift_lists VALUES (2, 1)"))

    downgrade(revision=BEFORE_PEOPLE)

    inspector = sa.inspect(db.engine)
    assert set(inspector.get_table_names()) == before[2]
    assert (columns().keys(), indexes()) == (before[0].keys(), before[1])
    assert read_rows("from_santa") == expected_rows(from_santa=False)
    if db.engine.dialect.name == "postgresql":
        assert {enum["name"] for enum in inspector.get_enums()} == {
            "gift_priority",
            "gift_status",
            "member_role",
        }
    upgrade()  # and up again: the tables come back empty
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM gift_lists")) == 0


BEFORE_SEARCH_INDEX = "0005"
SEARCH_INDEX = "0006"
TRIGRAM_INDEX = "ix_gifts_name_trigram"


def index_definition(name: str) -> tuple[str, bool] | None:
    """PostgreSQL's CREATE INDEX statement for ``name`` and whether it is
    valid, or None when there is no such index."""
    with db.engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT pg_get_indexdef(indexrelid), indisvalid FROM pg_index "
                "WHERE indexrelid = to_regclass(:name)"
            ),
            {"name": name},
        ).one_or_none()
    return None if row is None else (row[0], row[1])


def test_search_index_comes_and_goes_and_leaves_rows_alone(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_SEARCH_INDEX)
    insert_pre_feature_rows()
    before = (columns(), indexes())

    upgrade(revision=SEARCH_INDEX)

    if db.engine.dialect.name == "postgresql":
        assert indexes() == before[1] | {TRIGRAM_INDEX}
        definition, valid = index_definition(TRIGRAM_INDEX) or ("", False)
        assert valid
        assert "USING gin (name gin_trgm_ops)" in definition
    else:  # SQLite: nothing to build
        assert indexes() == before[1]
    assert read_rows("from_santa") == expected_rows(from_santa=False)

    downgrade(revision=BEFORE_SEARCH_INDEX)

    assert (columns().keys(), indexes()) == (before[0].keys(), before[1])
    assert read_rows("from_santa") == expected_rows(from_santa=False)
    upgrade()  # and up again
    assert read_rows("from_santa") == expected_rows(from_santa=False)


@pytest.mark.skipif(not POSTGRES_URL, reason="a concurrent build is PostgreSQL's")
def test_search_index_upgrade_replaces_what_a_failed_build_left(
    migration_app: Flask,
) -> None:
    """CREATE INDEX CONCURRENTLY that fails leaves an INVALID index of its
    name; the upgrade must not take it for the index it builds."""
    upgrade(revision=BEFORE_SEARCH_INDEX)
    insert_pre_feature_rows()
    insert_pre_feature_rows()  # the same names twice: a unique build fails
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        with pytest.raises(sa.exc.IntegrityError):
            connection.exec_driver_sql(
                f"CREATE UNIQUE INDEX CONCURRENTLY {TRIGRAM_INDEX} ON gifts (name)"
            )
    assert index_definition(TRIGRAM_INDEX) == (
        f"CREATE UNIQUE INDEX {TRIGRAM_INDEX} ON public.gifts USING btree (name)",
        False,
    )

    upgrade(revision=SEARCH_INDEX)

    definition, valid = index_definition(TRIGRAM_INDEX) or ("", False)
    assert valid
    assert "UNIQUE" not in definition
    assert "USING gin (name gin_trgm_ops)" in definition


# Surprises (0007, 0008) ---------------------------------------------------------

BEFORE_SURPRISES = "0006"
SURPRISES = "0008"
SURPRISE_COLUMNS = {
    "created_by",
    "claimed_by",
    "wish_withdrawn",
    "wish_version",
    "wish_updated_at",
}


def _old_household() -> None:
    """What the code of 0006 wrote: the two gifts, a member, Ann, and the
    train (the first gift) for Ann."""
    insert_pre_feature_rows()
    _insert_member("Mum", "parent")
    with db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO people (name) VALUES ('Ann')"))
        connection.execute(sa.text("INSERT INTO gift_recipients VALUES (1, 1)"))


def test_surprises_come_and_go_with_rows_present(migration_app: Flask) -> None:
    upgrade(revision=BEFORE_SURPRISES)
    _old_household()
    before = (columns(), indexes())

    upgrade(revision=SURPRISES)

    assert columns().keys() - before[0].keys() == SURPRISE_COLUMNS
    assert indexes() - before[1] == {"ix_gifts_created_at_id"}
    assert foreign_keys("gifts") == {
        "created_by": ("members", "SET NULL"),
        "claimed_by": ("members", "SET NULL"),
    }
    assert foreign_keys("members")["person_id"][0] == "people"
    assert read_rows("from_santa", *sorted(SURPRISE_COLUMNS)) == expected_rows(
        from_santa=False,
        claimed_by=None,
        created_by=None,
        wish_updated_at=None,
        wish_version=1,
        wish_withdrawn=False,
    )
    with db.engine.begin() as connection:  # rows that use the new columns
        connection.execute(sa.text("UPDATE members SET person_id = 1"))
        connection.execute(sa.text("UPDATE gifts SET claimed_by = 1 WHERE id = 2"))
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.execute(sa.text("UPDATE gifts SET created_by = 99"))

    downgrade(revision=BEFORE_SURPRISES)

    assert (columns().keys(), indexes()) == (before[0].keys(), before[1])
    assert read_rows("from_santa") == expected_rows(from_santa=False)
    assert _count("members") == 1 and _count("gift_recipients") == 1
    upgrade()  # and up again: nobody is a person, nothing is claimed
    assert read_rows("claimed_by") == expected_rows(claimed_by=None)


def test_gifts_from_before_surprises_have_no_creator_and_behave_as_before(
    migration_app: Flask,
) -> None:
    """A gift with no creator is nobody's wish: hidden from the person it is
    for like any other, and never hidden by a NULL from anyone else."""
    upgrade(revision=BEFORE_SURPRISES)
    _old_household()
    upgrade()
    accounts.set_person("Mum", 1)  # Mum is Ann
    _, token = accounts.create_token(accounts.find_member("Mum"))
    aunt = make_member(migration_app, "Aunt", "parent")[1]
    db.session.remove()
    mum, everyone = (client_with_token(migration_app, t) for t in (token, aunt))

    seen_by_mum = mum.get("/api/v1/gifts").get_json()["items"]
    seen_by_aunt = everyone.get("/api/v1/gifts").get_json()["items"]

    assert [gift["name"] for gift in seen_by_mum] == ["Socks"]
    assert [gift["name"] for gift in seen_by_aunt] == ["Socks", "Wooden train set"]
    assert all(gift["created_by"] is None for gift in seen_by_aunt)
    socks = seen_by_mum[0]
    assert mum.get(f"/api/v1/gifts/{socks['id']}").get_json() == socks
    summary = mum.get("/api/v1/gifts/summary").get_json()
    assert (summary["total"], summary["by_status"]["idea"]) == (1, 1)
    changed = mum.patch(f"/api/v1/gifts/{socks['id']}", json={"claimed_by": 2})
    assert changed.status_code == 403  # Mum is member 1
    assert (
        mum.patch(f"/api/v1/gifts/{socks['id']}", json={"claimed_by": 1}).get_json()[
            "claimed_by"
        ]
        == 1
    )


# Occasions and budgets (0009) ---------------------------------------------------

BEFORE_OCCASIONS = "0008"
OCCASIONS = "0009"
OCCASION_INDEX = "ix_gifts_occasion_id_created_at_id"


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _add_an_occasion_with_a_budget_and_a_gift() -> None:
    """Plain SQL, as the code of 0009 writes them."""
    with db.engine.begin() as connection:
        for statement in (
            "INSERT INTO people (id, name) VALUES (1, 'Ann')",
            "INSERT INTO occasions (id, name, kind, date, repeats_yearly, person_id)"
            " VALUES (1, 'Christmas', 'christmas', '2026-12-25', true, 1)",
            "INSERT INTO budgets (occasion_id, person_id, amount) VALUES (1, 1, 0.3)",
            "UPDATE gifts SET occasion_id = 1 WHERE name = 'Socks'",
        ):
            connection.execute(sa.text(statement))


def test_occasions_come_and_go_with_rows_present(migration_app: Flask) -> None:
    upgrade(revision=BEFORE_OCCASIONS)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables())
    rows = read_rows("from_santa")

    upgrade(revision=OCCASIONS)

    assert _tables() - before[2] == {"occasions", "budgets"}
    assert set(columns()) - set(before[0]) == {"occasion_id"}
    assert indexes() == before[1] | {OCCASION_INDEX}
    assert foreign_keys("gifts")["occasion_id"] == ("occasions", "SET NULL")
    assert foreign_keys("budgets") == {
        "occasion_id": ("occasions", "CASCADE"),
        "person_id": ("people", "CASCADE"),
    }
    assert foreign_keys("occasions") == {"person_id": ("people", "SET NULL")}
    if db.engine.dialect.name == "postgresql":
        assert (index_definition(OCCASION_INDEX) or ("", False))[1]
    assert read_rows("from_santa", "occasion_id") == [
        {**row, "occasion_id": None} for row in rows
    ]
    _add_an_occasion_with_a_budget_and_a_gift()
    with db.engine.connect() as connection:
        linked = connection.scalar(
            sa.text("SELECT name FROM gifts WHERE occasion_id = 1")
        )
    assert linked == "Socks"

    downgrade(revision=BEFORE_OCCASIONS)

    assert (columns().keys(), indexes(), _tables()) == before
    assert read_rows("from_santa") == rows == expected_rows(from_santa=False)
    if db.engine.dialect.name == "postgresql":
        enums = {enum["name"] for enum in sa.inspect(db.engine).get_enums()}
        assert "occasion_kind" not in enums
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM people")) == 1

    upgrade()  # and up again: the tables come back empty, the type anew
    assert _count("occasions") == 0 and _count("budgets") == 0
    assert read_rows("from_santa", "occasion_id") == [
        {**row, "occasion_id": None} for row in rows
    ]


@pytest.mark.skipif(not POSTGRES_URL, reason="a concurrent build is PostgreSQL's")
def test_occasions_upgrade_runs_again_after_a_failed_index_build(
    migration_app: Flask,
) -> None:
    """The index build fails after the tables and column are committed (a
    lock timeout, say): the upgrade runs again from there, and replaces the
    INVALID index the failed build left."""
    upgrade(revision=OCCASIONS)
    insert_pre_feature_rows()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f"DROP INDEX {OCCASION_INDEX}")
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
        connection.exec_driver_sql("UPDATE gifts SET occasion_id = NULL")
        with pytest.raises(sa.exc.IntegrityError):  # two NULLs are not equal...
            connection.exec_driver_sql(
                f"CREATE UNIQUE INDEX CONCURRENTLY {OCCASION_INDEX}"
                " ON gifts (coalesce(occasion_id, 0))"
            )
    assert index_definition(OCCASION_INDEX) is not None
    assert not (index_definition(OCCASION_INDEX) or ("", True))[1]

    upgrade()

    definition, valid = index_definition(OCCASION_INDEX) or ("", False)
    assert valid and "UNIQUE" not in definition
    assert "(occasion_id, created_at, id)" in definition
    check()


# The search index (0010) ---------------------------------------------------------

BEFORE_NAME_SEARCH = "0009"
NAME_SEARCH = "0010"
NAME_SEARCH_TRIGGERS = {
    "gifts_name_search_insert",
    "gifts_name_search_delete",
    "gifts_name_search_update",
}


def _triggers() -> set[str]:
    if db.engine.dialect.name != "sqlite":
        return set()
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
        return {name for (name,) in rows}


def _indexed_ids(term: str) -> set[int]:
    """The ids the search index names for ``term``: 0010's rowids, or the
    low bits of 0015's creation keys, counted down."""
    if "gift_name_trigrams" in _tables():
        return {2**31 - 1 - (key & (2**31 - 1)) for key in _indexed_keys(term)}
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT rowid FROM gift_name_search WHERE gift_name_search MATCH ?",
            (f'"{term}"',),
        )
        return {gift_id for (gift_id,) in rows}


def _indexed_keys(term: str) -> set[int]:
    """0015's keys for ``term``."""
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT rowid FROM gift_name_trigrams WHERE gift_name_trigrams MATCH ?",
            (f'"{term}"',),
        )
        return {key for (key,) in rows}


def _creation_key(gift_id: int) -> int:
    """What 0015's key of a gift is, read from the gift (``creation_key``)."""
    with db.engine.connect() as connection:
        created_at = connection.scalar(
            sa.text("SELECT created_at FROM gifts WHERE id = :id"), {"id": gift_id}
        )
    return creation_key(gift_id, created_at)


def _search(app: Flask, term: str) -> list[str]:
    _, token = make_member(app, f"Reader {uuid.uuid4().hex[:6]}", "parent")
    db.session.remove()
    client = client_with_token(app, token)
    response = client.get("/api/v1/gifts", query_string={"search": term})
    assert response.status_code == 200, response.get_json()
    return [gift["name"] for gift in response.get_json()["items"]]


def test_name_search_index_comes_and_goes_with_rows_present(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_NAME_SEARCH)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables(), _triggers())
    rows = read_rows("from_santa")

    upgrade(revision=NAME_SEARCH)

    sqlite = db.engine.dialect.name == "sqlite"
    assert (columns().keys(), indexes()) == before[:2]
    if sqlite:
        assert "gift_name_search" in _tables() - before[2]
        assert _triggers() - before[3] == NAME_SEARCH_TRIGGERS
        assert _indexed_ids("TRAIN") == {1}  # the rows present are indexed
    else:  # PostgreSQL: nothing (0006's index serves search)
        assert (_tables(), _triggers()) == before[2:]
    assert read_rows("from_santa") == rows
    assert _search(migration_app, "TRAIN SET") == ["Wooden train set"]
    assert _search(migration_app, "OC") == ["Socks"]

    downgrade(revision=BEFORE_NAME_SEARCH)

    assert (columns().keys(), indexes(), _tables(), _triggers()) == before
    assert read_rows("from_santa") == rows
    upgrade()  # and up again, with the rows present
    if sqlite:
        assert _indexed_ids("socks") == {2}


def _with_a_rebuild_of_gifts(tmp_path: Any, after: str) -> Any:
    """A copy of migrations/ with one more revision, 0099, after ``after``:
    it rebuilds gifts as 0007 and 0009 do (batch mode), then appends "!" to
    every name."""
    directory = tmp_path / "migrations"
    shutil.copytree("migrations", directory)
    (directory / "versions" / "0099_rebuild_gifts.py").write_text(
        f'"""Rebuild gifts (a test\'s).\n\nRevision ID: 0099\nRevises: {after}\n"""\n'
        "from alembic import op\n"
        f"revision, down_revision = '0099', '{after}'\n"
        "def upgrade():\n"
        "    with op.batch_alter_table('gifts', recreate='always',"
        " table_kwargs={'sqlite_autoincrement': True}):\n"
        "        pass\n"
        "    op.execute(\"UPDATE gifts SET name = name || '!'\")\n"
        "def downgrade():\n"
        "    pass\n"
    )
    return directory


def test_a_later_rebuild_of_gifts_leaves_the_index_in_step(
    migration_app: Flask, tmp_path: Any
) -> None:
    """A migration after 0010 that rebuilds gifts as 0007 and 0009 do drops
    the triggers with the old table: migrations/env.py puts them back."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite rebuilds tables; PostgreSQL has no such index")
    directory = _with_a_rebuild_of_gifts(tmp_path, after=NAME_SEARCH)
    upgrade(revision=NAME_SEARCH)
    insert_pre_feature_rows()

    upgrade(directory=str(directory), revision="0099")

    assert NAME_SEARCH_TRIGGERS <= _triggers()
    assert _indexed_ids("socks!") == {2}
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE gifts SET name = 'Sledge' WHERE id = 1")
    assert _indexed_ids("sledge") == {1} and _indexed_ids("train") == set()


# The search index keyed by creation (0015) ------------------------------------

BEFORE_KEYED_SEARCH = "0014"
KEYED_SEARCH = "0015"
KEYED_SEARCH_TRIGGERS = {
    "gifts_name_trigrams_insert",
    "gifts_name_trigrams_delete",
    "gifts_name_trigrams_update",
}


def test_search_index_keyed_by_creation_replaces_0010s_with_rows_present(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_KEYED_SEARCH)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables(), _triggers())
    rows = read_rows("from_santa")

    upgrade(revision=KEYED_SEARCH)

    sqlite = db.engine.dialect.name == "sqlite"
    assert (columns().keys(), indexes()) == before[:2]
    if sqlite:
        assert "gift_name_trigrams" in _tables() - before[2]
        assert "gift_name_search" not in _tables()
        assert _triggers() == before[3] - NAME_SEARCH_TRIGGERS | KEYED_SEARCH_TRIGGERS
        assert _indexed_keys("TRAIN") == {_creation_key(1)}  # the rows present
        with db.engine.begin() as connection:  # writes keep it in step
            connection.exec_driver_sql(
                "UPDATE gifts SET created_at = '2031-05-06 07:08:09.250000'"
                " WHERE id = 1"
            )
            connection.exec_driver_sql("UPDATE gifts SET name = 'Sledge' WHERE id = 2")
        assert _indexed_keys("train") == {_creation_key(1)}
        assert 2**32 - 1 - (_creation_key(1) >> 31) == 1935817689  # 2031-05-06 07:08:09
        assert _indexed_ids("sledge") == {2} and _indexed_ids("socks") == set()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM gifts WHERE id = 2")
        assert _indexed_ids("sledge") == set()
    else:  # PostgreSQL: nothing (0006's index serves search)
        assert (_tables(), _triggers()) == before[2:]
        assert read_rows("from_santa") == rows
    assert _search(migration_app, "TRAIN SET") == ["Wooden train set"]

    downgrade(revision=BEFORE_KEYED_SEARCH)

    assert (columns().keys(), indexes(), _tables(), _triggers()) == before
    if sqlite:
        assert _indexed_ids("train") == {1}  # 0010's again, filled
    assert _search(migration_app, "TRAIN SET") == ["Wooden train set"]
    upgrade()  # and up again, with the rows present
    if sqlite:
        assert _indexed_ids("train") == {1}


def test_a_later_rebuild_of_gifts_leaves_the_keyed_index_in_step(
    migration_app: Flask, tmp_path: Any
) -> None:
    """A migration after 0015 that rebuilds gifts drops 0015's triggers with
    the old table: migrations/env.py puts them back and refills the index."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite rebuilds tables; PostgreSQL has no such index")
    directory = _with_a_rebuild_of_gifts(tmp_path, after=KEYED_SEARCH)
    upgrade(revision=KEYED_SEARCH)
    insert_pre_feature_rows()

    upgrade(directory=str(directory), revision="0099")

    assert KEYED_SEARCH_TRIGGERS <= _triggers()
    assert _indexed_keys("socks!") == {_creation_key(2)}
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE gifts SET name = 'Sledge' WHERE id = 1")
    assert _indexed_ids("sledge") == {1} and _indexed_ids("train") == set()


# The creator index (0012) ----------------------------------------------------

BEFORE_CREATOR_INDEX = "0011"
CREATOR_INDEX_REVISION = "0012"
CREATOR_INDEX = "ix_gifts_created_by_id"


def _assert_built(index: str, columns: str, rows: int) -> None:
    """PostgreSQL: ``index`` is valid, on ``columns``; SQLite: the planner's
    statistics count its ``rows`` (ANALYZE of the index alone)."""
    if db.engine.dialect.name == "postgresql":
        definition, valid = index_definition(index) or ("", False)
        assert valid and columns in definition, definition
        return
    with db.engine.connect() as connection:
        stat = connection.scalar(
            sa.text("SELECT stat FROM sqlite_stat1 WHERE idx = :name"),
            {"name": index},
        )
    assert stat is not None and stat.split()[0] == str(rows), stat


def _leave_a_failed_build(index: str) -> None:
    """What a concurrent build of ``index`` that failed leaves: an INVALID
    index of that name (here a unique index that the gifts' NULL creators,
    all read as 0, fail)."""
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("UPDATE gifts SET created_by = NULL")
        with pytest.raises(sa.exc.IntegrityError):  # two NULLs are not equal...
            connection.exec_driver_sql(
                f"CREATE UNIQUE INDEX CONCURRENTLY {index}"
                " ON gifts (coalesce(created_by, 0))"
            )
    assert not (index_definition(index) or ("", True))[1]


def test_the_creator_index_comes_and_goes_and_leaves_rows_alone(
    migration_app: Flask,
) -> None:
    upgrade(revision=BEFORE_CREATOR_INDEX)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables())
    rows = read_rows("from_santa", "created_by")

    upgrade(revision=CREATOR_INDEX_REVISION)

    assert indexes() == before[1] | {CREATOR_INDEX}
    assert (columns().keys(), _tables()) == (before[0], before[2])
    assert read_rows("from_santa", "created_by") == rows
    _assert_built(CREATOR_INDEX, "(created_by, id)", len(rows))

    downgrade(revision=BEFORE_CREATOR_INDEX)

    assert (columns().keys(), indexes(), _tables()) == before
    assert read_rows("from_santa", "created_by") == rows
    upgrade(revision=CREATOR_INDEX_REVISION)  # and up again
    assert CREATOR_INDEX in indexes()
    upgrade()
    check()


@pytest.mark.skipif(not POSTGRES_URL, reason="a concurrent build is PostgreSQL's")
def test_the_creator_index_upgrade_replaces_what_a_failed_build_left(
    migration_app: Flask,
) -> None:
    """A concurrent build that fails (a lock timeout, say) leaves an INVALID
    index of the same name: the upgrade, run again, builds it anew."""
    upgrade(revision=BEFORE_CREATOR_INDEX)
    insert_pre_feature_rows()
    _leave_a_failed_build(CREATOR_INDEX)

    upgrade(revision=CREATOR_INDEX_REVISION)

    definition, valid = index_definition(CREATOR_INDEX) or ("", False)
    assert valid and "UNIQUE" not in definition and "(created_by, id)" in definition
    upgrade()
    check()


# The creator index in creation order (0013) -----------------------------------

NEWEST_WISHES_REVISION = "0013"
NEWEST_WISHES_INDEX = "ix_gifts_created_by_created_at_id"


def test_the_creator_index_in_creation_order_replaces_the_former_both_ways(
    migration_app: Flask,
) -> None:
    """0013 builds (created_by, created_at, id) and drops 0012's (created_by,
    id); its downgrade builds 0012's again and drops its own. No row or
    column changes either way."""
    upgrade(revision=CREATOR_INDEX_REVISION)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables())
    rows = read_rows("from_santa", "created_by")
    assert CREATOR_INDEX in before[1]

    upgrade(revision=NEWEST_WISHES_REVISION)

    assert indexes() == (before[1] - {CREATOR_INDEX}) | {NEWEST_WISHES_INDEX}
    assert (columns().keys(), _tables()) == (before[0], before[2])
    assert read_rows("from_santa", "created_by") == rows
    _assert_built(NEWEST_WISHES_INDEX, "(created_by, created_at, id)", len(rows))

    downgrade(revision=CREATOR_INDEX_REVISION)

    assert (columns().keys(), indexes(), _tables()) == before
    assert read_rows("from_santa", "created_by") == rows
    _assert_built(CREATOR_INDEX, "(created_by, id)", len(rows))
    upgrade()  # and up again
    assert NEWEST_WISHES_INDEX in indexes() and CREATOR_INDEX not in indexes()
    check()


@pytest.mark.skipif(not POSTGRES_URL, reason="a concurrent build is PostgreSQL's")
def test_the_creator_index_in_creation_order_replaces_what_a_failed_build_left(
    migration_app: Flask,
) -> None:
    """A concurrent build of 0013's index that failed leaves an INVALID one of
    its name (and 0012's still there): the upgrade, run again, builds it anew
    and drops 0012's."""
    upgrade(revision=CREATOR_INDEX_REVISION)
    insert_pre_feature_rows()
    _leave_a_failed_build(NEWEST_WISHES_INDEX)

    upgrade()

    definition, valid = index_definition(NEWEST_WISHES_INDEX) or ("", False)
    assert valid and "UNIQUE" not in definition
    assert "(created_by, created_at, id)" in definition
    assert CREATOR_INDEX not in indexes()
    check()


# The creator indexes by price and by name (0014) ------------------------------

BY_PRICE_AND_NAME_REVISION = "0014"
BY_PRICE_AND_NAME_INDEXES = {
    "ix_gifts_created_by_price_id": "(created_by, price, id)",
    "ix_gifts_created_by_name_id": "(created_by, name, id)",
}


def test_the_creator_indexes_by_price_and_name_come_and_go_and_leave_rows_alone(
    migration_app: Flask,
) -> None:
    """0014 builds (created_by, price, id) and (created_by, name, id); its
    downgrade drops them. No row, column or other index changes either way."""
    upgrade(revision=NEWEST_WISHES_REVISION)
    insert_pre_feature_rows()
    before = (columns().keys(), indexes(), _tables())
    rows = read_rows("from_santa", "created_by")

    upgrade(revision=BY_PRICE_AND_NAME_REVISION)

    assert indexes() == before[1] | set(BY_PRICE_AND_NAME_INDEXES)
    assert (columns().keys(), _tables()) == (before[0], before[2])
    assert read_rows("from_santa", "created_by") == rows
    for index, indexed in BY_PRICE_AND_NAME_INDEXES.items():
        _assert_built(index, indexed, len(rows))

    downgrade(revision=NEWEST_WISHES_REVISION)

    assert (columns().keys(), indexes(), _tables()) == before
    assert read_rows("from_santa", "created_by") == rows
    upgrade()  # and up again
    assert set(BY_PRICE_AND_NAME_INDEXES) <= indexes()
    check()


@pytest.mark.skipif(not POSTGRES_URL, reason="a concurrent build is PostgreSQL's")
def test_the_creator_indexes_by_price_and_name_replace_what_a_failed_build_left(
    migration_app: Flask,
) -> None:
    """A concurrent build of 0014's second index that failed leaves an
    INVALID one of its name: the upgrade, run again, builds it anew, and
    the first as well."""
    upgrade(revision=NEWEST_WISHES_REVISION)
    insert_pre_feature_rows()
    first, second = BY_PRICE_AND_NAME_INDEXES
    _leave_a_failed_build(second)

    upgrade()

    for index, indexed in BY_PRICE_AND_NAME_INDEXES.items():
        definition, valid = index_definition(index) or ("", False)
        assert valid and "UNIQUE" not in definition and indexed in definition
    check()

"""The migrations, run for real on an empty database (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set): the from_santa change keeps every row both ways."""

from __future__ import annotations

import datetime as dt
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
from tests.conftest import make_app

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
        db.engine.dispose()


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


def test_access_tables_come_and_go_with_rows_present(migration_app: Flask) -> None:
    upgrade(revision="0003")
    insert_pre_feature_rows()
    tables_before = set(sa.inspect(db.engine).get_table_names())
    upgrade(revision="0004")
    assert set(sa.inspect(db.engine).get_table_names()) - tables_before == ACCESS_TABLES
    member = accounts.add_member("Mum", "parent", "mum@example.org", "long password")
    accounts.create_token(member, label="laptop", days=3)
    with db.engine.begin() as connection:
        connection.execute(
            sa.insert(SignInFailure.__table__).values(
                login_key="login:ghost", failed_at=dt.datetime.now(dt.UTC)
            )
        )
    db.session.remove()

    downgrade(revision="0003")

    inspector = sa.inspect(db.engine)
    assert set(inspector.get_table_names()) == tables_before
    if db.engine.dialect.name == "postgresql":
        assert "member_role" not in {enum["name"] for enum in inspector.get_enums()}
    assert read_rows("from_santa") == expected_rows(from_santa=False)

    upgrade(revision="0004")  # and up again: the enum type is made anew
    assert accounts.list_members() == []
    again = accounts.add_member("Mum", "child")
    assert again.role == "child" and accounts.list_tokens() == []
    assert read_rows("from_santa") == expected_rows(from_santa=False)
    db.session.remove()

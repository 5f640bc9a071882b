"""app/prepared.py runs reads on the driver's cursor: the rows must be the
ones SQLAlchemy's own ``Connection.execute`` reads, value for value and type
for type, for every viewer's statement, and errors must stay SQLAlchemy's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.access import accounts
from app.extensions import db
from app.gifts import store
from app.lists import store as list_store
from app.models import Gift, gift_lists, gift_recipients
from app.people import store as people_store
from app.prepared import Prepared
from app.transactions import read_engine
from app.visibility import Viewer

gifts = Gift.__table__
MISSING = 1  # no gift has it: ids are random and far larger


def _library_row(engine: sa.Engine, statement: Any, values: dict[str, Any]) -> Any:
    with engine.connect() as connection:
        row = connection.execute(statement, values).mappings().first()
    return None if row is None else dict(row)


def _typed(row: dict[str, Any] | None) -> Any:
    return None if row is None else {k: (type(v), v) for k, v in row.items()}


def test_prepared_reads_what_sqlalchemy_reads(app: Flask) -> None:
    """Every column kind (times, money, dates, enums, booleans, links), a
    linked member's wish view and hidden planning lists, and a miss."""
    with app.app_context():
        parent = Viewer(0, "parent", None)
        ann = people_store.create_person({"name": "Ann"}, parent)["id"]
        bob = people_store.create_person({"name": "Bob"}, parent)["id"]
        planning = list_store.create_list(
            {"name": "Ideas", "kind": "ideas", "person_id": ann}, parent
        )["id"]
        wishlist = list_store.create_list(
            {"name": "Wishes", "kind": "wishlist", "person_id": ann}, parent
        )["id"]
        member = accounts.add_member("ann-prepared", "child", person_id=ann).id
        child = Viewer(member, "child", None)
        linked = Viewer(member, "child", ann)
        full = store.create_gift(
            {
                "name": "Bike",
                "description": "Red",
                "price": Decimal("99999999.99"),
                "sale_price": Decimal("0.10"),
                "quantity": 3,
                "priority": "high",
                "status": "purchased",
                "purchase_date": dt.date(2026, 12, 1),
                "from_santa": True,
            },
            parent,
        )
        plain = store.create_gift({"name": "Kite"}, parent)
        wish = store.create_gift({"name": "Wish", "recipient_ids": [ann]}, linked)
        with db.engine.begin() as connection:
            connection.execute(
                sa.insert(gift_recipients),
                [{"gift_id": full["id"], "person_id": p} for p in (ann, bob)],
            )
            connection.execute(
                sa.insert(gift_lists),
                [
                    {"gift_id": wish["id"], "list_id": list_id}
                    for list_id in (planning, wishlist)
                ],
            )
        engine = read_engine()
        dialect = engine.dialect.name
        compared = 0
        for viewer in (parent, child, linked):
            statement = store._by_id(dialect, viewer)
            prepared = Prepared(statement)
            for gift_id in (full["id"], plain["id"], wish["id"], MISSING):
                values = {"gift_id": gift_id}
                expected = _library_row(engine, statement, values)
                got = prepared.first(engine, values)
                assert _typed(None if got is None else dict(got)) == _typed(expected)
                compared += expected is not None
        # The child sees neither Santa's gift nor, linked, the surprise for Ann.
        assert compared == 3 + 2 + 2


def test_a_statement_it_cannot_run_takes_sqlalchemys_path(app: Flask) -> None:
    """An expanding IN is rendered per execution: SQLAlchemy runs it."""
    with app.app_context():
        gift = store.create_gift({"name": "Kite"}, Viewer(0, "parent", None))
        statement = sa.select(gifts.c.id, gifts.c.name).where(
            gifts.c.id.in_(sa.bindparam("ids", expanding=True))
        )
        prepared = Prepared(statement)
        engine = read_engine()
        row = prepared.first(engine, {"ids": [gift["id"], 7]})
        assert prepared._plan(engine.dialect).runnable is False
        assert dict(row or {}) == {"id": gift["id"], "name": "Kite"}


def test_driver_errors_are_sqlalchemys(app: Flask) -> None:
    """A statement the database refuses raises SQLAlchemy's wrapped error, as
    the 503 and retry handlers expect."""
    with app.app_context():
        statement = sa.select(sa.column("no_such_column")).select_from(gifts)
        with pytest.raises(sa.exc.DBAPIError):
            Prepared(statement).first(read_engine(), {})


def test_a_prepared_write_returns_what_a_read_of_it_returns(app: Flask) -> None:
    """PATCH's UPDATE ... RETURNING on the driver's cursor, in the
    connection's transaction: the row returned is the row the library then
    reads, type for type, and the change is committed with the transaction."""
    parent = Viewer(0, "parent", None)
    with app.app_context():
        gift = store.create_gift({"name": "Kite", "price": Decimal("12.50")}, parent)
        engine = read_engine()
        dialect = engine.dialect.name
        prepared = store._prepared_update(
            ("from_santa", "price"), False, parent, dialect
        )
        parameters = {"gift_id": gift["id"]} | store.set_parameters(
            {"from_santa": True, "price": Decimal("9.99")}
        )
        with store.autocommit(write=True) as connection:
            returned = prepared.first_on(connection, parameters)
        expected = _library_row(
            engine, store._by_id(dialect, parent), {"gift_id": gift["id"]}
        )
        assert _typed(dict(returned or {})) == _typed(expected)
        assert expected is not None
        assert (expected["from_santa"], expected["price"]) == (True, Decimal("9.99"))
        assert expected["version"] == gift["version"] + 1
        with store.autocommit(write=True) as connection:
            missing = prepared.first_on(connection, parameters | {"gift_id": MISSING})
        assert missing is None


def test_a_prepared_writes_driver_error_is_the_connections(app: Flask) -> None:
    with app.app_context():
        statement = sa.select(sa.column("no_such_column")).select_from(gifts)
        with store.autocommit(write=True) as connection:
            with pytest.raises(sa.exc.DBAPIError):
                Prepared(statement).first_on(connection, {})

"""The plan's schema checklists: create, update and response, on from_santa and
the strict types around it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest

from app.gifts import listing, store
from app.gifts.schemas import GiftCreateSchema, GiftSchema, GiftUpdateSchema
from app.lists import store as list_store
from app.lists.schemas import ListSchema
from app.models import Gift, GiftList, Person
from app.people import store as people_store
from app.people.schemas import PersonSchema
from app.visibility import Viewer

# A parent with no person (and no member row: what it creates has no creator).
PARENT = Viewer(0, "parent", None)

create = GiftCreateSchema()
update = GiftUpdateSchema(partial=True)


def errors_of(schema: ma.Schema, data: Any) -> dict[str, Any]:
    with pytest.raises(ma.ValidationError) as raised:
        schema.load(data)
    return raised.value.messages  # type: ignore[return-value]


def test_create_without_from_santa_defaults_to_false() -> None:
    assert create.load({"name": "Kite"})["from_santa"] is False


@pytest.mark.parametrize("value", [True, False])
def test_create_keeps_explicit_from_santa(value: bool) -> None:
    assert create.load({"name": "Kite", "from_santa": value})["from_santa"] is value


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", 1.0, None, [], {}])
def test_create_rejects_from_santa_that_is_not_a_json_boolean(value: Any) -> None:
    assert errors_of(create, {"name": "Kite", "from_santa": value}) == {
        "from_santa": ["Field may not be null."]
        if value is None
        else ["Not a valid boolean."]
    }


def test_create_fills_the_documented_defaults() -> None:
    assert create.load({"name": "  Kite  "}) == {
        "name": "Kite",
        "quantity": 1,
        "priority": "medium",
        "status": "idea",
        "from_santa": False,
    }


def test_update_accepts_an_empty_object_as_no_change() -> None:
    assert update.load({}) == {}


@pytest.mark.parametrize("value", [True, False])
def test_update_accepts_from_santa_true_and_false(value: bool) -> None:
    assert update.load({"from_santa": value}) == {"from_santa": value}


def test_update_null_from_santa_means_leave_it_as_it_is() -> None:
    assert update.load({"from_santa": None}) == {}


def test_update_null_on_non_nullable_fields_leaves_them_and_clears_nullable_ones() -> (
    None
):
    assert update.load(
        {
            "name": None,
            "quantity": None,
            "priority": None,
            "status": None,
            "price": None,
            "notes": None,
        }
    ) == {"price": None, "notes": None}


def test_update_rejects_string_booleans() -> None:
    assert errors_of(update, {"from_santa": "true"}) == {
        "from_santa": ["Not a valid boolean."]
    }


def test_update_does_not_fill_create_defaults() -> None:
    assert update.load({"name": "Kite"}) == {"name": "Kite"}


def test_unknown_and_read_only_fields_are_named_together_with_other_errors() -> None:
    assert errors_of(
        create, {"name": "Kite", "colour": "red", "id": 7, "from_santa": "yes"}
    ) == {
        "colour": ["Unknown field."],
        "id": ["Read-only field."],
        "from_santa": ["Not a valid boolean."],
    }


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (Decimal("19.999"), "At most two decimals."),
        (
            Decimal("-0.01"),
            "Must be greater than or equal to 0 and less than or equal to 99999999.99.",
        ),
        (
            Decimal("100000000"),
            "Must be greater than or equal to 0 and less than or equal to 99999999.99.",
        ),
        ("19.99", "Not a valid number."),
        (True, "Not a valid number."),
    ],
)
def test_price_must_be_a_number_in_range_with_two_decimals(
    price: Any, message: str
) -> None:
    assert errors_of(create, {"name": "Kite", "price": price}) == {"price": [message]}


@pytest.mark.parametrize("quantity", [1.0, "2", True, 0, 10_001])
def test_quantity_is_a_strict_integer_in_range(quantity: Any) -> None:
    assert "quantity" in errors_of(create, {"name": "Kite", "quantity": quantity})


@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_name_has_1_to_255_characters_after_trimming(name: str) -> None:
    assert "name" in errors_of(create, {"name": name})


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com", "/relative"])
def test_urls_must_be_absolute_http(url: str) -> None:
    assert "url" in errors_of(create, {"name": "Kite", "url": url})


def test_response_always_carries_from_santa_false_when_absent() -> None:
    gift = Gift(
        id=1,
        name="Kite",
        quantity=1,
        priority="medium",
        status="idea",
        created_at=dt.datetime(2026, 12, 24, 18, 30, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 12, 24, 18, 30, tzinfo=dt.UTC),
    )
    dumped = GiftSchema().dump(gift)
    assert dumped["from_santa"] is False
    assert dumped["created_at"] == "2026-12-24T18:30:00+00:00"


def test_response_carries_from_santa_true() -> None:
    assert GiftSchema().dump({"from_santa": True})["from_santa"] is True


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Kite"},
        {
            "name": "Bike",
            "description": "Red",
            "notes": "Ask first",
            "url": "https://shop.example/bike",
            "image_url": "http://img.example/bike.png",
            "source": "Fair",
            "price": Decimal("99999999.99"),
            "sale_price": Decimal("0.10"),
            "quantity": 3,
            "priority": "high",
            "status": "received",
            "purchase_date": dt.date(2026, 12, 1),
            "from_santa": True,
        },
    ],
)
def test_row_dump_equals_marshmallows_own_dump(
    app: Any, fields: dict[str, Any]
) -> None:
    """The planned dump of database rows is only faster, never different."""
    defaults = {"quantity": 1, "priority": "medium", "status": "idea"}
    with app.app_context():
        row = store.create_gift(defaults | {"from_santa": False} | fields, PARENT)
        rows = listing.list_gifts({"sort": "recent", "limit": 50}, PARENT)[0]
    schema = GiftSchema()
    as_json = app.json.dumps
    assert schema._row_plan is not None  # the planned path is the one compared

    assert as_json(schema.dump(row)) == as_json(ma.Schema.dump(schema, row))
    assert as_json(schema.dump(rows, many=True)) == as_json(
        ma.Schema.dump(schema, rows, many=True)
    )
    assert schema.dump(row)["from_santa"] is fields.get("from_santa", False)


@pytest.mark.parametrize(
    ("schema", "model", "extra"),
    [
        (GiftSchema, Gift, {"recipient_ids", "list_ids"}),
        (PersonSchema, Person, {"gift_count"}),
        (ListSchema, GiftList, {"gift_count"}),
    ],
)
def test_dump_schemas_answer_every_column_but_the_version(
    schema: type[ma.Schema], model: Any, extra: set[str]
) -> None:
    """The dump schemas come from the models: a column added to a model is in
    the response without a second declaration (and the version never is)."""
    # The versions are ETag states (the wish view has its own, and its time).
    versions = {"version", "wish_version", "wish_updated_at"}
    columns = {column.key for column in model.__table__.columns} - versions

    assert set(schema().fields) == columns | extra
    assert all(
        field.dump_only for name, field in schema().fields.items() if name in columns
    )


def test_people_and_list_rows_dump_as_marshmallow_would(app: Any) -> None:
    visible = PARENT
    with app.app_context():
        person = people_store.create_person(
            {"name": "Ann", "birthdate": dt.date(2019, 5, 4), "notes": None}, visible
        )
        gift_list = list_store.create_list(
            {"name": "L", "kind": "wishlist", "person_id": person["id"]}, visible
        )
    as_json = app.json.dumps
    for schema, row in ((PersonSchema(), person), (ListSchema(), gift_list)):
        assert as_json(schema.dump(row)) == as_json(ma.Schema.dump(schema, row))
    # A planned dump leaves dates to the JSON encoder (app/dump_schemas.py).
    assert '"birthdate":"2019-05-04"' in as_json(PersonSchema().dump(person))


@pytest.mark.parametrize(
    "stored",
    [
        "2026-12-02 00:49:25.482327",  # as SQLAlchemy writes one
        "2026-12-02 00:49:25",  # CURRENT_TIMESTAMP, a migration's default
        "2026-12-02 00:49:25.4823",  # other forms take the dialect's path
        "2026-12-02 00:49",
        None,
    ],
)
def test_sqlite_timestamps_read_as_sqlalchemys_own_path_reads_them(
    stored: str | None,
) -> None:
    """UTCDateTime's one-step reader on SQLite gives what the dialect's parser
    followed by ``process_result_value`` (TypeDecorator's path) gives."""
    from sqlalchemy.dialects import sqlite

    from app.models.types import UTCDateTime

    dialect = sqlite.dialect()
    column = UTCDateTime().dialect_impl(dialect)
    parse = column.impl_instance.dialect_impl(dialect).result_processor(dialect, None)
    library = column.process_result_value(
        None if stored is None else parse(stored), dialect
    )
    fast = column.result_processor(dialect, None)(stored)
    assert fast == library
    if library is not None:
        assert fast.utcoffset() == dt.timedelta(0) == library.utcoffset()
        assert fast.isoformat() == library.isoformat()

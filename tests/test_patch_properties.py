"""Properties of PATCH /api/v1/gifts/{id}, over generated gifts and changes.

- Fields not sent never change; those sent take the value sent (a null on a
  non-nullable field leaves it as it was).
- A request that is rejected (422) changes nothing, not even updated_at.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOT_NULLABLE = {"name", "quantity", "priority", "status", "from_santa"}
# updated_at moves on every change (API.md), the rest is the gift's data.
MOVES = {"updated_at"}

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    # One app and table per test; every example makes its own gift.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _text(max_size: int) -> st.SearchStrategy[str]:
    """Text the API stores: encodable as UTF-8, without NUL."""
    alphabet = st.characters(codec="utf-8", exclude_characters="\x00")
    return st.text(alphabet, max_size=max_size)


def _money() -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=0, max_value=Decimal("99999999.99"), places=2, allow_nan=False
    )


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": _text(255).filter(lambda s: s.strip()),
    "description": st.none() | _text(300),
    "notes": st.none() | _text(300),
    "url": st.none() | st.sampled_from(["https://example.com/a", "http://x.org/?q=1"]),
    "image_url": st.none() | st.just("https://img.example.com/train.png"),
    "source": st.none() | _text(255),
    "price": st.none() | _money(),
    "sale_price": st.none() | _money(),
    "quantity": st.integers(1, 10_000),
    "priority": st.sampled_from(["low", "medium", "high"]),
    "status": st.sampled_from(["idea", "selected", "purchased", "received"]),
    "purchase_date": st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2999, 12, 31)),
    "from_santa": st.booleans(),
}

# A new gift: name, and any other fields.
new_gifts = st.fixed_dictionaries(
    {"name": FIELDS["name"]},
    optional={k: v for k, v in FIELDS.items() if k != "name"},
)
# A change: any fields, null allowed everywhere (it clears or leaves the field).
changes = st.fixed_dictionaries(
    {}, optional={k: st.none() | v for k, v in FIELDS.items()}
)
# One field's value the API must refuse.
BAD_VALUES: dict[str, list[Any]] = {
    "name": ["", "   ", "x" * 256, 5, "a\x00b"],
    "description": ["x" * 10_001, 3, ["a"]],
    "url": ["ftp://example.com/a", "not a url", "https://"],
    "price": [-0.01, 1.234, "5", True, 100_000_000, {"amount": 1}],
    "sale_price": [-1, 0.001],
    "quantity": [0, 10_001, 1.5, "3", True],
    "priority": ["urgent", 1],
    "status": ["done", ""],
    "purchase_date": ["2026-13-01", "24/12/2026", 20261224],
    "from_santa": ["true", 1, "yes", 0],
    "colour": ["red"],  # unknown field
    "id": [7],  # read-only
    "created_at": ["2026-01-01T00:00:00Z"],
}
bad_fields = st.sampled_from(sorted(BAD_VALUES)).flatmap(
    lambda key: st.tuples(st.just(key), st.sampled_from(BAD_VALUES[key]))
)


def _wire(fields: dict[str, Any]) -> dict[str, Any]:
    """As JSON sends it: exact money as numbers, dates as ISO strings."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, Decimal):
            value = float(value)  # ≤ 12 digits: the float prints as the decimal
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[key] = value
    return out


def _body(response: Any) -> dict[str, Any]:
    return json.loads(response.get_data(as_text=True))


def _create(client: FlaskClient, fields: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/gifts", json=_wire(fields))
    assert response.status_code == 201, _body(response)
    return _body(response)


def _read(client: FlaskClient, gift_id: int) -> tuple[dict[str, Any], str | None]:
    response = client.get(f"/api/v1/gifts/{gift_id}")
    assert response.status_code == 200
    return _body(response), response.headers.get("ETag")


def _expected(before: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    gift = dict(before)
    for key, value in _wire(sent).items():
        if value is None and key in NOT_NULLABLE:
            continue  # null leaves a non-nullable field unchanged
        gift[key] = value.strip() if key == "name" else value
    return gift


def _without(gift: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in gift.items() if k not in keys}


@SETTINGS
@given(new=new_gifts, sent=changes)
def test_patch_changes_only_the_fields_sent(
    client: FlaskClient, new: dict[str, Any], sent: dict[str, Any]
) -> None:
    before = _create(client, new)
    response = client.patch(f"/api/v1/gifts/{before['id']}", json=_wire(sent))
    assert response.status_code == 200, _body(response)
    after, _ = _read(client, before["id"])
    assert _body(response) == after
    assert _without(after, MOVES) == _without(_expected(before, sent), MOVES)
    moved = dt.datetime.fromisoformat(after["updated_at"])
    assert moved >= dt.datetime.fromisoformat(before["updated_at"])


@SETTINGS
@given(new=new_gifts, sent=changes, bad=bad_fields)
def test_rejected_patch_changes_nothing(
    client: FlaskClient,
    new: dict[str, Any],
    sent: dict[str, Any],
    bad: tuple[str, Any],
) -> None:
    gift = _create(client, new)
    before, etag = _read(client, gift["id"])
    key, value = bad
    body = {**_wire(sent), key: value}
    response = client.patch(f"/api/v1/gifts/{gift['id']}", json=body)
    assert response.status_code == 422, (body, _body(response))
    assert response.content_type == "application/problem+json"
    assert key in _body(response)["errors"]
    assert _read(client, gift["id"]) == (before, etag)

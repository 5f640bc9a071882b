"""Fuzz every operation of the OpenAPI document against the app, in process.

schemathesis generates valid and invalid requests from the document served at
/openapi.json; each answer must not be a 5xx and must match the document
(status code, content type, headers, body schema), and invalid requests must be
rejected. Each operation gets a fresh app and a table holding three gifts.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app import create_app, keyset, sealing
from app.gifts import cursors
from tests.conftest import make_member
from tests.test_search import folded

# The document only: this app never touches its (in-memory) database. (Not
# schemathesis.pytest.from_fixture: on pytest 9.2 it fails, Function._nodeid.)
schema = schemathesis.openapi.from_wsgi(
    "/openapi.json", create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
)

SEEDED = (
    {"name": "Wooden train set", "price": 49.99, "status": "selected"},
    {"name": "Sledge", "price": 120, "sale_price": 99.5, "from_santa": True},
    {"name": "Socks", "url": "https://example.com/socks", "priority": "low"},
)

# Valid data can still be refused with 422: the document cannot state every
# rule (a URL as marshmallow checks it, a name blank after trimming, a cursor
# this API did not hand out). Everything else is checked.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def gift_ids(client: FlaskClient) -> list[int]:
    """Create the seeded gifts (as a parent); their ids."""
    ids = []
    for fields in SEEDED:
        response = client.post("/api/v1/gifts", json=fields)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def _aim_at(ids: list[int], case: schemathesis.Case) -> None:
    """Random ids almost never exist: point valid ones at the seeded gifts.

    id % 4 == 0 stays missing, so 404 keeps being exercised too.
    """
    if case.meta is None or case.meta.generation.mode.value != "positive":
        return

    def aim(gift_id: Any) -> Any:
        if isinstance(gift_id, int) and gift_id % 4:
            return ids[gift_id % 4 - 1]
        return gift_id

    if case.path_parameters and "gift_id" in case.path_parameters:
        case.path_parameters["gift_id"] = aim(case.path_parameters["gift_id"])
    if isinstance(case.body, dict) and isinstance(case.body.get("ids"), list):
        case.body["ids"] = [aim(gift_id) for gift_id in case.body["ids"]]


def _mutates_the_token(case: schemathesis.Case) -> bool:
    """A negative case whose invalid part is (also) the Authorization header:
    it goes as generated (a 401 rejects it). Putting a valid token in its place
    would leave only mutations a query string cannot tell from valid data (a
    lone integer where an array of integers is expected), which the check then
    calls accepted negative data."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    data = meta.phase.data
    mutations = getattr(data, "mutations", None) or ()
    return getattr(data, "parameter", None) == "Authorization" or any(
        mutation.parameter == "Authorization" for mutation in mutations
    )


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    # The app fixture is per test, on purpose: one table per operation.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, app: Flask, gift_ids: list[int]
) -> None:
    _aim_at(gift_ids, case)
    # A token per example: DELETE /api/v1/sessions/current revokes the one it sends.
    token = make_member(app, f"fuzz-{uuid.uuid4().hex[:12]}", "parent")[1]
    headers = {} if _mutates_the_token(case) else {"Authorization": f"Bearer {token}"}
    case.call_and_validate(app=app, headers=headers, excluded_checks=EXCLUDED_CHECKS)


# Bugs the fuzzing found, kept as plain tests: each answered 500 before its fix.
# (The lone surrogate one was found by probing next to the NUL one.) ----------


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    return response.get_json()


def test_empty_if_match_tag_is_a_failed_precondition(
    client: FlaskClient, gift_ids: list[int]
) -> None:
    url = f"/api/v1/gifts/{gift_ids[0]}"
    headers = {"If-Match": '"", ""'}  # werkzeug reads "" as None
    _problem(client.patch(url, json={"name": "x"}, headers=headers), 412)
    _problem(client.delete(url, headers=headers), 412)
    assert client.get(url).get_json()["name"] == SEEDED[0]["name"]


def test_id_beyond_the_integer_range_names_no_gift(client: FlaskClient) -> None:
    url = f"/api/v1/gifts/{2**70}"  # overflowed SQLite's driver
    _problem(client.get(url), 404)
    _problem(client.patch(url, json={"name": "x"}), 404)
    _problem(client.delete(url), 404)
    body = {"ids": [2**31], "changes": {"from_santa": True}}
    errors = _problem(client.patch("/api/v1/gifts", json=body), 422)["errors"]
    assert list(errors) == ["ids"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "a\x00b"), ("notes", "\x00"), ("url", "https://e.com/\x00")],
)
def test_text_with_nul_is_rejected(
    client: FlaskClient, gift_ids: list[int], field: str, value: str
) -> None:
    """PostgreSQL text cannot hold NUL: 422, not a database error."""
    response = client.post("/api/v1/gifts", json={"name": "ok", field: value})
    assert list(_problem(response, 422)["errors"]) == [field]
    url = f"/api/v1/gifts/{gift_ids[0]}"
    _problem(client.patch(url, json={field: value}), 422)
    _problem(client.get("/api/v1/gifts", query_string={"search": "a\x00b"}), 422)


def test_text_with_a_lone_surrogate_is_rejected(client: FlaskClient) -> None:
    """Valid JSON ("\\ud800"), but no UTF-8 encoding: 422, not a database error."""
    for body in ('{"name": "\\ud800"}', '{"name": "ok", "notes": "a\\udfffb"}'):
        response = client.post(
            "/api/v1/gifts", data=body, content_type="application/json"
        )
        _problem(response, 422)


# Shapes a hostile client sends, generated so that the next class of them is
# found here rather than by a user: deep nesting, integers of thousands of
# digits, special number spellings, lone surrogates in keys and strings,
# forged cursors and odd ETags. None may answer 5xx; a 4xx is a problem
# document. --------------------------------------------------------------------

FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = ("name", "notes", "price", "sale_price", "quantity", "from_santa", "status")
NUMBER_TEXTS = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999999", "-0", "1E-999999"]),
    st.integers(1, 6000).map(lambda digits: "9" * digits),
    st.integers(1, 6000).map(lambda digits: "-1" + "0" * digits + ".5"),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)


class Number(str):
    """Literal JSON number text (the json module would refuse to write it)."""


def to_json(value: Any) -> str:
    """JSON text of ``value``; ``Number`` written as is, strings escaped (a lone
    surrogate becomes "\\ud800", as a client would send it)."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, dict):
        pairs = (f"{to_json(str(k))}: {to_json(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(item) for item in value) + "]"
    return json.dumps(value)


SURROGATES = st.characters(categories=["Cs"])
TEXT = st.text(max_size=8) | st.text(SURROGATES, min_size=1, max_size=3)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | NUMBER_TEXTS.map(Number)
    | TEXT
    | st.integers(1, 3000).map(lambda depth: Number("[" * depth + "]" * depth))
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(TEXT | st.sampled_from(FIELDS), inner, max_size=3)
    ),
    max_leaves=8,
)
BODIES = st.dictionaries(st.sampled_from(FIELDS) | TEXT, JSON_VALUES, max_size=4)


def _no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.get_data()[:500]
    if response.status_code >= 400:
        assert response.content_type == "application/problem+json"


@FUZZ_SETTINGS
@given(body=BODIES)
def test_hostile_bodies_are_never_a_server_error(
    client: FlaskClient, gift_ids: list[int], body: dict[str, Any]
) -> None:
    text = to_json(body)
    bulk = (
        f'{{"ids": [{gift_ids[0]}, {to_json(body.get("price"))}], "changes": {text}}}'
    )
    for method, url, data in (
        ("POST", "/api/v1/gifts", text),
        ("PATCH", f"/api/v1/gifts/{gift_ids[0]}", text),
        ("PATCH", "/api/v1/gifts", bulk),
    ):
        response = client.open(
            url, method=method, data=data.encode(), content_type="application/json"
        )
        _no_server_error(response)


SORTS = ("recent", "price_asc", "price_desc", "name")
# How a hostile cursor is made: "sealed" with the server's own key (as with a
# leaked key: the checks behind the seal answer), then cut, padded, one
# character changed, or never sealed (base64 of the contents, the former shape).
MANGLES = st.sampled_from(["sealed", "cut", "pad", "flip", "unsealed"])


def forge(app: Flask, purpose: bytes, raw: bytes, mangle: str) -> str:
    if mangle == "unsealed":
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with app.app_context():
        cursor = sealing.sealer().seal(purpose, raw)
    middle = len(cursor) // 2
    changed = "B" if cursor[middle] == "A" else "A"
    return {
        "sealed": cursor,
        "cut": cursor[:-1],
        "pad": cursor + "==",
        "flip": cursor[:middle] + changed + cursor[middle + 1 :],
    }[mangle]


def _answer_to_a_forged(response: Any, mangle: str) -> None:
    """Never a 5xx; a cursor this server did not seal is a 422."""
    _no_server_error(response)
    if mangle in ("cut", "flip", "unsealed"):
        assert response.status_code == 422
    else:
        assert response.status_code in (200, 422)


CURSOR_KEYS = JSON_VALUES | NUMBER_TEXTS | st.sampled_from(["sNaN", "-sNaN1"])
CURSOR_IDS = JSON_VALUES | st.integers(2**31, 10**40) | NUMBER_TEXTS.map(Number)


@FUZZ_SETTINGS
@given(
    sort=st.sampled_from(SORTS),
    contents=st.tuples(st.sampled_from(SORTS) | TEXT, CURSOR_KEYS, CURSOR_IDS).map(list)
    | JSON_VALUES,
    same_sort=st.booleans(),
    mangle=MANGLES,
)
# Shapes that answered 500 before, kept as examples the run always tries.
@example(sort="recent", contents=[0, None, 10**30], same_sort=True, mangle="sealed")
@example(sort="price_asc", contents=[0, "sNaN", 1], same_sort=True, mangle="sealed")
@example(
    sort="recent",
    contents=[0, Number("[" * 5000 + "]" * 5000), 1],
    same_sort=True,
    mangle="sealed",
)
def test_forged_cursors_are_a_422_never_a_server_error(
    app: Flask,
    client: FlaskClient,
    gift_ids: list[int],
    sort: str,
    contents: Any,
    same_sort: bool,
    mangle: str,
) -> None:
    """Often of the sort asked for, so that the key and id are looked at."""
    if same_sort and isinstance(contents, list) and len(contents) == 3:
        contents = [sort, *contents[1:]]
    raw = to_json(contents).encode("utf-8", "surrogatepass")
    cursor = forge(app, cursors.PURPOSE, raw, mangle)
    response = client.get(
        "/api/v1/gifts", query_string={"sort": sort, "cursor": cursor, "limit": 1}
    )
    _answer_to_a_forged(response, mangle)


@FUZZ_SETTINGS
@given(
    listing=st.sampled_from(["/api/v1/people", "/api/v1/lists"]),
    contents=st.tuples(CURSOR_KEYS, CURSOR_IDS).map(list) | JSON_VALUES,
    mangle=MANGLES,
)
@example(listing="/api/v1/people", contents=["a", 10**30], mangle="sealed")
@example(
    listing="/api/v1/lists",
    contents=[Number("[" * 5000 + "]" * 5000), 1],
    mangle="sealed",
)
def test_forged_name_cursors_are_a_422_never_a_server_error(
    app: Flask, client: FlaskClient, listing: str, contents: Any, mangle: str
) -> None:
    """People and lists page by (name, id): their cursors are checked alike."""
    raw = to_json(contents).encode("utf-8", "surrogatepass")
    cursor = forge(app, keyset.PURPOSE, raw, mangle)
    response = client.get(listing, query_string={"cursor": cursor, "limit": 1})
    _answer_to_a_forged(response, mangle)


# "ID" stands for the gift's id: tags of other gifts are skipped early.
ETAG_CHARACTERS = st.sampled_from('0123456789-"*, W/²١٣' + "\u00e9")
ETAG_TEMPLATES = st.one_of(
    st.text(ETAG_CHARACTERS, max_size=40),
    st.lists(
        st.integers(1, 6000).map(lambda digits: "9" * digits)
        | st.text(ETAG_CHARACTERS, max_size=6),
        min_size=1,
        max_size=3,
    ).map(lambda parts: '"ID-' + "-".join(parts) + '"'),
)


@FUZZ_SETTINGS
@given(template=ETAG_TEMPLATES)
def test_odd_etags_are_a_412_or_ignored_never_a_server_error(
    client: FlaskClient, gift_ids: list[int], template: str
) -> None:
    url = f"/api/v1/gifts/{gift_ids[1]}"
    tag = template.replace("ID", str(gift_ids[1]))
    header = tag.encode().decode("latin-1")  # the bytes as they reach WSGI
    before = client.get(url).get_json()
    for response in (
        client.patch(url, json={"notes": "x"}, headers={"If-Match": header}),
        client.delete(url, headers={"If-Match": header}),
        client.get(url, headers={"If-None-Match": header}),
    ):
        _no_server_error(response)
    if header.strip() != "*":  # no tag this service issued can be generated
        assert client.get(url).get_json() == before


# Unicode search terms: never a 5xx, and the answer is the substring of the
# folded name (tests/test_search.py's oracle, not app/folding.py). -----------

# Letters whose folding is the point (σ/ς/Σ, ß/ẞ, İ/i/ı, the Kelvin and ohm
# signs, µ/μ, ſ, the Dz digraphs, Cyrillic), accents, LIKE's and FTS5's
# operators, spaces and an emoji.
SEARCH_ALPHABET = 'aAäÄeéÉEsSßẞσςΣiIİıkK\u212aǄǅǆΩω\u2126жЖёЁµμſ%_"*^ -🎁1'
SEARCH_TEXT = st.text(SEARCH_ALPHABET, min_size=1, max_size=8)


@FUZZ_SETTINGS
@given(
    names=st.lists(SEARCH_TEXT, min_size=1, max_size=6),
    terms=st.lists(st.text(SEARCH_ALPHABET, min_size=2, max_size=5), max_size=4),
)
def test_unicode_search_terms_answer_the_folded_substring(
    app: Flask, client: FlaskClient, names: list[str], terms: list[str]
) -> None:
    from app.extensions import db

    # folded comes from the imports at the top: imported here, tests.test_search's
    # own @given tests would fail Hypothesis's nested-given check (6.170+).
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM gifts")
    stored = []
    for name in names:
        response = client.post("/api/v1/gifts", json={"name": name})
        _no_server_error(response)
        if response.status_code == 201:
            stored.append(response.get_json()["name"])
    # Substrings of the names too, so that terms also find something.
    terms += [name[1:4] for name in stored if len(name) >= 4]
    for term in terms:
        for path, extra in (
            ("/api/v1/gifts", {"limit": 100}),
            ("/api/v1/gifts/summary", {}),
        ):
            response = client.get(path, query_string={"search": term, **extra})
            _no_server_error(response)
            assert response.status_code == 200, response.get_json()
            want = sorted(n for n in stored if folded(term) in folded(n))
            body = response.get_json()
            if path.endswith("summary"):
                assert body["total"] == len(want), term
            else:
                assert sorted(g["name"] for g in body["items"]) == want, term

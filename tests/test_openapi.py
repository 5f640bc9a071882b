"""The OpenAPI document: committed, complete, backward compatible; the docs page.

docs/openapi.json is the record of the contract (API.md "Backward
compatibility"). docs/openapi-before-from-santa.json is the contract before the
from_santa field: the same document with from_santa taken out of every schema
and parameter and nothing else (docs/generate_openapi.py, ``without_field``).
It is frozen: the current document must keep everything it promised.
docs/openapi-before-access.json is the contract before members and access
(frozen too): authentication is the one deliberate exception to compatibility,
so a bearer security requirement, the 401/403/429 answers it brings and new
paths are additions, not breaks.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

DOCS = Path(__file__).resolve().parent.parent / "docs"
REGENERATE = ".venv/bin/python docs/generate_openapi.py"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PROBLEM_JSON = "application/problem+json"


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "generate_openapi", DOCS / "generate_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    return generator.document()


def _committed(name: str) -> dict[str, Any]:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


# The compatibility check ------------------------------------------------------


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (``#/components/...``) to what it names."""
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _parameters(item: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """An operation's parameters (its path's too), by (location, name)."""
    params = item.get("parameters", []) + operation.get("parameters", [])
    return {(p["in"], p["name"]): p for p in params}


def _json_schema(doc: dict[str, Any], holder: dict[str, Any] | None) -> Any:
    """The schema of a request body or response, whatever its JSON media type."""
    content = _resolve(doc, holder or {}).get("content", {})
    for media_type, body in content.items():
        if media_type.endswith("json") and "schema" in body:
            return body["schema"]
    return None


def _schema_breaks(
    before: dict[str, Any],
    old: Any,
    after: dict[str, Any],
    new: Any,
    where: str,
    request: bool,
) -> list[str]:
    """What changed in a schema that breaks a client of ``old``.

    A property an old client sends or reads must still be there with the same
    type and format; a request property must not become required or refuse
    null, a response property must not start being null.
    """
    if old is None:
        return []
    if new is None:
        return [f"{where}: schema removed"]
    old, new = _resolve(before, old), _resolve(after, new)
    if old.get("type") == "array":
        return _schema_breaks(
            before, old["items"], after, new.get("items"), f"{where}[]", request
        )
    breaks = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    if request:
        newly_required = set(new.get("required", [])) - set(old.get("required", []))
        breaks += [f"{where}.{name}: became required" for name in newly_required]
    for name, old_prop in old_props.items():
        here = f"{where}.{name}"
        if name not in new_props:
            breaks.append(f"{here}: removed")
            continue
        old_prop, new_prop = (
            _resolve(before, old_prop),
            _resolve(after, new_props[name]),
        )
        for key in ("type", "format"):
            if old_prop.get(key) != new_prop.get(key):
                was, now = old_prop.get(key), new_prop.get(key)
                breaks.append(f"{here}: {key} changed from {was} to {now}")
        # A client may keep sending null, and need not expect it in answers.
        was_nullable, is_nullable = old_prop.get("nullable"), new_prop.get("nullable")
        if request and was_nullable and not is_nullable:
            breaks.append(f"{here}: no longer nullable")
        if not request and is_nullable and not was_nullable:
            breaks.append(f"{here}: became nullable")
        breaks += _schema_breaks(before, old_prop, after, new_prop, here, request)
    return breaks


def breaking_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Everything in ``after`` that breaks a client written against ``before``."""
    breaks = []
    for path, old_item in before["paths"].items():
        new_item = after["paths"].get(path)
        if new_item is None:
            breaks.append(f"{path}: removed")
            continue
        for method in METHODS:
            if method not in old_item:
                continue
            where = f"{method.upper()} {path}"
            old_op, new_op = old_item[method], new_item.get(method)
            if new_op is None:
                breaks.append(f"{where}: removed")
                continue
            old_params = _parameters(old_item, old_op)
            new_params = _parameters(new_item, new_op)
            for key, old_param in old_params.items():
                if key not in new_params:
                    breaks.append(f"{where}: parameter {key} removed")
                elif new_params[key].get("required") and not old_param.get("required"):
                    breaks.append(f"{where}: parameter {key} became required")
            for key in new_params.keys() - old_params.keys():
                if new_params[key].get("required"):
                    breaks.append(f"{where}: new required parameter {key}")
            breaks += _schema_breaks(
                before,
                _json_schema(before, old_op.get("requestBody")),
                after,
                _json_schema(after, new_op.get("requestBody")),
                f"{where} request",
                request=True,
            )
            for status, old_response in old_op["responses"].items():
                new_response = new_op["responses"].get(status)
                if new_response is None:
                    breaks.append(f"{where}: response {status} removed")
                    continue
                breaks += _schema_breaks(
                    before,
                    _json_schema(before, old_response),
                    after,
                    _json_schema(after, new_response),
                    f"{where} {status}",
                    request=False,
                )
    return breaks


# The committed documents ------------------------------------------------------


def test_committed_document_is_the_generated_one(current: dict[str, Any]) -> None:
    committed = (DOCS / "openapi.json").read_text(encoding="utf-8")
    assert committed == generator.render(current), (
        f"docs/openapi.json is stale: run `{REGENERATE}` (or `make openapi`) "
        "and commit the result."
    )


def test_served_document_is_the_committed_one(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.get_data(as_text=True))
    assert served == _committed("openapi.json")


def test_document_adds_only_from_santa_to_the_contract_before_it(
    current: dict[str, Any],
) -> None:
    assert breaking_changes(_committed("openapi-before-from-santa.json"), current) == []


def test_committed_document_is_compatible_with_the_one_before_from_santa() -> None:
    before = _committed("openapi-before-from-santa.json")
    assert breaking_changes(before, _committed("openapi.json")) == []


def test_document_keeps_everything_promised_before_access(
    current: dict[str, Any],
) -> None:
    assert breaking_changes(_committed("openapi-before-access.json"), current) == []


def test_baseline_is_the_contract_without_from_santa() -> None:
    before = _committed("openapi-before-from-santa.json")
    assert "from_santa" not in json.dumps(before)
    assert "from_santa" in json.dumps(_committed("openapi.json"))


# The compatibility check can fail ---------------------------------------------


def test_checker_sees_a_response_property_removed(current: dict[str, Any]) -> None:
    after = copy.deepcopy(current)
    del after["components"]["schemas"]["Gift"]["properties"]["price"]
    breaks = breaking_changes(current, after)
    assert "GET /api/v1/gifts/{gift_id} 200.price: removed" in breaks
    assert "GET /api/v1/gifts 200.items[].price: removed" in breaks


def test_checker_sees_an_optional_request_field_made_required(
    current: dict[str, Any],
) -> None:
    after = copy.deepcopy(current)
    after["components"]["schemas"]["GiftCreate"]["required"].append("price")
    assert breaking_changes(current, after) == [
        "POST /api/v1/gifts request.price: became required"
    ]


def test_checker_sees_a_renamed_property_and_a_type_change(
    current: dict[str, Any],
) -> None:
    after = copy.deepcopy(current)
    gift = after["components"]["schemas"]["Gift"]["properties"]
    gift["cost"] = gift.pop("price")
    gift["quantity"] = {"type": "string"}
    breaks = breaking_changes(current, after)
    assert "GET /api/v1/gifts/{gift_id} 200.price: removed" in breaks
    assert (
        "GET /api/v1/gifts/{gift_id} 200.quantity: type changed from integer to string"
        in breaks
    )


def test_checker_sees_a_parameter_made_required_and_a_path_removed(
    current: dict[str, Any],
) -> None:
    after = copy.deepcopy(current)
    for param in after["paths"]["/api/v1/gifts"]["get"]["parameters"]:
        param["required"] = param["name"] == "limit" or param["required"]
    del after["paths"]["/healthz"]
    assert breaking_changes(current, after) == [
        "GET /api/v1/gifts: parameter ('query', 'limit') became required",
        "/healthz: removed",
    ]


def test_checker_sees_a_response_code_removed(current: dict[str, Any]) -> None:
    after = copy.deepcopy(current)
    del after["paths"]["/api/v1/gifts/{gift_id}"]["delete"]["responses"]["412"]
    assert breaking_changes(current, after) == [
        "DELETE /api/v1/gifts/{gift_id}: response 412 removed"
    ]


def test_checker_takes_security_new_errors_and_new_paths_as_additions(
    current: dict[str, Any],
) -> None:
    before = copy.deepcopy(current)
    before["paths"] = {
        path: item for path, item in before["paths"].items() if "gifts" in path
    }
    for _, _, operation in _operations(before):
        operation.pop("security", None)
        for status in ("401", "403", "429"):
            operation["responses"].pop(status, None)
    assert breaking_changes(before, current) == []
    # ... but taking such an answer away again is a break.
    after = copy.deepcopy(current)
    del after["paths"]["/api/v1/gifts"]["get"]["responses"]["401"]
    assert breaking_changes(current, after) == [
        "GET /api/v1/gifts: response 401 removed"
    ]


# What the document says -------------------------------------------------------


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_endpoint_is_documented(current: dict[str, Any]) -> None:
    assert sorted((m.upper(), p) for m, p, _ in _operations(current)) == [
        ("DELETE", "/api/v1/gifts/{gift_id}"),
        ("DELETE", "/api/v1/lists/{list_id}"),
        ("DELETE", "/api/v1/occasions/{occasion_id}"),
        ("DELETE", "/api/v1/occasions/{occasion_id}/budgets/{person_id}"),
        ("DELETE", "/api/v1/people/{person_id}"),
        ("DELETE", "/api/v1/sessions/current"),
        ("GET", "/api/v1/gifts"),
        ("GET", "/api/v1/gifts/summary"),
        ("GET", "/api/v1/gifts/{gift_id}"),
        ("GET", "/api/v1/lists"),
        ("GET", "/api/v1/lists/{list_id}"),
        ("GET", "/api/v1/members"),
        ("GET", "/api/v1/members/me"),
        ("GET", "/api/v1/occasions"),
        ("GET", "/api/v1/occasions/{occasion_id}"),
        ("GET", "/api/v1/occasions/{occasion_id}/budget"),
        ("GET", "/api/v1/people"),
        ("GET", "/api/v1/people/{person_id}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("PATCH", "/api/v1/gifts"),
        ("PATCH", "/api/v1/gifts/{gift_id}"),
        ("PATCH", "/api/v1/lists/{list_id}"),
        ("PATCH", "/api/v1/occasions/{occasion_id}"),
        ("PATCH", "/api/v1/people/{person_id}"),
        ("POST", "/api/v1/gifts"),
        ("POST", "/api/v1/lists"),
        ("POST", "/api/v1/occasions"),
        ("POST", "/api/v1/people"),
        ("POST", "/api/v1/sessions"),
        ("PUT", "/api/v1/occasions/{occasion_id}/budgets/{person_id}"),
    ]
    assert all(operation.get("summary") for _, _, operation in _operations(current))


def test_every_error_response_is_a_problem_document(current: dict[str, Any]) -> None:
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for method, path, operation in _operations(current):
        errors = {
            status: _resolve(current, response)
            for status, response in operation["responses"].items()
            if status == "default" or int(status) >= 400
        }
        assert "default" in errors and "500" in errors, (method, path)
        for response in errors.values():
            assert response["content"] == {PROBLEM_JSON: problem}, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/api/v1/gifts", {"400", "413", "415", "422", "500", "503"}),
        ("get", "/api/v1/gifts", {"422", "500", "503"}),
        ("patch", "/api/v1/gifts", {"400", "404", "413", "415", "422", "503"}),
        ("get", "/api/v1/gifts/{gift_id}", {"304", "404", "503"}),
        ("patch", "/api/v1/gifts/{gift_id}", {"400", "404", "412", "415", "422"}),
        ("delete", "/api/v1/gifts/{gift_id}", {"404", "412", "503"}),
        ("get", "/readyz", {"503"}),
        ("post", "/api/v1/sessions", {"401", "422", "429"}),
        ("get", "/api/v1/members/me", {"401"}),
        ("delete", "/api/v1/sessions/current", {"401"}),
    ],
)
def test_operation_documents_its_answers(
    current: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert statuses <= current["paths"][path][method]["responses"].keys()


def test_the_bearer_scheme_guards_every_api_operation_but_sign_in(
    current: dict[str, Any],
) -> None:
    assert current["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /api/v1/sessions or `flask tokens create`.",
    }
    for method, path, operation in _operations(current):
        if (method, path) == ("post", "/api/v1/sessions"):
            assert operation["security"] == []
        elif path.startswith("/api/v1/"):
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            unauthorized = _resolve(current, operation["responses"]["401"])
            assert "WWW-Authenticate" in unauthorized["headers"]
        else:
            assert "security" not in operation and "401" not in operation["responses"]
    role_checked = {
        (method, path)
        for method, path, operation in _operations(current)
        if "403" in operation["responses"]
    }
    budget = "/api/v1/occasions/{occasion_id}/budgets/{person_id}"
    assert role_checked == {
        ("post", "/api/v1/gifts"),
        ("patch", "/api/v1/gifts"),
        ("patch", "/api/v1/gifts/{gift_id}"),
        # A linked member listing their own wish.
        ("post", "/api/v1/lists"),
        # A child deleting a person, a list or an occasion; a member's own budget.
        ("delete", "/api/v1/people/{person_id}"),
        ("delete", "/api/v1/lists/{list_id}"),
        ("delete", "/api/v1/occasions/{occasion_id}"),
        ("put", budget),
        ("delete", budget),
    }
    throttled = current["paths"]["/api/v1/sessions"]["post"]["responses"]["429"]
    assert _resolve(current, throttled)["headers"]["Retry-After"]["required"]


def test_money_booleans_and_timestamps_are_typed(current: dict[str, Any]) -> None:
    schemas = current["components"]["schemas"]
    for name in ("GiftCreate", "GiftUpdate"):
        props = schemas[name]["properties"]
        for field in ("price", "sale_price"):
            assert props[field] == {
                "type": "number",
                "minimum": 0,
                "maximum": 99999999.99,
                "multipleOf": 0.01,
                "nullable": True,
            }
        assert props["from_santa"]["type"] == "boolean"
    gift = schemas["Gift"]["properties"]
    assert gift["price"]["type"] == "number" and gift["price"]["nullable"] is True
    assert gift["created_at"] == {
        "type": "string",
        "format": "date-time",
        "readOnly": True,
    }
    assert gift["updated_at"] == gift["created_at"]


# The docs page ------------------------------------------------------------------


def test_docs_page_loads_only_assets_the_app_serves(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 3  # the stylesheet and two scripts
    for url in urls:
        assert not urlsplit(url).netloc, url  # no CDN, no other host
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.data
    assert "://" not in html  # no other URL anywhere (validatorUrl is off)
    assert '"/openapi.json"' in html


def test_every_operation_documents_the_servers_414_and_431(
    current: dict[str, Any],
) -> None:
    """gunicorn answers them before any view (app/server.py), to any path."""
    for method, path, operation in _operations(current):
        for status in ("414", "431"):
            response = _resolve(current, operation["responses"][status])
            assert response["content"][PROBLEM_JSON], (method, path, status)


@pytest.mark.parametrize("path", ["/api/v1/gifts", "/api/v1/people", "/api/v1/lists"])
def test_the_longest_documented_cursor_fits_gunicorns_request_line(
    current: dict[str, Any], path: str
) -> None:
    """A listing asked with its longest cursor is not refused with a 414."""
    from gunicorn.config import Config

    limit = Config().limit_request_line  # gunicorn.conf.py keeps the default
    [cursor] = [
        parameter
        for parameter in current["paths"][path]["get"]["parameters"]
        if parameter["name"] == "cursor"
    ]
    longest = "A" * cursor["schema"]["maxLength"]
    line = f"GET {path}?sort=price_desc&limit=100&cursor={longest} HTTP/1.1"
    assert len(line.encode()) <= limit

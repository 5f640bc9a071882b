"""The docs page's extras: an icon for the browser tab, no unused schema."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _refs(node: Any) -> set[str]:
    """Every $ref anywhere under ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    return set()


def test_favicon_is_a_png_the_browser_may_cache(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.data.startswith(PNG_SIGNATURE)
        assert response.cache_control.max_age == 86400


def test_every_schema_of_the_document_is_used(client: FlaskClient) -> None:
    document = json.loads(client.get("/openapi.json").data)
    schemas = document["components"]["schemas"]
    used = set()
    pending = _refs({k: v for k, v in document.items() if k != "components"})
    pending |= _refs(
        {k: v for k, v in document["components"].items() if k != "schemas"}
    )
    while pending:  # follow refs from schema to schema
        ref = pending.pop()
        if ref in used:
            continue
        used.add(ref)
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/components/schemas/") and name in schemas:
            pending |= _refs(schemas[name])
    unused = {f"#/components/schemas/{name}" for name in schemas} - used
    assert unused == set()
    assert "PaginationMetadata" not in schemas

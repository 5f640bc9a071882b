"""Write docs/openapi.json, the committed record of the API contract.

Run from the project root after any change to a view, schema or error:

    .venv/bin/python docs/generate_openapi.py          # rewrite docs/openapi.json
    .venv/bin/python docs/generate_openapi.py --check  # exit 1 if it is stale

The document is the one the app serves at /openapi.json, keys sorted so that a
change shows up as a small diff (``flask openapi write`` does not sort them).

docs/openapi-before-from-santa.json is the contract as it was before the
from_santa field: this document with from_santa taken out of every schema and
parameter, nothing else changed (``without_field``). It was written once, with
``--before-from-santa``, and is a frozen baseline: tests/test_openapi.py checks
that the current document removes or tightens nothing of it. Do not rewrite it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from app import create_app

DOCS = Path(__file__).resolve().parent
OUTPUT = DOCS / "openapi.json"
BEFORE_FROM_SANTA = DOCS / "openapi-before-from-santa.json"


def document() -> dict[str, Any]:
    """The OpenAPI document as a client downloads it (no database needed)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200, response.status
    return json.loads(response.get_data(as_text=True))


def render(doc: dict[str, Any]) -> str:
    """Pretty-printed, keys sorted, one trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def without_field(node: Any, name: str) -> Any:
    """A copy of ``node`` with property or parameter ``name`` taken out everywhere."""
    if isinstance(node, list):
        return [
            without_field(item, name)
            for item in node
            if not (isinstance(item, dict) and "in" in item and item["name"] == name)
        ]
    if not isinstance(node, dict):
        return node
    copy = {key: without_field(value, name) for key, value in node.items()}
    if isinstance(copy.get("properties"), dict):
        copy["properties"].pop(name, None)
        if name in copy.get("required", []):
            copy["required"] = [field for field in copy["required"] if field != name]
    return copy


def main(argv: list[str]) -> int:
    doc = document()
    if "--check" in argv:
        if OUTPUT.read_text(encoding="utf-8") != render(doc):
            print(f"{OUTPUT} is stale: run .venv/bin/python docs/generate_openapi.py")
            return 1
        return 0
    if "--before-from-santa" in argv:
        BEFORE_FROM_SANTA.write_text(
            render(without_field(doc, "from_santa")), encoding="utf-8"
        )
        print(f"wrote {BEFORE_FROM_SANTA}")
        return 0
    OUTPUT.write_text(render(doc), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The ceiling: the least a Flask app under our gunicorn config can do per request.

It answers GET /api/v1/gifts/<id> (same URL shape as the real service, so the
same wrk script drives it) with a fixed JSON document: the body of one real
gift, read from the file named by BENCH_CEILING_BODY, serialised once at start.
No database, no schema, no extension: Flask routing plus a response object.
"""

from __future__ import annotations

import os

from flask import Flask, Response

SAMPLE = (
    b'{"id": 1, "name": "Wooden train set #1", "description": null, "notes": null,'
    b' "url": "https://shop.example.com/p/wooden-train-set-1", "image_url":'
    b' "https://img.example.com/wooden-train-set-1.jpg", "source": "Grandma",'
    b' "price": 49.99, "sale_price": null, "quantity": 1, "priority": "medium",'
    b' "status": "idea", "purchase_date": null, "from_santa": false,'
    b' "created_at": "2026-11-20T10:00:00+00:00",'
    b' "updated_at": "2026-11-20T10:00:00+00:00"}'
)


def _body() -> bytes:
    path = os.environ.get("BENCH_CEILING_BODY")
    if path:
        with open(path, "rb") as file:
            return file.read()
    return SAMPLE


app = Flask(__name__)
BODY = _body()


@app.get("/api/v1/gifts/<int:gift_id>")
def gift(gift_id: int) -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response(b'{"status": "ok"}', mimetype="application/json")

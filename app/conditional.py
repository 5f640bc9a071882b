"""Conditional requests: ETags in headers, If-Match read strictly, a 304 for
If-None-Match, and answers a browser keeps for its user and revalidates.

Each resource computes its own tag (``app.etags`` for gifts, ``app.counted``
for people and lists) and passes it in.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from werkzeug.datastructures import ETags

# OpenAPI parameters and response headers of the views that take them.
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "Change only if the gift still has this ETag (else 412).",
}
IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "Answer 304 if the gift still has this ETag.",
}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "Strong ETag."}}


def etag_headers(tag: str) -> dict[str, str]:
    """The ETag header of a row whose (strong) tag is ``tag``."""
    return {"ETag": f'"{tag}"'}


def if_match() -> ETags | None:
    """The If-Match ETags; None without the header (older clients proceed)."""
    if "If-Match" not in request.headers:
        return None
    # werkzeug reads an empty tag ("") as None: it matches no row, so drop it.
    etags = request.if_match
    return ETags([tag for tag in etags.as_set() if tag], star_tag=etags.star_tag)


def conditional_get(body: Any, tag: str) -> Any:
    """``body`` with its ETag, or a bodiless 304 when If-None-Match has it."""
    headers = etag_headers(tag)
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    return body, headers


def revalidate(response: Response) -> Response:
    """Gift data is the member's own view (a child's differs, and so do the
    counts of people and lists): a browser may keep it for this user only,
    and must revalidate it with the ETag."""
    if response.status_code in (200, 201, 304):
        response.headers["Cache-Control"] = "private, no-cache"
    return response

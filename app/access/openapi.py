"""The API document's side of access: the bearer scheme, and 401/403/429 in
every /api/v1 operation, added in one place so no view can forget them."""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin

from app.access.auth import API_PREFIX, OPEN

SCHEME = "bearerAuth"
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from POST /api/v1/sessions or `flask tokens create`.",
}
# Operations a child's role may be refused (a child marking a gift from Santa).
ROLE_CHECKED = frozenset(
    {
        ("post", "/api/v1/gifts"),
        ("patch", "/api/v1/gifts"),
        ("patch", "/api/v1/gifts/{gift_id}"),
    }
)


class AccessPlugin(BasePlugin):
    """apispec plugin: security and access answers of each /api/v1 operation."""

    def init_spec(self, spec: APISpec) -> None:
        spec.components.security_scheme(SCHEME, BEARER)

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not path or not path.startswith(API_PREFIX) or not operations:
            return
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if (method.upper(), path) in OPEN:
                operation["security"] = []
                continue
            operation["security"] = [{SCHEME: []}]
            responses.setdefault("401", "UNAUTHORIZED")
            if (method, path) in ROLE_CHECKED:
                responses.setdefault("403", "FORBIDDEN")

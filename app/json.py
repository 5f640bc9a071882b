"""JSON that keeps money exact: numbers in as Decimal, Decimal out as numbers."""

from __future__ import annotations

import decimal
import json
from typing import Any

from flask.json.provider import DefaultJSONProvider


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        # NUMERIC(10,2) has at most 12 significant digits, so the float's
        # shortest repr is exactly the decimal (19.99, never 19.989999...).
        return float(value)
    return DefaultJSONProvider.default(value)


class GiftsJSONProvider(DefaultJSONProvider):
    """Parse JSON fractions as Decimal so a third decimal is seen, not rounded."""

    default = staticmethod(_default)  # type: ignore[assignment]
    sort_keys = False
    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", decimal.Decimal)
        return json.loads(s, **kwargs)

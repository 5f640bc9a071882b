"""Limits on what a client's JSON may hold, checked while it is parsed."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

# Our bodies nest three deep at most ({"changes": {...}}, {"ids": [...]}). The
# json module recurses per level and raises RecursionError near a thousand.
MAX_DEPTH = 32
# Longer integers stay exact as Decimal, which every integer field refuses
# (422) and money compares with its range; int() would refuse more than 4300
# digits with a ValueError and cost quadratic time below that.
MAX_INT_DIGITS = 19
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = bytes.maketrans(b"{}", b"[]")


class InvalidJSON(json.JSONDecodeError):
    """JSON this API does not accept (webargs answers it with 400)."""

    def __init__(self, message: str, text: str, position: int = 0) -> None:
        super().__init__(message, text or " ", position)


def nesting_depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (strings skipped).

    Each pass removes the innermost pairs, one level, in C: at most ``limit``
    passes over the brackets, whatever the body's size.
    """
    brackets = _STRING.sub(b"", raw).translate(_OPENERS, _NOT_BRACKET)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False  # unbalanced: the parser says where
        brackets = shorter
    return bool(brackets)


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else Decimal(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    for key, _ in pairs:
        try:
            key.encode()
        except UnicodeEncodeError as error:
            raise ValueError("An object key holds an unpaired surrogate.") from error
    return dict(pairs)


def loads(raw: bytes) -> Any:
    """Parse a request body: fractions as Decimal, within the limits above.

    Raises ``json.JSONDecodeError`` for what is not JSON, its ``InvalidJSON``
    for what RFC 8259 does not call JSON (NaN, Infinity), keys that are not
    Unicode text and nesting too deep.
    """
    text = raw.decode("utf-8")  # UnicodeDecodeError: webargs answers 400
    if not text.strip():
        raise json.JSONDecodeError("Expecting value", text or " ", 0)
    if nesting_depth_exceeds(raw):
        raise InvalidJSON(f"Arrays and objects nest deeper than {MAX_DEPTH}.", text)
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_int=_integer,
            parse_constant=_no_constant,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        raise InvalidJSON(str(error), text) from error

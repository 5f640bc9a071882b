"""What sealing a listing cursor costs (AES-GCM, app/sealing.py), in process.

timeit, best of 5 runs of 20 000: sealing and opening alone, the whole
encode_cursor/decode_cursor (JSON and the strict checks of what a cursor
holds included), and the former unsealed base64 of JSON beside them.
Usage: .venv/bin/python bench/cursor_cost.py
"""

from __future__ import annotations

import base64
import json
import timeit
from collections.abc import Callable

from app import create_app
from app.gifts import cursors

NUMBER, REPEAT = 20_000, 5
GIFT = {"id": 123_456, "name": "SECRET Santa bike", "price": None}


def best_us(work: Callable[[], object]) -> float:
    return min(timeit.repeat(work, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


def main() -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    contents = json.dumps(["name", GIFT["name"], GIFT["id"]], separators=(",", ":"))
    with app.app_context():
        sealer = cursors.sealer()
        cursor = cursors.encode_cursor("name", GIFT)  # type: ignore[arg-type]
        timings = {
            "seal (AES-GCM, base64)": lambda: sealer.seal(
                cursors.PURPOSE, contents.encode()
            ),
            "open (base64, AES-GCM)": lambda: sealer.open(cursors.PURPOSE, cursor),
            "encode_cursor": lambda: cursors.encode_cursor("name", GIFT),  # type: ignore[arg-type]
            "decode_cursor (checks included)": lambda: cursors.decode_cursor(
                "name", cursor
            ),
            "former: base64 of JSON": lambda: base64.urlsafe_b64encode(
                contents.encode()
            ),
        }
        for label, work in timings.items():
            print(f"{label:34} {best_us(work):6.1f} µs")


if __name__ == "__main__":
    main()

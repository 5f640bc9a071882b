"""Copy docs/walkthrough.sh (from its scissors line on) into README.md.

    .venv/bin/python docs/sync_readme.py          # rewrite README.md's block
    .venv/bin/python docs/sync_readme.py --check  # exit 1 if the block is stale

The walkthrough is a script CI runs against a live server
(tests/test_walkthrough.py), so the README's copy must be the script itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "walkthrough.sh"
README = ROOT / "README.md"
SCISSORS = "# ----8<---- README\n"
BEGIN = (
    "<!-- walkthrough: begin (copied from docs/walkthrough.sh by `make readme`) -->\n"
)
END = "<!-- walkthrough: end -->\n"


def block() -> str:
    """The README's walkthrough block: the script after the scissors line."""
    script = SCRIPT.read_text(encoding="utf-8")
    _, found, body = script.partition(SCISSORS)
    if not found:
        raise SystemExit(f"{SCRIPT}: no scissors line {SCISSORS.strip()!r}")
    return f"{BEGIN}```sh\n{body}```\n{END}"


def synced(readme: str) -> str:
    """README text with its walkthrough block replaced by the script's."""
    head, found, rest = readme.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(
            f"{README}: no walkthrough block ({BEGIN.strip()} ... {END.strip()})"
        )
    return head + block() + tail


def main() -> int:
    current = README.read_text(encoding="utf-8")
    wanted = synced(current)
    if "--check" in sys.argv[1:]:
        if current != wanted:
            print(
                "README.md's walkthrough is not docs/walkthrough.sh: run `make readme`"
            )
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

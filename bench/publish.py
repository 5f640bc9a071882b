"""Published figures that cannot go stale unnoticed.

A full `make bench` writes bench/results/latest.json (naming the commit it
measured) and rewrites the README's results block from it. Two checks keep
them honest, run by tests/test_bench_results.py on every `make test`:

- ``stale_paths``: the measured code (settings.MEASURED_PATHS: app/,
  migrations/, wsgi.py, gunicorn.conf.py) must be what it was at the commit
  the results name, and the run must have had no local edits of it;
- ``readme_with``: the README's block must be the run's own Markdown.

So a change under app/ lands with a fresh `make bench` (run on a quiet
machine, committed after the code it measured), or `make test` fails.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from bench.report import markdown
from bench.settings import MEASURED_PATHS, ROOT

README = ROOT / "README.md"
START = (
    "<!-- bench results: written by `make bench` from bench/results/latest.json;"
    " do not edit by hand -->"
)
END = "<!-- end of bench results -->"


class NotPublishable(Exception):
    """The README has no results block, or the git history cannot tell."""


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30
    )


def stale_paths(commit: str, cwd: Path = ROOT) -> list[str]:
    """The measured files that differ between ``commit`` and HEAD (committed
    changes only: a working copy's edits are the developer's own business
    until they are committed). Raises NotPublishable when ``commit`` is
    unknown or not an ancestor of HEAD."""
    if _git(cwd, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise NotPublishable(f"commit {commit} is not in this repository's history")
    if _git(cwd, "merge-base", "--is-ancestor", commit, "HEAD").returncode != 0:
        raise NotPublishable(f"commit {commit} is not an ancestor of HEAD")
    diff = _git(cwd, "diff", "--name-only", commit, "HEAD", "--", *MEASURED_PATHS)
    if diff.returncode != 0:
        raise NotPublishable(diff.stderr.strip())
    return diff.stdout.split()


def readme_with(results: dict[str, Any], text: str) -> str:
    """``text`` (the README) with its results block replaced by the run's."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise NotPublishable(f"README.md has no {START!r} ... {END!r} block")
    return f"{head}{START}\n{markdown(results)}\n{END}{tail}"


def publish_readme(results: dict[str, Any]) -> None:
    """Rewrite README.md's results block (a published, full run only)."""
    README.write_text(readme_with(results, README.read_text()))


if __name__ == "__main__":  # rewrite the README's block from latest.json
    import json

    from bench.settings import PUBLISHED_RESULTS

    publish_readme(json.loads((PUBLISHED_RESULTS / "latest.json").read_text()))

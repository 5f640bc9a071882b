"""The published bench figures are those of the code in this tree.

bench/results/latest.json names the commit it measured. Once anything under
app/ or migrations/ (or wsgi.py, gunicorn.conf.py) is committed after it, this
test fails until `make bench` is run again and its results committed; and the
README's results block must be that run's own Markdown (bench/publish.py).
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.publish import END, README, START, NotPublishable, readme_with, stale_paths
from bench.settings import PUBLISHED_RESULTS, ROOT

LATEST = PUBLISHED_RESULTS / "latest.json"
REBENCH = (
    "run `make bench` on a quiet machine and commit bench/results/ and README.md"
    " after the code it measured"
)


def _git_tree() -> bool:
    return shutil.which("git") is not None and (ROOT / ".git").exists()


@pytest.fixture(scope="module")
def published() -> dict:
    return json.loads(LATEST.read_text())


def test_the_published_run_is_a_full_run_of_committed_code(published):
    assert not published["settings"].get("quick"), "a quick run measures nothing"
    assert published["code"]["commit"], "the run names no commit"
    assert published["code"]["uncommitted_changes"] == [], (
        f"the run measured local edits {published['code']['uncommitted_changes']}: "
        + REBENCH
    )


@pytest.mark.skipif(not _git_tree(), reason="needs git and this tree's history")
def test_the_code_measured_is_the_code_here(published):
    commit = published["code"]["commit"]
    changed = stale_paths(commit)
    assert changed == [], (
        f"bench/results/ measured {commit}; since then {', '.join(changed)}"
        f" changed: {REBENCH}"
    )


def test_the_readme_shows_the_published_run(published):
    text = README.read_text()
    assert text == readme_with(published, text), (
        "README.md's results block is not bench/results/latest.json's: "
        "`.venv/bin/python -m bench.publish` rewrites it"
    )


# The checks themselves, on a repository of their own.


def _commit(repo: Path, path: str, text: str) -> str:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    run = ["git", "-C", str(repo)]
    subprocess.run([*run, "add", path], check=True)
    subprocess.run(
        [*run, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", path],
        check=True,
    )
    return subprocess.run(
        [*run, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_change_under_app_after_the_run_makes_it_stale(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    measured = _commit(tmp_path, "app/store.py", "v1\n")
    _commit(tmp_path, "bench/results/latest.json", "{}\n")
    _commit(tmp_path, "docs/guide.md", "words\n")
    assert stale_paths(measured, tmp_path) == []
    _commit(tmp_path, "app/store.py", "v2\n")
    _commit(tmp_path, "migrations/versions/0010_x.py", "x\n")
    assert stale_paths(measured, tmp_path) == [
        "app/store.py",
        "migrations/versions/0010_x.py",
    ]
    with pytest.raises(NotPublishable, match="not in this repository"):
        stale_paths("0123456789abcdef", tmp_path)


def test_the_readme_block_is_replaced_whole_and_nothing_else(monkeypatch):
    monkeypatch.setattr("bench.publish.markdown", lambda results: "| new |")
    text = f"# Title\n\nbefore\n{START}\n| old |\n| older |\n{END}\nafter\n"
    replaced = f"# Title\n\nbefore\n{START}\n| new |\n{END}\nafter\n"
    assert readme_with({}, text) == replaced
    with pytest.raises(NotPublishable, match="no .* block"):
        readme_with({}, "# a README without the block\n")


@pytest.mark.parametrize(
    "module", sorted(path.stem for path in (ROOT / "bench").glob("*.py"))
)
def test_every_bench_module_imports(module):
    """`make bench` imports its parts as it goes, minutes into a run, and the
    separate studies (bench/connections.py, ...) only when someone runs
    them: a name they import that the app no longer has fails here first."""
    importlib.import_module(f"bench.{module}")

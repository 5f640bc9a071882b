"""The README's walkthrough is docs/walkthrough.sh, and it does what it says
against the service started the README's way (`make run`) on a fresh database."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "walkthrough.sh"
READY_TIMEOUT = 90.0  # make run migrates first
SCRIPT_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


def test_readme_holds_the_script_as_it_is() -> None:
    sync = runpy.run_path(str(ROOT / "docs" / "sync_readme.py"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert sync["synced"](readme) == readme, "run `make readme` and commit README.md"
    assert "show $API/readyz" in readme


def test_every_request_of_the_script_says_what_it_expects() -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    requests = re.findall(r"^(?:show|bare) ", script, flags=re.MULTILINE)
    expected = re.findall(r"^# HTTP \d{3}$", script, flags=re.MULTILINE)
    assert len(requests) == len(expected) >= 15


def _ready(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.fixture
def served(empty_database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """`make run` on a fresh database; the environment to reach it with."""
    port = free_port()
    venv = os.environ.get("VENV", ".venv")
    env = dict(
        os.environ,
        DATABASE_URL=empty_database_url,
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="2",
    )
    env.pop("LOG_FORMAT", None)
    log = tmp_path / "server.log"
    with open(log, "wb") as stderr:
        # --old-file: serve with the installed venv (never reinstall mid-test).
        process = subprocess.Popen(
            ["make", f"--old-file={venv}/.installed", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _ready(port):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "make run did not get ready"
            time.sleep(0.2)
        yield env | {"SERVER_LOG": str(log)}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)


@pytest.mark.slow
def test_the_walkthrough_gives_what_it_says(served: dict[str, str]) -> None:
    script = SCRIPT.read_text(encoding="utf-8")
    expected = re.findall(r"^# (HTTP \d{3})$", script, flags=re.MULTILINE)

    run = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=served,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )

    assert run.returncode == 0, run.stderr
    shown = re.findall(r"^HTTP \d{3}$", run.stdout, flags=re.MULTILINE)
    assert shown == expected, run.stdout
    assert "added 40 sample gifts (random ids)" in run.stderr
    assert '"name":"Wooden train set"' in run.stdout
    # The surprise: hidden from Ann (404), then revealed once received.
    assert '"name":"Silver locket"' in run.stdout
    assert '"has_more":true' in run.stdout
    assert '"errors":{"from_santa":["Not a valid boolean."]}' in run.stdout

    # The server's log: gunicorn's lines and one per request, all JSON.
    lines = Path(served["SERVER_LOG"]).read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    others = [line for line in lines if not line.startswith("{")]
    # Besides: `flask db upgrade`'s lines and, on a fresh database, the
    # sentence that introduces the first parent's token (printed on stdout).
    assert all(line.startswith(("INFO  [alembic", "First run: ")) for line in others), [
        line
        for line in others
        if not line.startswith(("INFO  [alembic", "First run: "))
    ]
    assert any(r["logger"] == "gunicorn.error" for r in records)
    requests = [r for r in records if r["logger"] == "app.requests"]
    statuses = iter(r["status"] for r in requests if r["path"] != "/readyz")
    # Every status shown (but the first, /readyz's), in order, among the logged
    # ones, which also hold the script's quiet reads ($(api ...)).
    logged = [r["status"] for r in requests if r["path"] != "/readyz"]
    assert all(int(status[5:]) in statuses for status in shown[1:]), (shown, logged)
    assert all(r["request_id"] and r["duration_ms"] > 0 for r in requests)

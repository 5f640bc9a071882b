"""`make test` and `make bench` set up the system packages they need
(scripts/system-packages), and a browser test never passes without a browser.

The script runs against a PATH of stand-ins: `id` says who we are, `apt-get`
notes what it was asked and "installs" a package by adding its command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-packages"
# What the script uses besides the shell, and chmod for apt-get's stand-in.
TOOLS = ("mktemp", "rm", "tail", "chmod")
TIMEOUT = 60

APT_GET = """echo "$*" >> "$APT_LOG"
echo "Reading package lists... (apt's own noise)"
case " $* " in *" update "*) : > "$APT_LOG.updated"; exit 0 ;; esac
[ "${APT_FAILS:-}" = 1 ] && { echo "E: Unable to locate package"; exit 100; }
[ "${APT_STALE:-}" = 1 ] && [ ! -e "$APT_LOG.updated" ] && { echo "E: 404"; exit 100; }
option=
for word in "$@"; do
  if [ -n "$option" ]; then option=; continue; fi
  case "$word" in
  -o) option=1 ;;
  -*|install) ;;
  *) printf '#!/bin/sh\\n' > "$BIN/$word"; chmod +x "$BIN/$word" ;;
  esac
done
"""


class Machine:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.apt_log = root / "apt.log"
        for tool in TOOLS:
            found = shutil.which(tool)
            assert found, tool
            (self.bin / tool).symlink_to(found)
        self.add("id", 'echo "$FAKE_UID"')
        self.add("apt-get", APT_GET)

    def add(self, command: str, body: str = "") -> None:
        path = self.bin / command
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def has(self, command: str) -> bool:
        return (self.bin / command).exists()

    def apt_calls(self) -> list[str]:
        if not self.apt_log.exists():
            return []
        return self.apt_log.read_text().splitlines()

    def run(
        self, target: str, uid: int = 0, **env: str
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            "PATH": str(self.bin),
            "BIN": str(self.bin),
            "APT_LOG": str(self.apt_log),
            "FAKE_UID": str(uid),
            **env,
        }
        return subprocess.run(
            ["/bin/sh", str(SCRIPT), target],
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_nothing_is_installed_or_said_when_all_is_there(machine: Machine) -> None:
    machine.add("chromium")
    machine.add("curl")
    done = machine.run("test")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert machine.apt_calls() == []


def test_root_installs_only_what_is_missing_quietly(machine: Machine) -> None:
    machine.add("curl")
    done = machine.run("test")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "make test: apt-get install chromium\n"
    assert "apt's own noise" not in done.stdout + done.stderr
    [install] = machine.apt_calls()  # no `apt-get update`: not needed
    assert install.split()[-2:] == ["--no-install-recommends", "chromium"]
    assert machine.has("chromium")
    # Once: the next run finds it and says nothing.
    again = machine.run("test")
    assert (again.returncode, again.stderr, len(machine.apt_calls())) == (0, "", 1)


def test_apt_get_update_runs_only_when_the_install_needs_it(machine: Machine) -> None:
    done = machine.run("bench", APT_STALE="1")
    assert done.returncode == 0, done.stderr
    asked = [call.split()[-1] for call in machine.apt_calls()]
    assert asked == ["wrk", "update", "wrk"]
    assert machine.has("wrk")


def test_not_root_stops_with_one_line_naming_the_command(machine: Machine) -> None:
    done = machine.run("test", uid=1000)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "`sudo apt-get install -y chromium curl`" in done.stderr
    assert "GIFTS_SKIP_BROWSER=1 make test skips the browser tests" in done.stderr
    assert machine.apt_calls() == []


def test_the_browser_opt_out_needs_no_chromium(machine: Machine) -> None:
    machine.add("curl")
    done = machine.run("test", uid=1000, GIFTS_SKIP_BROWSER="1")
    assert (done.returncode, done.stderr) == (0, "")


def test_the_browser_opt_out_still_needs_curl(machine: Machine) -> None:
    done = machine.run("test", uid=1000, GIFTS_SKIP_BROWSER="1")
    assert done.returncode == 1
    assert "make test needs curl: run `sudo apt-get install -y curl`" in done.stderr
    assert "GIFTS_SKIP_BROWSER" not in done.stderr


def test_bench_asks_for_wrk_only(machine: Machine) -> None:
    done = machine.run("bench", uid=1000)
    assert done.returncode == 1
    assert "make bench needs wrk: run `sudo apt-get install -y wrk`" in done.stderr
    assert "GIFTS_SKIP_BROWSER" not in done.stderr


def test_without_apt_get_it_says_what_to_install(machine: Machine) -> None:
    (machine.bin / "apt-get").unlink()
    done = machine.run("test")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "make test needs chromium curl: install them with" in done.stderr


def test_a_failed_install_shows_apt_get_and_stops(machine: Machine) -> None:
    done = machine.run("test", APT_FAILS="1")
    assert done.returncode == 1
    assert "E: Unable to locate package" in done.stderr
    last = done.stderr.splitlines()[-1]
    assert last.startswith("make test: apt-get could not install chromium curl")
    assert not machine.has("chromium")


def test_an_unknown_target_is_refused(machine: Machine) -> None:
    done = machine.run("deploy")
    assert done.returncode == 2
    assert "usage:" in done.stderr


def browser_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """tests/test_browser.py on SQLite with a PATH that holds no chromium."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COV_CORE_", "COVERAGE_"))
        and name not in ("TEST_DATABASE_URL", "GIFTS_SKIP_BROWSER")
    }
    environment.update(PATH=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_browser.py"]
        + ["-p", "no:cacheprovider", "-q", "-rfEs", "--no-header"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
    )


def test_the_browser_tests_fail_without_chromium(tmp_path: Path) -> None:
    done = browser_tests(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed" in done.stdout and "error" not in done.stdout, done.stdout
    assert "chromium is missing: `sudo apt-get install -y chromium`" in done.stdout


def test_the_browser_tests_skip_only_when_told_to(tmp_path: Path) -> None:
    done = browser_tests(tmp_path, GIFTS_SKIP_BROWSER="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 skipped" in done.stdout and "passed" not in done.stdout, done.stdout
    assert "GIFTS_SKIP_BROWSER=1: the browser tests are skipped" in done.stdout

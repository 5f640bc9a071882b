"""Load generation: `wrk` drives one server with a Lua script of bench/wrk/, and
a meter counts whose CPU time the run took (server, database, wrk, the rest).

wrk runs as a separate process on 127.0.0.1, on the same cores as the server;
its scripts print one `BENCH_JSON {...}` line with the counts and percentiles.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import page_cursors as bench_page_cursors
from bench import settings
from bench.serving import Gunicorn
from bench.settings import ROOT, WRK_SCRIPTS, log

INSTALL_SECONDS = 600  # scripts/system-packages waits up to 5 min for apt's lock


def ensure_wrk() -> str:
    """wrk on PATH: if it is missing, scripts/system-packages (as `make bench`
    calls it) installs it, or says in one line what to run."""
    found = shutil.which("wrk")
    if found:
        return found
    script = [str(ROOT / "scripts" / "system-packages"), "bench"]
    try:
        subprocess.run(script, stdin=subprocess.DEVNULL, timeout=INSTALL_SECONDS)
    except subprocess.TimeoutExpired:
        log(f"scripts/system-packages bench: no answer in {INSTALL_SECONDS} s")
    found = shutil.which("wrk")
    if found:
        return found
    sys.exit("bench: `wrk` is missing (the line above says what to run)")


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    return (result.stdout or result.stderr).splitlines()[0].split(" [")[0]


def run_wrk(
    wrk: str,
    url: str,
    script: str,
    ids: tuple[int, int],
    seconds: int,
    token: str = "",
) -> dict[str, Any]:
    """``seconds`` of load from ``script``; counts, percentiles, the command."""
    command = [
        wrk,
        f"-t{settings.THREADS}",
        f"-c{settings.CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPTS / script),
        url,
        "--",
        str(ids[0]),
        str(ids[1]),
    ]
    # The token goes through the environment: never on a command line or in
    # the results.
    env = {**os.environ, "LUA_PATH": f"{WRK_SCRIPTS}/?.lua;;", "BENCH_TOKEN": token}
    # get_page.lua reads sealed cursors, which only the app can make.
    page_cursors = bench_page_cursors.write(ids) if script == "get_page.lua" else None
    if page_cursors is not None:
        env["BENCH_CURSORS"] = str(page_cursors)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=seconds + 60
        )
    finally:
        if page_cursors is not None:
            page_cursors.unlink()
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON ") :])
            break
    else:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(
        raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "p99_over_p50": round(raw["p99_us"] / max(raw["p50_us"], 1), 2),
        "non_2xx": raw["non_2xx_3xx"],
        "socket_errors": errors,
        "kib_per_s": round(raw["bytes"] / 1024 / seconds_run, 1),
        "command": "LUA_PATH='bench/wrk/?.lua;;' "
        + shlex.join(command).replace(str(ROOT) + "/", ""),
    }


CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 if it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return 0.0


def context_switches(pid: int) -> tuple[int, int]:
    """Voluntary and involuntary context switches of every thread of one
    process so far ((0, 0) if it is gone): a thread that blocks (on a socket,
    a lock, the GIL) switches voluntarily; one the kernel takes the core
    from, involuntarily."""
    voluntary = involuntary = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    voluntary += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    involuntary += int(line.split()[1])
    return voluntary, involuntary


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy (not idle, not waiting for I/O)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICK


class CpuMeter:
    """Who used the CPU during a run: the server, the database, wrk, the rest.

    The machine has 2 cores shared by wrk, gunicorn, PostgreSQL and whatever
    else runs (other sessions' tests): CPU time per request is the figure that
    other load disturbs least."""

    def __init__(
        self, server_pids: Callable[[], list[int]], db_pids: Callable[[], list[int]]
    ) -> None:
        self.server_pids, self.db_pids = server_pids, db_pids

    def snapshot(self) -> dict[str, Any]:
        pids = self.server_pids()
        server = {pid: cpu_seconds(pid) for pid in pids}
        database = {pid: cpu_seconds(pid) for pid in self.db_pids()}
        children = os.times()
        return {
            "switches": {pid: context_switches(pid) for pid in pids},
            "server": server,
            "db": database,
            "wrk": children.children_user + children.children_system,
            "busy": machine_busy_seconds(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def usage(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        def delta(kind: str) -> float:
            return sum(
                seconds - before[kind].get(pid, 0.0)
                for pid, seconds in after[kind].items()
            )

        used = {"server": delta("server"), "db": delta("db")}
        used["wrk"] = after["wrk"] - before["wrk"]
        used["other"] = max(0.0, after["busy"] - before["busy"] - sum(used.values()))
        used["wall"] = after["wall"] - before["wall"]
        for index, kind in enumerate(("voluntary", "involuntary")):
            used[kind] = sum(
                counts[index] - before["switches"].get(pid, (0, 0))[index]
                for pid, counts in after["switches"].items()
            )
        return used  # fmt: skip


def measure(
    wrk: str,
    server: Gunicorn,
    script: str,
    ids: tuple[int, int],
    token: str,
    db_pids: Callable[[], list[int]] = list,
) -> dict[str, Any]:
    """A warm-up, then BENCH_DURATION seconds of metered load."""
    run_wrk(wrk, server.url, script, ids, settings.WARMUP, token)
    meter = CpuMeter(server.pids, db_pids)
    before = meter.snapshot()
    result = run_wrk(wrk, server.url, script, ids, settings.DURATION, token)
    used = meter.usage(before, meter.snapshot())
    requests = max(result["requests"], 1)
    result["cpu_ms_per_request"] = {
        kind: round(used[kind] * 1000 / requests, 3) for kind in ("server", "db", "wrk")
    }
    # The server's threads switching, per request (see bench/threads.py).
    result["switches_per_request"] = {
        kind: round(used[kind] / requests, 2) for kind in ("voluntary", "involuntary")
    }
    cores = os.cpu_count() or 1
    result["cpu_share"] = {
        kind: round(used[kind] / (used["wall"] * cores), 3)
        for kind in ("server", "db", "wrk", "other")
    }
    return result

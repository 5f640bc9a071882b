"""The servers under load: `gunicorn -c gunicorn.conf.py APP` as `make run` starts
it, for the real app (wsgi:app) and for the ceiling (bench.ceiling:app).

Each server gets its own process group, so that stopping it stops all of it,
and a free port on 127.0.0.1 (within BENCH_PORTS when that is set).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import runpy
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import settings
from bench.settings import BIN, ROOT

READY_SECONDS = 60  # gunicorn and every worker up, /healthz answering


def free_port() -> int:
    """A port nothing listens on now: the first free one of BENCH_PORTS, or any."""
    candidates = settings.PORTS if settings.PORTS is not None else (0,)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    continue
                raise
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS ({os.environ['BENCH_PORTS']})")


def _config() -> dict[str, Any]:
    """gunicorn.conf.py as gunicorn reads it (it reads WEB_CONCURRENCY itself)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def expected_workers() -> int:
    return int(_config()["workers"])


def worker_setup() -> str:
    conf = _config()
    kind = conf["worker_class"].rsplit(".", 1)[-1]
    return f"{conf['workers']} {kind} workers x {conf['threads']} threads"


def children(pid: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            pids += [int(p) for p in task.read_text().split()]
    return sorted(pids)


def vm_kib(pid: int, field: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def http(
    url: str, method: str = "GET", body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """One request, bounded by 10 s: (status, JSON body); (0, None) if no answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, ValueError):
        return 0, None


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP` on 127.0.0.1:<free port>, as `make run`."""

    def __init__(self, app_spec: str, env: dict[str, str], log_path: Path) -> None:
        self.app_spec, self.extra_env, self.log_path = app_spec, env, log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self.port = free_port()
        env = {**os.environ, **self.extra_env, "HOST": "127.0.0.1"}
        env["PORT"] = str(self.port)
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app_spec]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: we can kill all of it
            )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            ready = len(children(self.process.pid)) >= expected_workers()
            if ready and http(self.url + "/healthz")[0] == 200:
                # let every worker import the app before the warm-up
                time.sleep(1.0)
                return self
            time.sleep(0.2)
        raise RuntimeError(
            f"gunicorn not ready in {READY_SECONDS} s:\n{self.log_tail()}"
        )

    def pids(self) -> list[int]:
        if self.process is None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    def memory(self) -> dict[str, Any]:
        """Peak resident memory (VmHWM) of the master and of each worker, in MiB."""
        assert self.process is not None
        workers = {pid: vm_kib(pid, "VmHWM") for pid in children(self.process.pid)}
        per_worker = [round(kib / 1024, 1) for kib in workers.values() if kib]
        master = vm_kib(self.process.pid, "VmHWM")
        return {
            "workers": len(per_worker),
            "worker_vmhwm_mib": per_worker,
            "worker_vmhwm_max_mib": max(per_worker, default=None),
            "master_vmhwm_mib": round(master / 1024, 1) if master else None,
        }

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: the master stops workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # its own group only
            process.wait(timeout=5)


@contextlib.contextmanager
def serving(app_spec: str, env: dict[str, str], log_path: Path) -> Iterator[Gunicorn]:
    """A started server, stopped on the way out (also on errors and Ctrl-C)."""
    server = Gunicorn(app_spec, env, log_path)
    try:
        yield server.start()
    finally:
        server.stop()

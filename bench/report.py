"""The report: the results document (latest.json) and its Markdown tables, the
ones the README's benchmark section shows."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import wrk_version
from bench.serving import expected_workers, worker_setup
from bench.settings import MEASURED_PATHS, ROOT, big_label
from bench.targets import (
    SCALING_MAX,
    SEARCH_MAX,
    SHAPE_MAX,
    TAIL_MAX,
    feature_figures,
)

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def machine(wrk: str, postgres_version: str | None) -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import gunicorn

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "gunicorn": gunicorn.__version__,
        "wrk": wrk_version(wrk),
        "workers": expected_workers(),
        "setup": worker_setup(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and the local edits of the measured code, if any."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        return result.stdout.strip()

    changed = git("status", "--porcelain", "--", *MEASURED_PATHS)
    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "uncommitted_changes": changed.splitlines(),
    }


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown: the README's benchmark tables, then the verdict."""
    services = {d: x for d, x in results["databases"].items() if "endpoints" in x}
    lines = _heading(results)
    lines += _endpoints(services)
    lines += _compared(services, results["machine"].get("setup"))
    lines += _scaling(results["scaling"], results["settings"])
    lines += _shapes(results["scaling"])
    lines += _memory(services)
    lines += _features(results)
    failed = [c for c in results["checks"] if not c["ok"]]
    lines += [
        "",
        f"Targets: {len(results['checks']) - len(failed)} of "
        f"{len(results['checks'])} met."
        + ("" if not failed else " Missed: " + "; ".join(
            f"{c['check']} = {c['value']} (want {c['target']})" for c in failed)),
    ]  # fmt: skip
    return "\n".join(lines)


QUICK_NOTE = (
    "**A quick run (BENCH_QUICK=1): it proves that the bench works; its figures "
    "measure nothing.**"
)


def _heading(results: dict[str, Any]) -> list[str]:
    m, s = results["machine"], results["settings"]
    pg = f", PostgreSQL {m['postgresql']}" if m["postgresql"] else ""
    skipped = [
        f"{NAMES[d]} not measured: {x['skipped']}."
        for d, x in results["databases"].items()
        if "skipped" in x
    ]
    gifts = f"{s['gifts']:,}".replace(",", " ")
    return [
        f"#### Benchmark ({results['generated_at'][:10]}, `{results['command']}`)",
        *(["", QUICK_NOTE] if s.get("quick") else []),
        "",
        f"Machine: {m['nproc']} × {m['cpu']}, Linux {m['kernel']}, Python "
        f"{m['python']}, SQLite {m['sqlite']}{pg}; gunicorn {m['gunicorn']} "
        f"(gunicorn.conf.py: {m.get('setup', m['workers'])}). Load: {m['wrk']} "
        f"`-t{s['threads']} -c{s['connections']}`, {s['duration_s']} s per case "
        f"after {s['warmup_s']} s warm-up, on the same {m['nproc']} cores as the "
        f"server. Code: {results['code']['commit']}"
        + (" with local changes" if results["code"]["uncommitted_changes"] else "")
        + f". {gifts} gifts; the ceiling (bench/ceiling.py: Flask, same "
        "gunicorn config, a fixed JSON gift) is measured right before each "
        "database's cases." + "".join(" " + line for line in skipped),
    ]


def _endpoints(services: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| endpoint | database | req/s | × ceiling | target | p50 ms | p99 ms "
        "| p99/p50 | non-2xx | CPU ms/req app+db | CPU × ceiling |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    other = []
    for dialect, service in services.items():
        c = service["ceiling"]
        other.append(c["cpu_share"]["other"])
        lines.append(
            f"| *ceiling ({c['body_bytes']} B of JSON)* | {NAMES[dialect]} "
            f"| {c['rps']:.0f} | 1.00 | | {c['p50_ms']:.2f} | {c['p99_ms']:.2f} "
            f"| {c['p99_over_p50']:.1f} | {c['non_2xx'] + c['socket_errors']} "
            f"| {c['cpu_ms_per_request']['server']:.2f} | 1.00 |"
        )
        for e in service["endpoints"].values():
            target = e["target_ratio"]
            mark = ""
            if target is not None:
                ok = e["ratio_to_ceiling"] >= target
                mark = f"≥ {target:.2f} " + ("✅" if ok else "❌")
            tail = "" if e["p99_over_p50"] <= TAIL_MAX else " ❌"
            cpu = e["cpu_ms_per_request"]
            db_cpu = f"+{cpu['db']:.2f}" if dialect == "postgresql" else ""
            other.append(e["cpu_share"]["other"])
            lines.append(
                f"| {e['title']} | {NAMES[dialect]} | {e['rps']:.0f} "
                f"| {e['ratio_to_ceiling']:.2f} | {mark} | {e['p50_ms']:.2f} "
                f"| {e['p99_ms']:.2f} | {e['p99_over_p50']:.1f}{tail} "
                f"| {e['non_2xx'] + e['socket_errors']} "
                f"| {cpu['server']:.2f}{db_cpu} | {e['cpu_ratio_to_ceiling']:.2f} |"
            )
    noisy = max(other, default=0)
    verdict = ": req/s are noisy, trust the CPU column more." if noisy > 0.05 else "."
    return lines + [
        "",
        "× ceiling: req/s over the ceiling's req/s (what the targets are about). "
        "CPU × ceiling: the ceiling's CPU time per request over this endpoint's "
        "(gunicorn workers, plus the PostgreSQL backends): a cross-check that load "
        f"from other processes disturbs less. Processes outside the bench used up to "
        f"{noisy:.0%} of the machine during a case{verdict}",
    ]


def _compared(services: dict[str, Any], setup: str | None) -> list[str]:
    compared = [(d, x) for d, x in services.items() if "sync_workers" in x]
    if not compared:
        return []
    lines = [
        "",
        f"| this setup ({setup}) vs the former (2 sync workers) "
        "| database | req/s | sync req/s | ratio | p99 ms | sync p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for dialect, service in compared:
        for key, sync in service["sync_workers"].items():
            e = service["endpoints"][key]
            lines.append(
                f"| {e['title']} | {NAMES[dialect]} | {e['rps']:.0f} "
                f"| {sync['rps']:.0f} | {e['rps'] / max(sync['rps'], 1):.2f} "
                f"| {e['p99_ms']:.2f} | {sync['p99_ms']:.2f} |"
            )
    return lines


def names_holding(text: str, rows: int) -> int:
    """How many of bench.seed's names "Gift 1" .. "Gift <rows>" hold ``text``."""
    text = text.lower()
    return sum(text in f"gift {n}" for n in range(1, rows + 1))


def _scaling(scaling: dict[str, Any], s: dict[str, Any]) -> list[str]:
    if not scaling:
        return []
    dialects = list(scaling)
    small_rows, big_rows = s["scale_rows"]
    small, big_key, big = str(small_rows), str(big_rows), big_label(big_rows)
    lines = [
        "",
        f"| scaling (median of {s['repeats']}; ms) | "
        + " | ".join(NAMES[d] for d in dialects)
        + " | target |",
        "|---|" + "---:|" * len(dialects) + "---|",
    ]

    def row(label: str, get: Callable[[dict], Any], target: str = "") -> None:
        values = " | ".join(str(get(scaling[d])) for d in dialects)
        lines.append(f"| {label} | {values} | {target} |")

    at_most = f"≤ {SCALING_MAX:g}"
    row("0002 upgrade, 1k rows", lambda x: x["migration"][small]["upgrade_ms"])
    row(f"0002 upgrade, {big} rows", lambda x: x["migration"][big_key]["upgrade_ms"])
    row(f"upgrade {big}/1k", lambda x: x["migration"]["upgrade_ratio"], at_most)
    row("0002 downgrade, 1k rows", lambda x: x["migration"][small]["downgrade_ms"])
    row(
        f"0002 downgrade, {big} rows",
        lambda x: x["migration"][big_key]["downgrade_ms"],
    )
    row(
        f"downgrade {big}/1k",
        lambda x: x["migration"]["downgrade_ratio"],
        f"{at_most} (PostgreSQL)",
    )
    for sort in ("recent", "price_asc"):
        row(
            f"listing {sort}: first page of {big}",
            lambda x, s=sort: x["listing"][f"{s}_first"]["median_ms"],
        )
        row(
            f"listing {sort}: last page of {big}",
            lambda x, s=sort: x["listing"][f"{s}_last"]["median_ms"],
        )
        row(
            f"listing {sort}: last/first",
            lambda x, s=sort: x["listing"][f"{s}_last_over_first"],
            at_most,
        )
    row("listing price_asc: end of priced part/first",
        lambda x: x["listing"]["price_asc_end_of_priced_over_first"])  # fmt: skip
    for page in ("first", "last"):
        row(
            f"listing by a list (1 in 20 gifts): {page} page of {big}",
            lambda x, p=page: x["listing"][f"list_{p}"]["median_ms"],
        )
        row(
            f"listing by a list: {page} page/unfiltered first",
            lambda x, p=page: x["listing"][f"list_{p}_over_unfiltered_first"],
            at_most,
        )
    rare, common = names_holding("1234", big_rows), names_holding("gift 1234", big_rows)
    row(
        f'search "1234" ({rare} of {big}): first page',
        lambda x: x["listing"]["search_first"]["median_ms"],
    )
    row(
        "search: first page/unfiltered first",
        lambda x: x["listing"]["search_first_over_unfiltered_first"],
        f"≤ {SEARCH_MAX:g} (PostgreSQL)",
    )
    row(
        f'search "gift 1234" ({common} of {big}, "gift" in all): first page',
        lambda x: x["listing"]["search_common_word_first"]["median_ms"],
    )
    row(
        "search with a word in every name: first page/unfiltered first",
        lambda x: x["listing"]["search_common_word_first_over_unfiltered_first"],
    )
    return lines


def _shapes(scaling: dict[str, Any]) -> list[str]:
    """Every listing shape's ratio to the plain first page (bench/shapes.py),
    side by side per database; a ratio over its target is marked. The counts
    stay in view; the long table folds away in a <details> element."""
    measured = {d: x["shapes"] for d, x in scaling.items() if "shapes" in x}
    if not measured:
        return []
    dialects = list(measured)
    names = list(dict.fromkeys(n for x in measured.values() for n in x["shapes"]))
    heads = " | ".join(NAMES.get(d, d) for d in dialects)
    plain = " | ".join(f"{measured[d]['plain_first_ms']:.2f} ms" for d in dialects)
    over = " | ".join(
        f"{measured[d]['over_target']} of {len(measured[d]['shapes'])}"
        for d in dialects
    )
    counts = ", ".join(
        f"{NAMES.get(d, d)} {x['over_target']} of {len(x['shapes'])}"
        for d, x in measured.items()
    )
    lines = [
        "",
        f"Listing shapes over {SHAPE_MAX:g}× the plain first page: {counts}.",
        "",
        "<details><summary>Every listing shape against the plain first page</summary>",
        "",
        f"| listing shape / plain first page (target <= {SHAPE_MAX:g}) | {heads} |",
        "|---|" + "---:|" * len(dialects),
        f"| plain first page | {plain} |",
        f"| shapes over the target | {over} |",
    ]
    for name in names:
        cells = []
        for d in dialects:
            shape = measured[d]["shapes"].get(name)
            if shape is None:
                cells.append("-")
            else:
                mark = " ❌" if shape["ratio"] > SHAPE_MAX else ""
                cells.append(f"{shape['ratio']:.2f}{mark}")
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return [*lines, "", "</details>"]


def _memory(services: dict[str, Any]) -> list[str]:
    if not services:
        return []
    lines = [
        "",
        "| server | workers | peak RSS per worker (VmHWM, MiB) | max |",
        "|---|---:|---|---:|",
    ]
    servers = [("ceiling", next(iter(services.values()))["ceiling"]["memory"])]
    servers += [(NAMES[d], service["memory"]) for d, service in services.items()]
    for label, memory in servers:
        per_worker = ", ".join(f"{v:.0f}" for v in memory["worker_vmhwm_mib"])
        lines.append(
            f"| {label} | {memory['workers']} | {per_worker} "
            f"| {memory['worker_vmhwm_max_mib']:.0f} |"
        )
    return lines


FEATURES = {
    "surprises": "the surprise rule: a parent linked to a person over an unlinked "
    "parent, the same request (bench/surprises.py, median ms)",
    "flood": "a flood of sign-ins: a signed-in reader's latency during it over its "
    "p50 without it (bench/flood.py)",
    "occasions": "occasions: the budget view (1 000 gifts, 20 people) and the first "
    "page filtered by occasion_ids over the plain first page (bench/occasions.py)",
}


def _features(results: dict[str, Any]) -> list[str]:
    """One table per feature: each figure a ratio, its target marked."""
    lines: list[str] = []
    figures = feature_figures(results)
    for group, heading in FEATURES.items():
        rows = [f for f in figures if f.group == group]
        if not rows:
            continue
        lines += ["", f"| {heading} | ms | ratio | target |", "|---|---:|---:|---|"]
        for f in rows:
            mark = ""
            if f.target is not None:
                ok = f.value is not None and f.value <= f.target
                mark = f"≤ {f.target:g} " + ("✅" if ok else "❌")
            value = "–" if f.value is None else f"{f.value:.2f}"
            lines.append(f"| {f.check} | {f.detail} | {value} | {mark} |")
    return lines


def write_results(results: dict[str, Any], directory: Path) -> Path:
    """latest.json in ``directory``, replaced whole (never half written)."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "latest.json.tmp"
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    return tmp.replace(directory / "latest.json")

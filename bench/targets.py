"""What each figure must reach, and every target of a run as a pass/fail check.

Throughput is a ratio to the ceiling's req/s (higher is better); latency tails
and scaling are ratios where lower is better. The report and the chart read
their targets from here, so a table, a chart and the checks cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.settings import big_label

# Targets (ratios to the ceiling), from the performance issue.
THROUGHPUT_TARGETS = {
    "get_one": {"sqlite": 0.60, "postgresql": 0.45},
    "patch_santa": {"sqlite": 0.40, "postgresql": 0.35},
    "get_page": {"sqlite": 0.20, "postgresql": 0.20},
    "post": {"sqlite": 0.20, "postgresql": 0.20},
}
TAIL_MAX = 5.0  # p99 <= 5 x p50
SCALING_MAX = 1.5  # 1M rows <= 1.5 x 1k rows; last page <= 1.5 x first page
# A rare search's first page <= 3 x the unfiltered first page at 1M gifts
# (PostgreSQL, its trigram index: it reads the matches, then sorts them; a
# scan of the table is about 100 x).
SEARCH_MAX = 3.0
BOTH = {"sqlite": SCALING_MAX, "postgresql": SCALING_MAX}
# Issue 16: a page of 50 for a member linked to a person <= 1.3 x the same page
# for an unlinked parent (the summary reads every gift: reported, no target).
PAGE_COST_MAX = 1.3
SURPRISE_PAGES = (
    "first page of 50",
    "page 20 deep",
    "person 2's gifts",
    "purchased ones",
)
# Issue 19: every listing shape (bench/shapes.py) <= 3 x the plain first page
# at 1M gifts, on both databases: each shape a check; the worst on the chart.
SHAPE_MAX = 3.0
# Issue 18: an occasion's budget view and its first page of gifts at 1M gifts
# <= 3 x the plain first page.
OCCASION_MAX = 3.0


@dataclass(frozen=True)
class Ratio:
    """A scaling figure of results["scaling"][dialect][section][key]."""

    section: str
    key: str
    check: str  # the check's name after the dialect; {big} = 1M
    label: str  # its name on the chart
    targets: dict[str, float]  # the most it may be, per dialect; absent: none


SCALING_RATIOS = (
    Ratio(
        "migration",
        "upgrade_ratio",
        "migration 0002 upgrade {big}/1k",
        "0002 up, {big}/1k",
        BOTH,
    ),
    # SQLite rebuilds the table to drop a column: it grows with the rows.
    Ratio(
        "migration",
        "downgrade_ratio",
        "migration 0002 downgrade {big}/1k",
        "0002 down, {big}/1k",
        {"postgresql": SCALING_MAX},
    ),
    Ratio(
        "listing",
        "recent_last_over_first",
        "last/first listing page (recent)",
        "last page/first, newest",
        BOTH,
    ),
    Ratio(
        "listing",
        "price_asc_last_over_first",
        "last/first listing page (price_asc)",
        "last page/first, by price",
        BOTH,
    ),
    Ratio(
        "listing",
        "list_first_over_unfiltered_first",
        "first page by a list / unfiltered first",
        "a list's first page/first",
        BOTH,
    ),
    Ratio(
        "listing",
        "list_last_over_unfiltered_first",
        "last page by a list / unfiltered first",
        "a list's last page/first",
        BOTH,
    ),
    # SQLite has no trigram index: it scans.
    Ratio(
        "listing",
        "search_first_over_unfiltered_first",
        "first page of a rare search / unfiltered first",
        'search "1234"/first',
        {"postgresql": SEARCH_MAX},
    ),
    Ratio(
        "shapes",
        "worst_ratio",
        "worst listing shape / plain first",
        "worst listing shape/first",
        {"sqlite": SHAPE_MAX, "postgresql": SHAPE_MAX},
    ),
    Ratio(
        "listing",
        "search_common_word_first_over_unfiltered_first",
        "first page of a search with a word in every name / unfiltered first",
        'search "gift 1234"/first',
        {},
    ),
)


@dataclass(frozen=True)
class Figure:
    """A feature's figure of results["features"]: a ratio, lower is better."""

    group: str  # surprises, flood, occasions
    check: str  # its name in the checks (with the database)
    label: str  # its name on the chart
    value: float | None
    target: float | None  # the most it may be; None: reported only
    detail: str  # the times behind the ratio


def _size(gifts: int) -> str:
    return big_label(gifts) if gifts >= 150_000 else f"{gifts:,}".replace(",", " ")


def feature_figures(results: dict[str, Any]) -> list[Figure]:
    """Every feature figure of a run, in the order the report and chart show."""
    features = results.get("features", {})
    figures = []
    for run in features.get("surprises", {}).values():
        size, db = _size(run["gifts"]), run["database"]
        for label, x in run["requests"].items():
            target = PAGE_COST_MAX if label in SURPRISE_PAGES else None
            figures.append(
                Figure(
                    "surprises",
                    f"{db} surprises at {size} gifts: {label}, linked/unlinked",
                    f"{label}, {size}",
                    x["ratio"],
                    target,
                    f"{x['linked_ms']:.2f} / {x['unlinked_ms']:.2f} ms",
                )
            )
    flood = features.get("flood", {}).get("cases", {}).get("bounded")
    if flood:
        quiet = flood["quiet"]["p50_ms"]
        for pct in ("p50", "p99"):
            figures.append(
                Figure(
                    "flood",
                    f"sqlite sign-in flood: reader {pct} flood/p50 quiet",
                    f"reader {pct} in a flood",
                    flood[f"{pct}_ratio"],
                    None,
                    f"{flood['flood'][f'{pct}_ms']:.2f} / {quiet:.2f} ms",
                )
            )
    occasion = features.get("occasions")
    if occasion:
        size, db = _size(occasion["gifts"]), occasion["database"]
        plain = occasion["plain_first"]["median_ms"]
        for key, label in (
            ("budget_view", "budget view"),
            ("occasion_first", "first page by occasion"),
        ):
            figures.append(
                Figure(
                    "occasions",
                    f"{db} occasions at {size} gifts: {label}/plain first",
                    f"{label}, {size}",
                    occasion.get(f"{key}_over_plain_first"),
                    OCCASION_MAX,
                    f"{occasion[key]['median_ms']:.2f} / {plain:.2f} ms",
                )
            )
    return figures


def throughput_target(key: str, dialect: str) -> float | None:
    return THROUGHPUT_TARGETS.get(key, {}).get(dialect)


def ratio_value(scaling: dict[str, Any], ratio: Ratio) -> float | None:
    """The figure in one database's scaling results (None if not measured)."""
    return scaling.get(ratio.section, {}).get(ratio.key)


def add_ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Throughput ratios to the ceiling, and every target as a pass/fail line."""
    checks: list[dict[str, Any]] = []
    for dialect, service in results["databases"].items():
        if "endpoints" not in service:
            continue
        ceiling_rps = service["ceiling"]["rps"]
        ceiling_cpu = service["ceiling"]["cpu_ms_per_request"]["server"]
        for key, endpoint in service["endpoints"].items():
            endpoint["ratio_to_ceiling"] = round(endpoint["rps"] / ceiling_rps, 3)
            cpu = endpoint["cpu_ms_per_request"]
            endpoint["cpu_ratio_to_ceiling"] = round(
                ceiling_cpu / max(cpu["server"] + cpu["db"], 1e-9), 3
            )
            target = throughput_target(key, dialect)
            endpoint["target_ratio"] = target
            name = f"{dialect} {endpoint['title']}"
            if target is not None:
                checks.append(
                    check(
                        f"{name} x ceiling", endpoint["ratio_to_ceiling"], ">=", target
                    )
                )
            checks.append(
                check(f"{name} p99/p50", endpoint["p99_over_p50"], "<=", TAIL_MAX)
            )
            errors = endpoint["non_2xx"] + endpoint["socket_errors"]
            checks.append(check(f"{name} non-2xx", errors, "<=", 0))
    big = big_label(results["settings"]["scale_rows"][-1])
    for dialect, scaling in results["scaling"].items():
        for ratio in SCALING_RATIOS:
            target = ratio.targets.get(dialect)
            if target is not None:
                name = f"{dialect} {ratio.check.format(big=big)}"
                value = ratio_value(scaling, ratio)
                checks.append(check(name, value, "<=", target))
    for dialect, scaling in results["scaling"].items():
        for name, shape in scaling.get("shapes", {}).get("shapes", {}).items():
            checks.append(
                check(
                    f"{dialect} shape at {big}: {name} / plain first",
                    shape["ratio"],
                    "<=",
                    SHAPE_MAX,
                )
            )
    for figure in feature_figures(results):
        if figure.target is not None:
            checks.append(check(figure.check, figure.value, "<=", figure.target))
    return checks


def check(name: str, value: float | None, op: str, target: float) -> dict[str, Any]:
    """One target as the results hold it; a figure not measured misses."""
    if value is None:
        ok = False
    else:
        ok = value >= target if op == ">=" else value <= target
    return {"check": name, "value": value, "target": f"{op} {target}", "ok": ok}


def invalid_run(checks: list[dict[str, Any]]) -> bool:
    """A run with any non-2xx answer or socket error measured the wrong thing."""
    return any(c["check"].endswith("non-2xx") and not c["ok"] for c in checks)

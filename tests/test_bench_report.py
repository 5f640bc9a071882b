"""The bench's report and chart on a made-up run (no server, no timing).

The run below has five misses planted by hand: PATCH from_santa on
PostgreSQL at 0.30 of the ceiling (target 0.35), POST a gift on SQLite with
p99 6 x p50 (at most 5), PostgreSQL's rare search at 4 x the unfiltered
first page (at most 3), a linked member's page 20 deep at 1.45 x an unlinked
parent's at 1M gifts (at most 1.3) and an occasion's budget view at 3.4 x the
plain first page (at most 3). Everything else meets its target; the
surprises' summary and the sign-in flood have none.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.chart import chart, draw, title
from bench.report import markdown, names_holding
from bench.targets import add_ratios, invalid_run

TITLES = {
    "get_one": "GET one gift",
    "get_page": "GET a page of 50",
    "get_page_person": "GET a page of 50 for a person",
    "summary": "GET the summary",
    "patch_santa": "PATCH from_santa",
    "bulk_patch": "PATCH 50 gifts (bulk)",
    "post": "POST a gift",
}
CEILING_RPS = 5000.0
# req/s of each endpoint; the ratio to the ceiling is rps / 5000
RPS = {
    "sqlite": {"get_one": 3200, "get_page": 1400, "patch_santa": 2200, "post": 1500},
    "postgresql": {
        "get_one": 2500,
        "get_page": 1200,
        "patch_santa": 1500,
        "post": 1100,
    },
}
MISSES = {
    "postgresql PATCH from_santa x ceiling",
    "sqlite POST a gift p99/p50",
    "postgresql first page of a rare search / unfiltered first",
    "postgresql surprises at 1M gifts: page 20 deep, linked/unlinked",
    "postgresql occasions at 1M gifts: budget view/plain first",
    "postgresql shape at 1M: person+list (none), name / plain first",
    "postgresql worst listing shape / plain first",
}


def endpoint(title: str, rps: float, tail: float = 1.5) -> dict[str, Any]:
    return {
        "title": title,
        "requests": int(rps * 10),
        "rps": rps,
        "p50_ms": 4.0,
        "p99_ms": 4.0 * tail,
        "p99_over_p50": tail,
        "non_2xx": 0,
        "socket_errors": 0,
        "cpu_ms_per_request": {"server": 0.5, "db": 0.1, "wrk": 0.05},
        "cpu_share": {"server": 0.6, "db": 0.1, "wrk": 0.2, "other": 0.02},
    }


def service(dialect: str) -> dict[str, Any]:
    ceiling = endpoint("ceiling (fixed JSON)", CEILING_RPS)
    ceiling["cpu_ms_per_request"] = {"server": 0.3, "db": 0.0, "wrk": 0.05}
    memory = {"workers": 2, "worker_vmhwm_mib": [70.0, 71.0]}
    ceiling["memory"] = {**memory, "worker_vmhwm_max_mib": 71.0}
    ceiling["body_bytes"] = 394
    endpoints = {
        key: endpoint(title, RPS[dialect].get(key, 400))
        for key, title in TITLES.items()
    }
    if dialect == "sqlite":
        endpoints["post"]["p99_over_p50"] = 6.0
    return {
        "ceiling": ceiling,
        "endpoints": endpoints,
        "memory": {**memory, "worker_vmhwm_max_mib": 71.0},
        "sync_workers": {
            key: endpoint(TITLES[key], 1000) for key in ("get_one", "patch_santa")
        },
    }


def shapes(worst: float) -> dict[str, Any]:
    """bench/shapes.py's figures: two shapes, the second at ``worst``."""
    ratios = {"list_ids many, recent": 1.4, "person+list (none), name": worst}
    return {
        "plain_first_ms": 2.0,
        "rounds": 10,
        "seconds": 30.0,
        "skipped": [],
        "over_target": sum(r > 3 for r in ratios.values()),
        "worst_ratio": worst,
        "shapes": {
            name: {"member": "viewer", "path": "/api/v1/gifts?limit=50",
                   "median_ms": 2.0 * r, "ratio": r}
            for name, r in ratios.items()
        },
    }  # fmt: skip


def scaling(search: float, downgrade: float, worst: float) -> dict[str, Any]:
    page = {"median_ms": 1.2, "path": "/api/v1/gifts?limit=50"}
    listing: dict[str, Any] = {
        name: page
        for name in (
            "recent_first",
            "recent_last",
            "price_asc_first",
            "price_asc_end_of_priced",
            "price_asc_last",
            "list_first",
            "list_last",
            "search_first",
            "search_common_word_first",
        )
    }
    listing.update(
        recent_last_over_first=1.05,
        price_asc_last_over_first=0.98,
        price_asc_end_of_priced_over_first=1.2,
        list_first_over_unfiltered_first=1.2,
        list_last_over_unfiltered_first=1.3,
        search_first_over_unfiltered_first=search,
        search_common_word_first_over_unfiltered_first=40.0,
    )
    rows = {"upgrade_ms": 4.0, "downgrade_ms": 4.0}
    return {
        "migration": {
            "1000": rows,
            "1000000": rows,
            "upgrade_ratio": 1.2,
            "downgrade_ratio": downgrade,
        },
        "listing": listing,
        "shapes": shapes(worst),
    }


def surprises(gifts: int, deep: float) -> dict[str, Any]:
    ratios = {"first page of 50": 1.1, "page 20 deep": deep, "person 2's gifts": 1.0,
              "purchased ones": 1.2, "summary": 2.2}  # fmt: skip
    return {
        "database": "postgresql",
        "gifts": gifts,
        "rounds": 7,
        "calls": 40,
        "requests": {
            label: {"unlinked_ms": 2.0, "linked_ms": 2.0 * r, "ratio": r}
            for label, r in ratios.items()
        },
    }


def features() -> dict[str, Any]:
    reads = {"reads": 300, "p50_ms": 2.0, "p99_ms": 9.0}
    return {
        "surprises": {
            "10000": surprises(10_000, deep=1.05),
            "1000000": surprises(1_000_000, deep=1.45),
        },
        "flood": {
            "cases": {
                "bounded": {
                    "quiet": reads,
                    "flood": {"reads": 280, "p50_ms": 13.6, "p99_ms": 80.0},
                    "p50_ratio": 6.8,
                    "p99_ratio": 40.0,
                }
            }
        },
        "occasions": {
            "database": "postgresql",
            "gifts": 1_000_000,
            "budget_view": {"median_ms": 6.8},
            "occasion_first": {"median_ms": 4.0},
            "plain_first": {"median_ms": 2.0},
            "budget_view_over_plain_first": 3.4,
            "occasion_first_over_plain_first": 2.0,
        },
    }


def made_up_run() -> dict[str, Any]:
    run: dict[str, Any] = {
        "generated_at": "2026-11-26T10:45:13+00:00",
        "command": "make bench  # .venv/bin/python -m bench",
        "machine": {
            "nproc": 2,
            "cpu": "AMD EPYC",
            "kernel": "6.1",
            "python": "3.11.7",
            "sqlite": "3.40.1",
            "postgresql": "15.20",
            "gunicorn": "27.0.1",
            "wrk": "wrk 4.1.0",
            "workers": 2,
            "setup": "2 BoundedThreadWorker workers x 8 threads",
        },
        "code": {"commit": "abc1234", "uncommitted_changes": []},
        "settings": {
            "duration_s": 10,
            "warmup_s": 2,
            "connections": 16,
            "threads": 2,
            "gifts": 10_000,
            "scale_rows": [1_000, 1_000_000],
            "repeats": 5,
            "env": {},
        },
        "databases": {"sqlite": service("sqlite"), "postgresql": service("postgresql")},
        "scaling": {
            "sqlite": scaling(search=36.0, downgrade=64.0, worst=2.9),
            "postgresql": scaling(search=4.0, downgrade=1.2, worst=6.5),
        },
        "features": features(),
    }
    run["checks"] = add_ratios(run)
    return run


@pytest.fixture
def results() -> dict[str, Any]:
    return made_up_run()


def test_every_target_is_a_check_and_the_planted_misses_fail(results):
    checks = {c["check"]: c for c in results["checks"]}
    # 4 throughput targets, 7 tails and 7 error counts per database; 5 scaling
    # targets on SQLite and 7 on PostgreSQL (its downgrade and search too);
    # 4 pages of the surprises at each of 2 sizes, 2 of the occasions; per
    # database the worst listing shape and each of its 2 shapes.
    assert len(checks) == 2 * (4 + 7 + 7) + 5 + 7 + 2 * 4 + 2 + 2 * (1 + 2)
    assert {name for name, c in checks.items() if not c["ok"]} == MISSES
    assert checks["sqlite GET one gift x ceiling"]["value"] == 0.64
    assert checks["sqlite migration 0002 upgrade 1M/1k"]["ok"]
    # SQLite rebuilds the table to drop a column: no target, so no check.
    assert "sqlite migration 0002 downgrade 1M/1k" not in checks
    assert not invalid_run(results["checks"])


def test_an_error_answer_makes_the_run_invalid(results):
    run = copy.deepcopy(results)
    run["databases"]["sqlite"]["endpoints"]["summary"]["non_2xx"] = 3
    assert invalid_run(add_ratios(run))


def test_the_markdown_marks_the_misses_and_counts_them(results):
    text = markdown(results)
    lines = text.splitlines()
    patch_pg = next(x for x in lines if x.startswith("| PATCH from_santa | PostgreSQL"))
    assert "| 0.30 | ≥ 0.35 ❌ |" in patch_pg
    get_one = next(x for x in lines if x.startswith("| GET one gift | SQLite"))
    assert "| 0.64 | ≥ 0.60 ✅ |" in get_one
    post = next(x for x in lines if x.startswith("| POST a gift | SQLite"))
    assert "| 6.0 ❌ |" in post
    assert "Targets: 57 of 64 met. Missed: " in text
    for name in MISSES:
        assert name in lines[-1]
    assert '| search "1234" (300 of 1M): first page |' in text
    assert "10 000 gifts" in text
    assert "quick run" not in text.lower()


def test_the_shapes_table_sets_the_databases_side_by_side(results):
    lines = markdown(results).splitlines()
    head = next(x for x in lines if x.startswith("| listing shape / plain first"))
    assert head == (
        "| listing shape / plain first page (target <= 3) | SQLite | PostgreSQL |"
    )
    assert "| shapes over the target | 0 of 2 | 1 of 2 |" in lines
    assert "| person+list (none), name | 2.90 | 6.50 ❌ |" in lines
    assert "| list_ids many, recent | 1.40 | 1.40 |" in lines


def test_the_shapes_counts_stay_in_view_and_the_long_table_folds_away(results):
    lines = markdown(results).splitlines()
    counts = "SQLite 0 of 2, PostgreSQL 1 of 2"
    assert f"Listing shapes over 3× the plain first page: {counts}." in lines
    opened = next(i for i, x in enumerate(lines) if x.startswith("<details>"))
    closed = lines.index("</details>")
    inside = lines[opened:closed]
    assert any(x.startswith("| listing shape / plain first") for x in inside)
    assert "| person+list (none), name | 2.90 | 6.50 ❌ |" in inside
    # Markdown inside an HTML block needs a blank line on each side of the table.
    assert lines[opened + 1] == "" and lines[closed - 1] == ""


def test_the_feature_tables_mark_their_targets(results):
    lines = markdown(results).splitlines()

    def row(start: str) -> str:
        return next(x for x in lines if x.startswith(f"| {start}"))

    deep = "postgresql surprises at 1M gifts: page 20 deep, linked/unlinked"
    assert row(deep).endswith("| 2.90 / 2.00 ms | 1.45 | ≤ 1.3 ❌ |")
    first = "postgresql surprises at 10 000 gifts: first page of 50, linked/unlinked"
    assert row(first).endswith("| 1.10 | ≤ 1.3 ✅ |")
    summary = "postgresql surprises at 1M gifts: summary, linked/unlinked"
    assert row(summary).endswith("| 2.20 |  |")  # no target, no mark
    flood = row("sqlite sign-in flood: reader p99 flood/p50 quiet")
    assert flood.endswith("| 80.00 / 2.00 ms | 40.00 |  |")
    budget = row("postgresql occasions at 1M gifts: budget view/plain first")
    assert budget.endswith("| 6.80 / 2.00 ms | 3.40 | ≤ 3 ❌ |")
    by_occasion = row("postgresql occasions at 1M gifts: first page by occasion")
    assert by_occasion.endswith("| 2.00 | ≤ 3 ✅ |")


def test_a_run_without_features_has_no_feature_tables(results):
    del results["features"]
    results["checks"] = add_ratios(results)
    text = markdown(results)
    assert "surprise rule" not in text
    assert "occasions" not in text
    assert "Targets: 49 of 54 met." in text


def test_a_quick_run_says_it_measures_nothing(results):
    results["settings"]["quick"] = True
    assert "measure nothing" in markdown(results)
    assert "QUICK RUN" in title(results)


def test_the_search_counts_are_those_of_the_seeded_names():
    assert names_holding("1234", 1_000_000) == 300
    assert names_holding("gift 1234", 1_000_000) == 111
    assert names_holding("1234", 150_000) >= 50  # a full page at BENCH_QUICK's scale


def test_the_chart_names_commit_and_date_and_marks_each_miss(results, tmp_path):
    assert title(results).startswith(
        "Gifts API bench — commit abc1234, 2026-11-26 10:45 UTC"
    )
    path = tmp_path / "latest.png"
    assert chart(results, path) is None
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # The chart shows each database's worst listing shape, not every shape.
    shape = "postgresql shape at 1M: person+list (none), name / plain first"
    assert set(draw(results, tmp_path / "again.png")) == MISSES - {shape}

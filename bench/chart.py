"""The chart (latest.png): one picture of a run's results that explains itself.

Top left, throughput of each endpoint as a ratio to the ceiling (higher is
better); top right, its latency tail p99/p50 (lower is better); below, the
scaling ratios of the big table (lower is better); at the bottom, the feature
figures (bench.features: surprises, flood, occasions; lower is better). Every
target is drawn as a
red dashed line, every missed one is marked with a red cross; the title names
the commit and the date the run measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.settings import big_label
from bench.targets import SCALING_RATIOS, TAIL_MAX, feature_figures, ratio_value

COLOURS = {"sqlite": "#4C72B0", "postgresql": "#55A868"}
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TARGET = "#C44E52"


def chart(results: dict[str, Any], path: Path) -> str | None:
    """Draw ``results`` into ``path`` (PNG); a reason instead if it cannot."""
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no chart (pip install matplotlib)"
    matplotlib.use("Agg")
    draw(results, path)
    return None


def draw(results: dict[str, Any], path: Path) -> list[str]:
    """The chart into ``path``; the misses it marked, named as the checks are."""
    import matplotlib.pyplot as plt

    services = {d: s for d, s in results["databases"].items() if "endpoints" in s}
    features = feature_figures(results)
    rows = (1, 1.1, 1.1) if features else (1, 1.1)
    figure = plt.figure(figsize=(15, 10.5 + 5 * bool(features)))
    grid = figure.add_gridspec(len(rows), 2, width_ratios=(3, 2), height_ratios=rows)
    try:
        marked = _throughput(figure.add_subplot(grid[0, 0]), services)
        marked += _tails(figure.add_subplot(grid[0, 1]), services)
        marked += _scaling(figure.add_subplot(grid[1, :]), results)
        if features:
            marked += _features(figure.add_subplot(grid[2, :]), features)
        figure.suptitle(title(results), fontsize=11)
        figure.tight_layout(rect=(0, 0, 1, 0.97))
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return marked


def title(results: dict[str, Any]) -> str:
    """Commit and date first; then the machine and the load."""
    code, m, s = results["code"], results["machine"], results["settings"]
    local = " with local changes" if code["uncommitted_changes"] else ""
    when = results["generated_at"].replace("T", " ")[:16]
    lines = [
        f"Gifts API bench — commit {code['commit']}{local}, {when} UTC",
        f"{m['nproc']} cores ({m['cpu']}), gunicorn {m.get('setup', m['workers'])};"
        f" wrk -t{s['threads']} -c{s['connections']} on the same cores,"
        f" {s['duration_s']} s a case",
    ]
    if s.get("quick"):
        lines.append(
            "QUICK RUN (BENCH_QUICK=1): proves the bench works, measures nothing"
        )
    return "\n".join(lines)


def _group_x(position: int, index: int, count: int, width: float) -> float:
    return position + (index - (count - 1) / 2) * width


def _value(axes: Any, x: float, y: float, text: str) -> None:
    """A bar's figure just over it, legible across a target line."""
    axes.annotate(
        text,
        (x, y),
        xytext=(0, 2),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=7,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.4, "alpha": 0.85},
        zorder=4,
    )


def _target(
    axes: Any, x: float, width: float, target: float, first: bool, bound: str
) -> None:
    axes.hlines(
        target,
        x - width / 2,
        x + width / 2,
        colors=TARGET,
        linestyles="--",
        linewidth=2,
        label=f"target: {bound}" if first else None,
    )


def _miss(axes: Any, x: float, y: float, first: bool) -> None:
    """A red cross over a bar that missed its target, clear of its figure."""
    from matplotlib.transforms import offset_copy

    axes.plot(
        x,
        y,
        transform=offset_copy(axes.transData, axes.figure, y=20, units="points"),
        marker="X",
        color=TARGET,
        markersize=11,
        linestyle="none",
        label="missed target" if first else None,
        zorder=5,
    )


class _Once:
    """True the first time each legend entry is drawn, False after."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, name: str) -> bool:
        first = name not in self.seen
        self.seen.add(name)
        return first


def _throughput(axes: Any, services: dict[str, Any]) -> list[str]:
    once, width, marked = _Once(), 0.8 / max(len(services), 1), []
    titles: dict[str, str] = {}
    top = 1.0
    for index, (dialect, service) in enumerate(services.items()):
        for position, (key, endpoint) in enumerate(service["endpoints"].items()):
            titles.setdefault(key, endpoint["title"])
            x = _group_x(position, index, len(services), width)
            ratio, target = endpoint["ratio_to_ceiling"], endpoint["target_ratio"]
            top = max(top, ratio, endpoint["cpu_ratio_to_ceiling"])
            axes.bar(
                x,
                ratio,
                width * 0.95,
                color=COLOURS[dialect],
                label=NAMES[dialect] if once(dialect) else None,
            )
            _value(axes, x, ratio, f"{ratio:.2f}")
            axes.plot(
                x,
                endpoint["cpu_ratio_to_ceiling"],
                marker="D",
                color="black",
                markersize=4,
                linestyle="none",
                label="CPU-time ratio (ceiling's CPU/request ÷ this one's)"
                if once("cpu")
                else None,
            )
            if target is not None:
                _target(axes, x, width, target, once("target"), "at least")
                if ratio < target:
                    _miss(axes, x, max(ratio, target), once("miss"))
                    marked.append(f"{dialect} {endpoint['title']} x ceiling")
    axes.set_xticks(range(len(titles)))
    axes.set_xticklabels(list(titles.values()), rotation=15, fontsize=8)
    axes.set_xlabel("endpoint")
    axes.set_ylabel("req/s ÷ ceiling's req/s  (higher is better ↑)")
    ceilings = ", ".join(
        f"{NAMES[d]} run {x['ceiling']['rps']:.0f} req/s" for d, x in services.items()
    )
    axes.set_title(
        "Throughput against the ceiling, a fixed-JSON Flask app (1.0)"
        + (f"\nceiling: {ceilings}" if ceilings else ": not measured"),
        fontsize=10,
    )
    axes.set_ylim(0, top * 1.15)
    axes.legend(fontsize=8, loc="upper right")
    return marked


def _tails(axes: Any, services: dict[str, Any]) -> list[str]:
    once, width, marked = _Once(), 0.8 / max(len(services), 1), []
    titles: dict[str, str] = {}
    top = TAIL_MAX
    for index, (dialect, service) in enumerate(services.items()):
        for position, (key, endpoint) in enumerate(service["endpoints"].items()):
            titles.setdefault(key, endpoint["title"])
            x = _group_x(position, index, len(services), width)
            tail = endpoint["p99_over_p50"]
            top = max(top, tail)
            axes.bar(
                x,
                tail,
                width * 0.95,
                color=COLOURS[dialect],
                label=NAMES[dialect] if once(dialect) else None,
            )
            _value(axes, x, tail, f"{tail:.1f}")
            if tail > TAIL_MAX:
                _miss(axes, x, tail, once("miss"))
                marked.append(f"{dialect} {endpoint['title']} p99/p50")
    axes.axhline(
        TAIL_MAX, color=TARGET, linestyle="--", label=f"target: at most {TAIL_MAX:g}"
    )
    axes.set_xticks(range(len(titles)))
    axes.set_xticklabels(list(titles.values()), rotation=35, ha="right", fontsize=7)
    axes.set_xlabel("endpoint")
    axes.set_ylabel("p99 ÷ p50 latency  (lower is better ↓)")
    axes.set_title("Latency tail: 99th percentile over the median", fontsize=10)
    axes.set_ylim(0, top * 1.3)
    axes.legend(fontsize=8, loc="best")
    return marked


def _scaling(axes: Any, results: dict[str, Any]) -> list[str]:
    import matplotlib.ticker
    from matplotlib.patches import Patch

    scaling = results["scaling"]
    big = big_label(results["settings"]["scale_rows"][-1])
    once, width, marked = _Once(), 0.8 / max(len(scaling), 1), []
    for index, (dialect, figures) in enumerate(scaling.items()):
        for position, ratio in enumerate(SCALING_RATIOS):
            value = ratio_value(figures, ratio)
            if value is None:
                continue
            x = _group_x(position, index, len(scaling), width)
            target = ratio.targets.get(dialect)
            axes.bar(
                x,
                value,
                width * 0.95,
                color=COLOURS[dialect],
                alpha=1.0 if target is not None else 0.45,
                hatch=None if target is not None else "//",
                label=NAMES[dialect] if once(dialect) else None,
            )
            _value(axes, x, value, f"{value:g}")
            if target is None:
                once("none")
                continue
            _target(axes, x, width, target, once("target"), "at most")
            if value > target:
                _miss(axes, x, value, once("miss"))
                marked.append(f"{dialect} {ratio.check.format(big=big)}")
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    axes.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xticks(range(len(SCALING_RATIOS)))
    axes.set_xticklabels(
        [r.label.format(big=big) for r in SCALING_RATIOS], rotation=10, fontsize=8
    )
    axes.set_xlabel(
        f"figure at {big} gifts: migration 0002 at {big} rows over 1k rows; "
        "a page of 50 over the unfiltered (or its own) first page"
    )
    axes.set_ylabel("time ÷ baseline time, log scale  (lower is better ↓)")
    axes.set_title(
        f"Scaling: the same work on a {big}-gift table (1 = as fast as the baseline)",
        fontsize=10,
    )
    low, high = axes.get_ylim()
    axes.set_ylim(min(low, 0.5), high * 3)
    handles, _ = axes.get_legend_handles_labels()
    if "none" in once.seen:
        handles.append(
            Patch(facecolor="white", edgecolor="grey", hatch="//", label="no target")
        )
    axes.legend(handles=handles, fontsize=8, loc="upper left")
    return marked


GROUPS = {"surprises": "#8172B2", "flood": "#CCB974", "occasions": "#64B5CD"}
TITLES = {
    "surprises": "a linked member's request ÷ an unlinked parent's (surprises)",
    "flood": "a reader's latency in a sign-in flood ÷ its quiet p50 (flood)",
    "occasions": "an occasion's view ÷ the plain first page (occasions)",
}


def _features(axes: Any, figures: list[Any]) -> list[str]:
    """Each feature figure a bar (a ratio, lower is better), its target dashed."""
    import matplotlib.ticker
    from matplotlib.patches import Patch

    once, marked, top = _Once(), [], 1.0
    for x, f in enumerate(figures):
        if f.value is None:
            continue
        top = max(top, f.value, f.target or 0)
        axes.bar(
            x,
            f.value,
            0.7,
            color=GROUPS[f.group],
            alpha=1.0 if f.target is not None else 0.45,
            hatch=None if f.target is not None else "//",
            label=f.group if once(f.group) else None,
        )
        _value(axes, x, f.value, f"{f.value:.2f}")
        if f.target is None:
            once("none")
            continue
        _target(axes, x, 0.8, f.target, once("target"), "at most")
        if f.value > f.target:
            _miss(axes, x, f.value, once("miss"))
            marked.append(f.check)
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xticks(range(len(figures)))
    axes.set_xticklabels(
        [f.label for f in figures], rotation=20, ha="right", fontsize=7
    )
    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    axes.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_ylabel("ratio, log scale  (lower is better ↓)")
    shown = [text for group, text in TITLES.items() if group in once.seen]
    axes.set_title("Features: " + "; ".join(shown), fontsize=9)
    axes.set_ylim(0.5, top * 3)
    handles, _ = axes.get_legend_handles_labels()
    if "none" in once.seen:
        handles.append(
            Patch(facecolor="white", edgecolor="grey", hatch="//", label="no target")
        )
    axes.legend(handles=handles, fontsize=8, loc="upper left")
    return marked

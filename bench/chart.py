"""The chart: latest.png, drawn from a run's results."""

from __future__ import annotations

from pathlib import Path

from bench.settings import big_label
from bench.targets import SCALING_MAX


def chart(results: dict, path: Path) -> str | None:
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed: no chart (pip install matplotlib)"
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    services = {d: s for d, s in results["databases"].items() if "endpoints" in s}
    colours = {"sqlite": "#4C72B0", "postgresql": "#55A868"}
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]}
    )
    width = 0.8 / max(len(services), 1)
    for index, (dialect, service) in enumerate(services.items()):
        for position, endpoint in enumerate(service["endpoints"].values()):
            x = position + (index - (len(services) - 1) / 2) * width
            left.bar(
                x,
                endpoint["ratio_to_ceiling"],
                width * 0.95,
                color=colours[dialect],
                label=names[dialect] if position == 0 else None,
            )
            left.plot(
                x,
                endpoint["cpu_ratio_to_ceiling"],
                marker="D",
                color="black",
                markersize=4,
                linestyle="none",
                label="CPU-time ratio" if (index, position) == (0, 0) else None,
            )
            left.text(
                x,
                endpoint["ratio_to_ceiling"] + 0.01,
                f"{endpoint['ratio_to_ceiling']:.2f}",
                ha="center",
                va="bottom",
                fontsize=7,
            )
            if endpoint["target_ratio"] is not None:
                left.hlines(
                    endpoint["target_ratio"],
                    x - width / 2,
                    x + width / 2,
                    colors="#C44E52",
                    linestyles="--",
                    linewidth=2,
                    label="target" if (index, position) == (0, 0) else None,
                )
    titles = [e["title"] for e in next(iter(services.values()))["endpoints"].values()]
    left.set_xticks(range(len(titles)))
    left.set_xticklabels(titles, rotation=15, fontsize=8)
    left.set_ylabel("throughput / ceiling (fixed-JSON Flask app)")
    ceilings = ", ".join(
        f"{names[d]} run {x['ceiling']['rps']:.0f}" for d, x in services.items()
    )
    left.set_title(f"req/s ÷ ceiling req/s ({ceilings})", fontsize=10)  # noqa: E501
    left.set_ylim(0, 1.05)
    left.legend(fontsize=8)

    labels, values, bar_colours = [], [], []
    for dialect, scaling in results["scaling"].items():
        short = "PG" if dialect == "postgresql" else "SQLite"
        for label, value in (
            ("0002 up", scaling["migration"]["upgrade_ratio"]),
            (
                "0002 down" + (" (no target)" if dialect == "sqlite" else ""),
                scaling["migration"]["downgrade_ratio"],
            ),
            ("last page recent", scaling["listing"]["recent_last_over_first"]),
            ("last page price", scaling["listing"]["price_asc_last_over_first"]),
            ("by list first", scaling["listing"]["list_first_over_unfiltered_first"]),
            ("by list last", scaling["listing"]["list_last_over_unfiltered_first"]),
            (
                "search" + (" (no target)" if dialect == "sqlite" else " (≤ 3)"),
                scaling["listing"]["search_first_over_unfiltered_first"],
            ),
        ):
            labels.append(f"{short} {label}")
            values.append(value)
            bar_colours.append(colours[dialect])
    right.bar(range(len(values)), values, color=bar_colours)
    for x, value in enumerate(values):
        right.text(x, value, f"{value:g}", ha="center", va="bottom", fontsize=7)
    right.axhline(SCALING_MAX, color="#C44E52", linestyle="--", label="target ≤ 1.5")
    right.set_yscale("log")
    right.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    right.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xticks(range(len(values)))
    right.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    big = big_label(results["settings"]["scale_rows"][-1])
    right.set_title(
        f"{big} rows over 1k (migration 0002), last page over first", fontsize=10
    )
    right.legend(fontsize=8)
    m = results["machine"]
    figure.suptitle(
        f"Gifts API bench — {m['nproc']} cores {m['cpu']}, {m['workers']} workers,"
        f" wrk -t{results['settings']['threads']}"
        f" -c{results['settings']['connections']}"
        " on the same cores",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None

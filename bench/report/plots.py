"""The report's PNG plots (matplotlib, the ``bench`` extra): latency percentiles over the
offered load of each scenario, and throughput with 1 and 2 API processes."""

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from bench.report.processes import ProcessRow
from bench.scheduling.reports import Report


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower().split(" (")[0].split(":")[0]).strip("-")


def latency_plot(report: Report, directory: Path) -> Path | None:
    """p50, p95 and p99 (log scale) at each offered rate of ``report``'s open-loop rows."""
    rows = [row for row in report.rows if row.stats.load.endswith("req/s")]
    if not rows:
        return None
    rates = [float(row.stats.load.split()[0]) for row in rows]
    figure, axes = plt.subplots(figsize=(6, 3.6))
    for fraction, style in ((0.50, "o-"), (0.95, "s--"), (0.99, "^-")):
        values = [row.stats.percentile(fraction) for row in rows]
        axes.plot(rates, values, style, label=f"p{round(fraction * 100)}")
    axes.axhline(report.target.p99_ms, color="grey", linewidth=0.8, linestyle=":")
    axes.set_yscale("log")
    axes.set_xlabel("offered load (requests/s)")
    axes.set_ylabel("latency (ms)")
    axes.set_title(report.title.split(" (")[0], fontsize=10)
    axes.legend(fontsize=8)
    axes.grid(True, which="both", alpha=0.3)
    path = directory / f"latency-{slug(report.title)}.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def processes_plot(rows: Sequence[ProcessRow], directory: Path) -> Path | None:
    if not rows:
        return None
    scenarios = sorted({row.scenario for row in rows})
    counts = sorted({row.processes for row in rows})
    figure, axes = plt.subplots(figsize=(6, 3.6))
    width = 0.8 / len(counts)
    for offset, count in enumerate(counts):
        values = [
            next((r.ok_per_s for r in rows if r.scenario == s and r.processes == count), 0.0)
            for s in scenarios
        ]
        positions = [i + offset * width for i in range(len(scenarios))]
        axes.bar(positions, values, width, label=f"{count} process" + "es" * (count > 1))
    axes.set_xticks([i + width * (len(counts) - 1) / 2 for i in range(len(scenarios))])
    axes.set_xticklabels(scenarios)
    axes.set_ylabel("answered OK per second")
    axes.set_title("Throughput with 1 and 2 API processes (closed loop)", fontsize=10)
    axes.legend(fontsize=8)
    path = directory / "throughput-processes.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path

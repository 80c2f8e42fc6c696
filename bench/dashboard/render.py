"""The dashboard's panels drawn with matplotlib: each panel's targets evaluated, like
Grafana would, at every second of the run from the scrapes."""

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from bench.dashboard.promql import Scrapes, compile_expr

_UNITS = {
    "reqps": ("req/s", 1.0),
    "s": ("ms", 1000.0),
    "percentunit": ("%", 100.0),
    "short": ("", 1.0),
}


def legend(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m[1], ""), template).strip()


def panel_series(
    panel: dict[str, Any], scrapes: Scrapes, times: Sequence[float], window_s: float
) -> dict[str, list[float]]:
    """Each target's series by legend, NaN where the query returned nothing."""
    series: dict[str, list[float]] = {}
    for target in panel["targets"]:
        evaluate = compile_expr(target["expr"])
        for index, at in enumerate(times):
            for labels, value in evaluate(scrapes, at, window_s).items():
                name = legend(target.get("legendFormat", ""), dict(labels)) or target["refId"]
                series.setdefault(name, [math.nan] * len(times))[index] = value
    return series


def draw(
    dashboard: dict[str, Any],
    scrapes: Scrapes,
    times: Sequence[float],
    window_s: float,
    *,
    marks: Sequence[tuple[float, float, str]],
    steps: Sequence[tuple[float, str]],
    title: str,
    path: Path,
) -> None:
    """``marks``: (from, to, what) spans shaded on every panel; ``steps``: (when, what)
    dashed lines, the load's changes."""
    panels = sorted(dashboard["panels"], key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"]))
    rows = math.ceil(len(panels) / 2)
    figure, axes = plt.subplots(rows, 2, figsize=(17, 3.3 * rows), sharex=True, squeeze=False)
    figure.patch.set_facecolor("#181b1f")
    for axis, panel in zip(axes.flat, panels, strict=False):
        unit, scale = _UNITS.get(panel["fieldConfig"]["defaults"].get("unit", "short"), ("", 1.0))
        series = panel_series(panel, scrapes, times, window_s)
        _style(axis, panel["title"], unit)
        ordered = sorted(series.items(), key=lambda kv: -_mean(kv[1]))
        for name, values in ordered:
            axis.plot(times, [v * scale for v in values], linewidth=1.4, label=name)
        for began, ended, what in marks:
            axis.axvspan(began, ended, color="#f2495c", alpha=0.12, linewidth=0)
            axis.text(
                began,
                0.97,
                f" {what}",
                transform=axis.get_xaxis_transform(),
                color="#f2495c",
                fontsize=7,
                va="top",
            )
        for when, what in steps:
            axis.axvline(when, color="#9fa7b3", linestyle="--", linewidth=0.8)
            axis.text(
                when,
                0.89,
                f" {what}",
                transform=axis.get_xaxis_transform(),
                color="#9fa7b3",
                fontsize=7,
                va="top",
            )
        axis.set_ylim(bottom=0)
        if ordered:
            axis.legend(
                loc="upper left",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=7,
                frameon=False,
                labelcolor="#ccccdc",
            )
    for axis in axes[-1]:
        axis.set_xlabel("seconds into the run", color="#ccccdc")
    figure.suptitle(title, color="#ccccdc", fontsize=11, x=0.01, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.975))
    figure.savefig(path, dpi=90, facecolor=figure.get_facecolor())
    plt.close(figure)


def _mean(values: Sequence[float]) -> float:
    present = [v for v in values if not math.isnan(v)]
    return sum(present) / len(present) if present else 0.0


def _style(axis: Any, title: str, unit: str) -> None:
    axis.set_facecolor("#111217")
    axis.set_title(title, color="#ccccdc", fontsize=10, loc="left")
    axis.tick_params(colors="#9fa7b3", labelsize=8)
    axis.grid(color="#2c3235", linewidth=0.6)
    for spine in axis.spines.values():
        spine.set_color("#2c3235")
    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} {unit}".strip()))

"""Charts of a suite: one bar chart per metric (95% CI error bars), and quality against latency and cost."""

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.metrics import display_of
from harness.report import Report

if TYPE_CHECKING:
    from harness.verdict import SuiteVerdict, Tradeoff

KIND_ORDER = ("base", "rag", "finetuned", "hybrid")
KIND_COLOURS = {"base": "#bbbbbb", "rag": "#4477aa", "finetuned": "#ee6677", "hybrid": "#228833"}
CHART_PREFIX = "chart__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def kind_rank(report: Report) -> tuple[int, str]:
    """Sort key: the base control, then rag, fine-tuned and hybrid systems, by name within a kind."""
    kind = report.system.kind
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, report.system.name


def chart_name(suite: str, metric: str) -> str:
    return f"{CHART_PREFIX}{_UNSAFE.sub('_', suite)}__{_UNSAFE.sub('_', metric)}.png"


def clear_charts(out_dir: Path) -> None:
    """Remove the charts of an earlier report, so a dropped suite or metric leaves no stale image behind."""
    for old in out_dir.glob(f"{CHART_PREFIX}*.png"):
        old.unlink(missing_ok=True)  # another report being written at the same time may have removed it


def metric_chart(reports: Sequence[Report], metric: str, path: Path) -> bool:
    """Draw one metric across systems; False (and no file) when no system has a scored value for it."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    shown = [
        r
        for r in sorted(reports, key=kind_rank)
        if metric in r.summary and r.summary[metric].mean is not None
    ]
    if not shown:
        return False
    drawn = display_of(metric)  # by the metric's unit: latency is stored in seconds, drawn in milliseconds
    scale, unit = drawn.scale, f" ({drawn.axis})" if drawn.axis else ""
    means = [(r.summary[metric].mean or 0.0) * scale for r in shown]
    lows = [(r.summary[metric].ci_low or 0.0) * scale for r in shown]
    highs = [(r.summary[metric].ci_high or 0.0) * scale for r in shown]
    # Bars of one kind stand together; a gap separates kinds so the grouping is visible without the legend.
    positions: list[float] = []
    at = 0.0
    for index, report in enumerate(shown):
        if index and report.system.kind != shown[index - 1].system.kind:
            at += 0.6
        positions.append(at)
        at += 1.0
    colours = [KIND_COLOURS.get(r.system.kind, "#999999") for r in shown]
    errors = [
        [max(mean - low, 0.0) for mean, low in zip(means, lows, strict=True)],
        [max(high - mean, 0.0) for mean, high in zip(means, highs, strict=True)],
    ]
    figure, axes = plt.subplots(figsize=(max(4.0, 1.1 * len(shown) + 2.0), 3.2), dpi=100)
    try:
        axes.bar(positions, means, color=colours, yerr=errors, capsize=4, width=0.8)
        axes.set_xticks(positions, [r.system.name for r in shown], rotation=20, ha="right", fontsize=8)
        axes.set_ylabel(metric + unit)
        axes.set_title(f"{shown[0].suite.name}: {metric} (mean, 95% CI)", fontsize=10)
        if scale == 1.0 and max(highs) <= 1.0:
            axes.set_ylim(0.0, 1.05)
        kinds = list(dict.fromkeys(r.system.kind for r in shown))
        handles = [Patch(color=KIND_COLOURS.get(kind, "#999999"), label=kind) for kind in kinds]
        axes.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return True


def tradeoff_chart(verdict: "SuiteVerdict", axis: str, path: Path) -> bool:
    """The suite's rank metric against mean latency (ms) or cost per case ($), the Pareto front joined.

    False (and no file) when fewer than two systems have both numbers.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def x_of(row: "Tradeoff") -> float | None:
        if axis == "latency":
            return None if row.latency_s is None else row.latency_s * 1000
        return row.cost_per_case

    points: list[tuple[Tradeoff, float, float]] = []
    for row in verdict.tradeoff:
        x = x_of(row)
        if row.quality is not None and x is not None:
            points.append((row, x, row.quality))
    if len(points) < 2:  # one system is no trade-off
        return False
    figure, axes = plt.subplots(figsize=(5.2, 3.4), dpi=100)
    try:
        for row, x, y in points:
            colour = KIND_COLOURS.get(row.kind, "#999999")
            axes.scatter([x], [y], color=colour, s=60, edgecolors="black" if row.pareto else colour)
            axes.annotate(
                row.system, (x, row.quality or 0.0), fontsize=7, xytext=(4, 4), textcoords="offset points"
            )
        front = sorted((x, y) for row, x, y in points if row.pareto)
        if len(front) > 1:
            axes.plot(
                [f[0] for f in front], [f[1] for f in front], "k--", linewidth=0.8, label="Pareto front"
            )
            axes.legend(fontsize=7, loc="lower right")
        if axis == "latency":
            from matplotlib.ticker import NullFormatter, ScalarFormatter

            axes.set_xscale("log")
            axes.xaxis.set_major_formatter(ScalarFormatter())
            axes.xaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks overlap on a log axis
        axes.set_xlabel("mean latency per case (ms, log)" if axis == "latency" else "cost per case ($)")
        axes.set_ylabel(f"{verdict.rank_metric} (mean)")
        axes.set_title(f"{verdict.suite}: quality against {axis} (outlined: Pareto front)", fontsize=9)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return True


__all__ = ["chart_name", "clear_charts", "kind_rank", "metric_chart", "tradeoff_chart"]

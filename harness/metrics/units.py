"""What a metric's value counts (its unit), and how every report writes a value or a change in that unit.

A metric declares its unit (`Metric.unit`, and its row of the metric table); the renderers (summary.md,
the site, the verdict, the gate report, the charts) format through `harness.metrics.format_value` and
`format_change`, which look the unit up by metric name, so no renderer special-cases a metric's name.
A name the table does not know (a run folder from a newer harness) is shown as a score.
"""

from typing import NamedTuple

SCORE = "score"  # a share, a similarity or a rate: three decimals
SECONDS = "seconds"  # stored in seconds, shown in milliseconds
TOKENS = "tokens"  # a count of tokens; a mean of counts shows one decimal


class Display(NamedTuple):
    """How values of one unit are written."""

    scale: float  # stored value x scale = shown number
    suffix: str  # written after a value or a change (" ms")
    digits: int  # decimals of a value
    change_digits: int  # decimals of a signed change between two values
    axis: str  # the unit in a chart's axis label ("" for none)


DISPLAYS: dict[str, Display] = {
    SCORE: Display(1.0, "", 3, 3, ""),
    SECONDS: Display(1000.0, " ms", 1, 1, "ms"),
    # A change in mean tokens keeps three decimals: that is how reports wrote it before metrics had units.
    TOKENS: Display(1.0, "", 1, 3, ""),
}


def display(unit: str) -> Display:
    """How a unit is written; an unknown unit is written as a score."""
    return DISPLAYS.get(unit, DISPLAYS[SCORE])


def value_text(value: float | None, unit: str = SCORE) -> str:
    """`0.812`, `153.2 ms`, `12.5`; "n/a" for no value."""
    if value is None:
        return "n/a"
    shown = display(unit)
    return f"{value * shown.scale:.{shown.digits}f}{shown.suffix}"


def change_text(value: float, unit: str = SCORE, suffix: bool = True) -> str:
    """A signed change: `+0.050`, `-12.0 ms`; `suffix=False` leaves the unit off (inside an interval)."""
    shown = display(unit)
    return f"{value * shown.scale:+.{shown.change_digits}f}{shown.suffix if suffix else ''}"

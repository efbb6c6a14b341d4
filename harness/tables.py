"""The result table on the terminal: chosen metrics (--metric), wrapped to fit a width (120 columns).

A suite with many metrics becomes several tables one under the other, each repeating the system and
kind columns, rather than one line wider than the terminal.
"""

from collections import Counter
from collections.abc import Sequence

from harness.errors import InputError
from harness.report import Report, _cell
from harness.yamlfile import did_you_mean

WIDTH = 120
GAP = "  "


def check_metrics(metric_lists: Sequence[Sequence[str]], wanted: Sequence[str]) -> None:
    """--metric names a metric of at least one of the suites, or one line saying which there are."""
    known = list(dict.fromkeys(name for names in metric_lists for name in names))
    for name in wanted:
        if name not in known:
            raise InputError(
                "--metric",
                f"no metric '{name}' in these suites{did_you_mean(name, known)} "
                f"(metrics: {', '.join(known)})",
            )


def wrap(header: list[str], rows: list[list[str]], fixed: int = 2, width: int = WIDTH) -> list[str]:
    """Lines of a plain-text table; columns after the first `fixed` go to further blocks past `width`."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lead = sum(widths[:fixed]) + len(GAP) * fixed
    blocks: list[list[int]] = [[]]
    used = lead
    for i in range(fixed, len(header)):
        need = widths[i] + len(GAP)
        if blocks[-1] and used + need - len(GAP) > width:
            blocks.append([])
            used = lead
        blocks[-1].append(i)
        used += need
    lines: list[str] = []
    for number, block in enumerate(blocks):
        if number:
            lines.append("")
        columns = [*range(fixed), *block]
        for row in table:
            lines.append(GAP.join(row[i].ljust(widths[i]) for i in columns).rstrip())
    return lines


def comparison_tables(reports: Sequence[Report], metrics: Sequence[str] = (), width: int = WIDTH) -> str:
    """Suites × systems × metrics, one table per suite (several when it does not fit `width`).

    `metrics`: only these columns, in this order (default: every metric of the runs).
    """
    blocks = []
    for suite_name in dict.fromkeys(report.suite.name for report in reports):
        group = [report for report in reports if report.suite.name == suite_name]
        # A metric graded by different judges is different columns: such scores are never compared.
        columns = list(
            dict.fromkeys((name, s.judge) for report in group for name, s in report.summary.items())
        )
        if metrics:
            columns = [column for name in metrics for column in columns if column[0] == name]
        judges_of = Counter(name for name, _ in columns)
        header = ["system", "kind"] + [
            f"{name} [{judge}]" if judges_of[name] > 1 else name for name, judge in columns
        ]
        rows = [
            [report.system.label, report.system.kind, *(_cell(report, n, j) for n, j in columns)]
            for report in group
        ]
        first = group[0]
        limit = first.suite.limit
        seen = f"first {first.n_cases} of {first.suite.full_test_cases} cases, --limit" if limit else None
        title = f"== {suite_name} v{first.suite.version} ({seen or f'{first.n_cases} cases'})"
        blocks.append("\n".join([title, *wrap(header, rows, width=width)]))
    return "\n\n".join(blocks)

"""The static report (reports/latest/index.html, index.md): metric tables, charts, worst cases, deltas.

Over 300 lines for one reason: one page in two formats (index.html and index.md) rendered from the same
sections, kept side by side so the two cannot drift apart."""

import datetime as dt
import html
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from harness.baseline import baseline_file, load_baseline
from harness.charts import chart_name, clear_charts, kind_rank, metric_chart, tradeoff_chart
from harness.errors import InputError
from harness.metrics import format_change
from harness.report import Record, Report, Run, format_summary, format_value
from harness.report_types import SystemUsage, Tally
from harness.retrieval_settings import describe_retriever
from harness.verdict import SuiteVerdict, format_diff, outcome_text, rank_metric, render_text, to_json

WORST_CASES = 5
MAX_TEXT = 500
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")  # enough to keep user text inert; `_` and `#` are safe mid-line


class Entry(NamedTuple):
    """One system's run on a suite, with the baseline it is compared to (or why there is none)."""

    report: Report
    records: tuple[Record, ...]
    baseline: Report | None
    baseline_note: str


class Section(NamedTuple):
    """One suite: its systems in kind order, the metrics any of them has, the charts, and its verdict."""

    suite: str
    version: str
    entries: list[Entry]
    metrics: list[str]
    charts: dict[str, str]
    verdict: SuiteVerdict | None = None
    tradeoff_charts: dict[str, str] = {}


def _write(path: Path, text: str) -> None:
    """Write whole or not at all: a reader (or another report being written) never sees half a file."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def write_site(
    runs: Sequence[Run],
    out_dir: Path = Path("reports/latest"),
    baselines_dir: Path = Path("reports/baselines"),
    verdicts: Sequence[SuiteVerdict] = (),
) -> Path:
    """Write index.html, index.md, the chart PNGs and the verdicts into out_dir; returns index.html's path.

    The verdicts go to verdict.json (every suite) and verdict_<suite>.md beside the page.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_charts(out_dir)
    by_suite = {verdict.suite: verdict for verdict in verdicts}
    sections = []
    for suite in dict.fromkeys(run.report.suite.name for run in runs):
        group = sorted(
            (run for run in runs if run.report.suite.name == suite), key=lambda r: kind_rank(r.report)
        )
        entries = [Entry(run.report, run.records, *_baseline(baselines_dir, run.report)) for run in group]
        metrics = list(dict.fromkeys(name for entry in entries for name in entry.report.summary))
        charts = {}
        for metric in metrics:
            name = chart_name(suite, metric)
            if metric_chart([entry.report for entry in entries], metric, out_dir / name):
                charts[metric] = name
        verdict = by_suite.get(suite)
        tradeoffs = {}
        if verdict is not None:
            for axis in ("latency", "cost"):
                name = chart_name(suite, f"tradeoff_{axis}")
                if tradeoff_chart(verdict, axis, out_dir / name):
                    tradeoffs[axis] = name
            _write(out_dir / f"verdict_{_anchor(suite)}.md", render_text(verdict, full=True) + "\n")
        version = str(entries[0].report.suite.version)
        sections.append(Section(suite, version, entries, metrics, charts, verdict, tradeoffs))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    _write(out_dir / "verdict.json", json.dumps(to_json(verdicts), indent=2) + "\n")
    _write(out_dir / "index.md", render_markdown(sections, stamp))
    page = out_dir / "index.html"
    _write(page, render_html(sections, stamp))
    return page


def _baseline(baselines_dir: Path, report: Report) -> tuple[Report | None, str]:
    path = baseline_file(baselines_dir, report.suite.name, report.system.name)
    if not path.is_file():
        return None, "no baseline"
    try:
        baseline = load_baseline(path).report
    except InputError as err:  # the report still shows what it can; the gate fails on the same file
        return None, f"unreadable baseline {path.name}: {err.what}"
    if baseline.suite.version != report.suite.version:
        return None, f"baseline is of suite v{baseline.suite.version}: not comparable"
    return baseline, f"vs baseline {path.name} (git {baseline.git.commit[:7]})"


def tag_rows(section: Section) -> list[tuple[str, list[str]]]:
    """Per case tag, each system's mean of the rank metric over the tag's cases ('mean (n)')."""
    metric = rank_metric(section.entries[0].report) if section.entries else None
    tags = sorted({tag for entry in section.entries for tag in entry.report.by_tag})
    rows = []
    for tag in tags:
        cells = []
        for entry in section.entries:
            sliced = entry.report.by_tag.get(tag, {}).get(metric or "")
            if sliced is None:
                cells.append("-")
            else:
                cells.append(f"{format_value(sliced.mean, metric or '')} ({sliced.n_scored})")
        rows.append((tag, cells))
    return rows


def cost_note(report: Report) -> str:
    """Tokens and dollars of the answers and scores ('no model calls' for the offline systems)."""
    used: list[Tally | SystemUsage] = [report.usage.system, *report.usage.metrics.values()]
    tokens = sum(u.input_tokens + u.output_tokens for u in used)
    if not tokens:
        return "no model calls"
    return f"{tokens:,} tokens, ${sum(u.cost_usd for u in used):.4f}"


def delta(entry: Entry, metric: str) -> str:
    """'Δ +0.012 ▲' (▲ better, ▼ worse, = same) against the baseline's mean; '' if nothing to compare."""
    now = entry.report.summary.get(metric)
    then = entry.baseline.summary.get(metric) if entry.baseline else None
    if now is None or then is None or now.mean is None or then.mean is None:
        return ""
    if now.judge != then.judge:
        return "other judge: not compared"
    change = now.mean - then.mean
    text = format_change(change, metric)
    if now.higher_is_better is None:  # no better direction (answer_tokens): a change, not a gain or loss
        return f"Δ {text}"
    better = change > 0 if now.higher_is_better else change < 0
    mark = "=" if abs(change) < 1e-12 else ("▲" if better else "▼")
    return f"Δ {text} {mark}"


def worst_cases(entry: Entry) -> tuple[str | None, list[Record]]:
    """The WORST_CASES scored records with the poorest rank-metric value (unscored ones are listed apart)."""
    metric = rank_metric(entry.report)
    if metric is None:
        return None, []
    scored = [r for r in entry.records if metric in r.scores and r.scores[metric].value is not None]
    higher = entry.report.summary[metric].higher_is_better
    scored.sort(key=lambda r: (r.scores[metric].value or 0.0) * (1 if higher else -1))
    return metric, scored[:WORST_CASES]


def unscored(record: Record) -> list[str]:
    notes = [f"{name}: {score.reason}" for name, score in record.scores.items() if score.value is None]
    return ([f"answer failed: {record.answer.error}"] if record.answer.error else []) + notes


def clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def md(text: str) -> str:
    """User text made inert in Markdown: one line, special characters backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(clip(text).split()))


def render_markdown(sections: Sequence[Section], stamp: str) -> str:
    lines = [
        f"# Evaluation report ({stamp})",
        "",
        "Means with 95% bootstrap intervals; Δ is against the baseline.",
        "",
    ]
    for section in sections:
        entries = section.entries
        lines += [f"## {section.suite} v{section.version}", ""]
        if section.verdict is not None:
            lines += _md_verdict(section)
        lines += [
            f"- **{md(e.report.system.label)}** ({e.report.system.kind}): {e.report.n_cases} cases, "
            f"{e.report.n_errors} failed; {cost_note(e.report)}; run `{e.report.run_id}`; "
            f"{md(e.baseline_note)}; retrieval: "
            f"{md(describe_retriever(e.report.system.spec.get('retriever')))}"
            for e in entries
        ]
        lines += ["", "| metric | " + " | ".join(md(e.report.system.name) for e in entries) + " |"]
        lines.append("| --- " * (len(entries) + 1) + "|")
        for metric in section.metrics:
            cells = [_md_cell(e, metric) for e in entries]
            lines.append(f"| {metric} | " + " | ".join(cells) + " |")
        tags = tag_rows(section)
        if tags:
            ranked = rank_metric(entries[0].report)
            lines += [
                "",
                f"By tag ({ranked}):",
                "",
                "| tag | " + " | ".join(md(e.report.system.name) for e in entries) + " |",
            ]
            lines.append("| --- " * (len(entries) + 1) + "|")
            lines += [f"| {md(tag)} | " + " | ".join(cells) + " |" for tag, cells in tags]
        lines.append("")
        lines += [f"![{metric}]({name})" for metric, name in section.charts.items()]
        for entry in entries:
            ranked_by, worst = worst_cases(entry)
            lines += ["", f"### Worst cases: {md(entry.report.system.label)} (by {ranked_by})", ""]
            lines += ["| case | score | question | reference | answer | unscored |", "| --- " * 6 + "|"]
            for record in worst:
                score = format_value(record.scores[ranked_by or ""].value, ranked_by or "")
                row = [record.case_id, score, record.question, record.reference, record.answer.text]
                lines.append("| " + " | ".join(map(md, row)) + " | " + md("; ".join(unscored(record))) + " |")
            reasons = _reasons(entry)
            if reasons:
                lines += ["", "Unscored: " + md("; ".join(reasons))]
        lines.append("")
    return "\n".join(lines)


def _md_verdict(section: Section) -> list[str]:
    verdict = section.verdict
    assert verdict is not None
    lines = ["### Verdict", ""]
    lines += [f"- {md(sentence)}" for sentence in verdict.summary]
    if verdict.warnings:
        lines += ["", "**Warnings**", ""] + [f"- ⚠ {md(w)}" for w in verdict.warnings]
    lines += ["", "| system | kind | " + md(str(verdict.rank_metric)) + " | latency | cost/case | Pareto |"]
    lines.append("| --- " * 6 + "|")
    for row in verdict.tradeoff:
        cost = "-" if row.cost_per_case is None else f"${row.cost_per_case:.5f}"
        lines.append(
            f"| {md(row.system)} | {row.kind} | {format_value(row.quality)} | "
            f"{format_value(row.latency_s, 'latency_s')} | {cost} | {'yes' if row.pareto else ''} |"
        )
    lines += ["", *[f"![quality against {axis}]({name})" for axis, name in section.tradeoff_charts.items()]]
    lines += [
        "",
        f"Every comparison: [verdict_{_anchor(verdict.suite)}.md](verdict_{_anchor(verdict.suite)}.md)",
        "",
    ]
    return lines


def _html_verdict(section: Section) -> str:
    e = html.escape
    verdict = section.verdict
    assert verdict is not None
    parts = ['<div class="verdict"><h3>Verdict</h3><ul>']
    parts += [f"<li>{e(sentence)}</li>" for sentence in verdict.summary]
    parts.append("</ul>")
    if verdict.warnings:
        parts.append(
            '<ul class="warnings">' + "".join(f"<li>⚠ {e(w)}</li>" for w in verdict.warnings) + "</ul>"
        )
    parts.append(
        f"<table><tr><th>system</th><th>kind</th><th>{e(str(verdict.rank_metric))}</th><th>latency</th>"
        "<th>cost / case</th><th>Pareto front</th></tr>"
    )
    for row in verdict.tradeoff:
        cost = "-" if row.cost_per_case is None else f"${row.cost_per_case:.5f}"
        cells = [
            row.system,
            row.kind,
            format_value(row.quality),
            format_value(row.latency_s, "latency_s"),
            cost,
        ]
        parts.append(
            "<tr>"
            + "".join(f"<td>{e(c)}</td>" for c in cells)
            + f"<td>{'yes' if row.pareto else ''}</td></tr>"
        )
    parts.append("</table>")
    images = "".join(
        f'<img src="{e(name)}" alt="{e(verdict.suite)}: quality against {e(axis)}">'
        for axis, name in section.tradeoff_charts.items()
    )
    parts.append(f'<div class="charts">{images}</div>')
    overall = [c for c in verdict.comparisons if c.tag is None]
    if overall:
        parts.append(
            "<details><summary>Every pairwise comparison (all cases)</summary><table><tr><th>metric</th>"
            "<th>A</th><th>B</th><th>n</th><th>A − B [95% CI]</th><th>p adj (Holm)</th><th>detectable</th>"
            "<th>verdict</th></tr>"
        )
        for c in overall:
            cells = [
                c.metric,
                c.system_a,
                c.system_b,
                str(c.n),
                format_diff(c),
                f"{c.p_adjusted:.3g}",
                format_value(c.detectable, c.metric),
                outcome_text(c),
            ]
            parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in cells) + "</tr>")
        parts.append("</table></details>")
    parts.append(f'<p class="note">{e(verdict.method)}.</p></div>')
    return "\n".join(parts)


def _md_cell(entry: Entry, metric: str) -> str:
    summary = entry.report.summary.get(metric)
    if summary is None:
        return "-"
    return " · ".join(filter(None, [format_summary(metric, summary), delta(entry, metric)]))


def _reasons(entry: Entry) -> list[str]:
    return [
        f"{metric}: {reason} ({count})"
        for metric, summary in entry.report.summary.items()
        for reason, count in summary.unscored_reasons.items()
    ]


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3} .num{white-space:nowrap} .note{color:#666;font-size:.85rem}
.better{color:#1a7f37} .worse{color:#c62828} .unscored{color:#8a6d00}
.charts img{margin:.3rem;border:1px solid #eee} td.text{max-width:28rem}
.verdict{background:#f7f9fc;border:1px solid #d0d7e2;padding:.5rem 1rem;margin:1rem 0}
.warnings{color:#8a4b00}
"""


def render_html(sections: Sequence[Section], stamp: str) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Evaluation report</title>',
        f"<style>{STYLE}</style></head><body>",
        f'<h1>Evaluation report</h1><p class="note">{e(stamp)}. Means with 95% bootstrap intervals; '
        "Δ is against the committed baseline (▲ better, ▼ worse).</p>",
        "<ul>"
        + "".join(
            f'<li><a href="#{e(_anchor(s.suite))}">{e(s.suite)} v{e(s.version)}</a></li>' for s in sections
        )
        + "</ul>",
    ]
    for section in sections:
        parts.append(
            f'<section id="{e(_anchor(section.suite))}"><h2>{e(section.suite)} v{e(section.version)}</h2>'
        )
        if section.verdict is not None:
            parts.append(_html_verdict(section))
        parts.append(
            "<table><tr><th>system</th><th>kind</th><th>cases</th><th>failed</th><th>tokens, cost</th>"
            "<th>run</th><th>baseline</th><th>retrieval</th></tr>"
        )
        for entry in section.entries:
            r = entry.report
            cells = [
                r.system.label,
                r.system.kind,
                str(r.n_cases),
                str(r.n_errors),
                cost_note(r),
                r.run_id,
                entry.baseline_note,
                describe_retriever(r.system.spec.get("retriever")),
            ]
            parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in cells) + "</tr>")
        parts.append("</table>")
        header = "".join(f"<th>{e(entry.report.system.name)}</th>" for entry in section.entries)
        parts.append(f'<table class="metrics"><tr><th>metric</th>{header}</tr>')
        for metric in section.metrics:
            row = "".join(_html_cell(entry, metric) for entry in section.entries)
            parts.append(f"<tr><th>{e(metric)}</th>{row}</tr>")
        parts.append("</table>")
        images = "".join(
            f'<img src="{e(name)}" alt="{e(section.suite)}: {e(metric)}">'
            for metric, name in section.charts.items()
        )
        parts.append(f'<div class="charts">{images}</div>')
        tags = tag_rows(section)
        if tags:
            header = "".join(f"<th>{e(entry.report.system.name)}</th>" for entry in section.entries)
            ranked = rank_metric(section.entries[0].report)
            parts.append(f'<table class="metrics"><tr><th>tag ({e(str(ranked))})</th>{header}</tr>')
            for tag, cells in tags:
                parts.append(f"<tr><th>{e(tag)}</th>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
        for entry in section.entries:
            parts.append(_html_worst(entry))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _anchor(suite: str) -> str:
    return "suite-" + re.sub(r"[^A-Za-z0-9_-]", "-", suite)


def _html_cell(entry: Entry, metric: str) -> str:
    summary = entry.report.summary.get(metric)
    if summary is None:
        return "<td>-</td>"
    lines = [f'<span class="num">{html.escape(format_summary(metric, summary))}</span>']
    change = delta(entry, metric)
    if change:
        tone = "better" if change.endswith("▲") else "worse" if change.endswith("▼") else "same"
        lines.append(f'<span class="{tone} num">{html.escape(change)}</span>')
    if summary.unscored_reasons:
        why = "; ".join(f"{reason} ({count})" for reason, count in summary.unscored_reasons.items())
        lines.append(f'<span class="unscored">unscored: {html.escape(why)}</span>')
    return "<td>" + "<br>".join(lines) + "</td>"


def _html_worst(entry: Entry) -> str:
    e = html.escape
    metric, worst = worst_cases(entry)
    rows = [
        f"<h3>Worst cases: {e(entry.report.system.label)} (by {e(metric or 'no metric')})</h3>",
        "<table><tr><th>case</th><th>score</th><th>question</th><th>reference</th><th>answer</th><th>unscored</th></tr>",
    ]
    for record in worst:
        score = format_value(record.scores[metric or ""].value, metric or "")
        cells = [
            record.case_id,
            score,
            clip(record.question),
            clip(record.reference),
            clip(record.answer.text),
        ]
        rows.append(
            "<tr>"
            + "".join(f'<td class="text">{e(cell)}</td>' for cell in cells)
            + f"<td>{'<br>'.join(e(note) for note in unscored(record))}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


__all__ = [
    "Entry",
    "Section",
    "delta",
    "render_html",
    "render_markdown",
    "unscored",
    "worst_cases",
    "write_site",
]

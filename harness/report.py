"""Report: one (suite, system) run with provenance, per-case records and a summary with bootstrap CIs.

Over 300 lines for one reason: the run's values (Record, Report, Run), how they are summarised and read
back, and their two plain-text renderings (summary.md, the comparison table) change together whenever a
field does."""

import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from harness.errors import InputError
from harness.metrics import Metric, Score, format_value
from harness.report_types import (
    SCHEMA_VERSION,
    GitInfo,
    SuiteInfo,
    SystemInfo,
    SystemUsage,
    TagMean,
    Tally,
    Usage,
    migrate,
)
from harness.stats import bootstrap_ci
from harness.suite import Case, Passage
from harness.system import Answer


class Record(BaseModel):
    """Everything about one case in one run: what was asked, the system's Answer, and every score.

    records.jsonl keeps the flat line it always had (the answer's fields beside the case's, the answer's
    text under "answer"): the serializer below writes it and the validator reads it, so old run folders
    read and a re-run writes the same bytes.
    """

    model_config = ConfigDict(frozen=True)
    case_id: str
    question: str
    reference: str
    gold_ids: tuple[str, ...]
    tags: tuple[str, ...]
    answer: Answer
    scores: dict[str, Score]

    @model_validator(mode="before")
    @classmethod
    def _from_flat_line(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("answer", ""), str):
            return data
        flat = dict(data)
        answer = {"case_id": flat.get("case_id"), "text": flat.pop("answer", "")}
        for key in _ANSWER_FIELDS:
            if key in flat:
                answer[key] = flat.pop(key)
        return {**flat, "answer": answer}

    @model_serializer(mode="wrap")
    def _as_flat_line(self, handler: Any) -> Any:
        data = handler(self)
        if not isinstance(data, dict) or not isinstance(data.get("answer"), dict):
            return data
        answer = data["answer"]
        flat = {key: data[key] for key in ("case_id", "question", "reference", "gold_ids", "tags")}
        flat["answer"] = answer["text"]
        for key in ("contexts", "latency_s", "usage", "error"):
            flat[key] = answer[key]
        flat["scores"] = data["scores"]
        if answer.get("ranking") is not None:  # written only when the retriever reported one, as before
            flat["ranking"] = answer["ranking"]
        return flat

    # Reads of the answer's fields kept from the flat record (tests and notebooks use them).
    @property
    def error(self) -> str | None:
        return self.answer.error

    @property
    def contexts(self) -> tuple[Passage, ...] | None:
        return self.answer.contexts

    @property
    def latency_s(self) -> float:
        return self.answer.latency_s

    @property
    def usage(self) -> dict[str, int]:
        return self.answer.usage

    @property
    def ranking(self) -> tuple[str, ...] | None:
        return self.answer.ranking

    @classmethod
    def build(cls, case: Case, answer: Answer, scores: dict[str, Score]) -> "Record":
        return cls(
            case_id=case.id,
            question=case.question,
            reference=case.reference,
            gold_ids=case.gold_ids,
            tags=case.tags,
            answer=answer,
            scores=scores,
        )


# The Answer fields a flat records.jsonl line holds beside the case's ("answer" holds its text).
_ANSWER_FIELDS = ("contexts", "latency_s", "usage", "error", "ranking")


class MetricSummary(BaseModel):
    """One metric over a run: mean with a 95% bootstrap interval, and what could not be scored and why."""

    model_config = ConfigDict(frozen=True)
    higher_is_better: bool | None = Field(description="None: no better direction (shown, never gated).")
    judge: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n_scored: int
    n_unscored: int
    unscored_reasons: dict[str, int] = Field(default_factory=dict)
    description: str = Field("", description="What it measures, with its unit and depth (e.g. k documents).")


class Report(BaseModel):
    """run.json: provenance and summary of one (suite, system) run. Records live in records.jsonl.

    Built once, when the run's records are all in (`outcome` gives the fields the records decide). Any
    older run.json is read through `report_types.migrate`.
    """

    model_config = ConfigDict(frozen=True)
    schema_version: int = SCHEMA_VERSION
    run_id: str
    created: str
    harness_version: str
    git: GitInfo = Field(default_factory=GitInfo)
    suite: SuiteInfo
    system: SystemInfo
    judges: list[str]
    n_cases: int = 0
    n_errors: int = 0
    cache: dict[str, int] = Field(default_factory=dict)
    summary: dict[str, MetricSummary] = Field(default_factory=dict)
    training: dict[str, list[float]] = Field(
        default_factory=dict, description="Curves from fine-tuning, e.g. train_loss per step."
    )
    usage: Usage = Field(
        default_factory=Usage,
        description="Tokens and cost of the answers, of each metric, and sent this run.",
    )
    by_tag: dict[str, dict[str, TagMean]] = Field(
        default_factory=dict, description="Per case tag, per metric: mean and number scored."
    )
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds per stage of this run: prepare, answer, score."
    )

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        return migrate(data)


def outcome(records: Sequence[Record], metrics: Sequence[Metric]) -> dict[str, Any]:
    """The Report fields its records decide: counts, each metric's summary, and the per-tag means."""
    return {
        "n_cases": len(records),
        "n_errors": sum(record.answer.error is not None for record in records),
        "summary": {metric.name: summarise_metric(metric, records) for metric in metrics},
        "by_tag": tag_summaries(records, [metric.name for metric in metrics]),
    }


def tag_summaries(records: Sequence[Record], names: Sequence[str]) -> dict[str, dict[str, TagMean]]:
    """Each metric's mean over the cases of each tag (e.g. knowledge-refresh's `changed` facts, where a
    closed-book model goes stale): the slice a suite's tags were written for."""
    sliced: dict[str, dict[str, TagMean]] = {}
    for tag in sorted({tag for record in records for tag in record.tags}):
        group = [record for record in records if tag in record.tags]
        sliced[tag] = {}
        for name in names:
            values = [value for r in group if (value := r.scores[name].value) is not None]
            mean = float(np.mean(values)) if values else None
            sliced[tag][name] = TagMean(mean=mean, n_cases=len(group), n_scored=len(values))
    return sliced


def summarise_metric(metric: Metric, records: Sequence[Record]) -> MetricSummary:
    values = [value for r in records if (value := r.scores[metric.name].value) is not None]
    reasons = Counter(r.scores[metric.name].reason for r in records if r.scores[metric.name].value is None)
    mean = low = high = None
    if values:
        mean = float(np.mean(values))
        low, high = bootstrap_ci(values)
    return MetricSummary(
        higher_is_better=metric.higher_is_better,
        judge=metric.judge,
        mean=mean,
        ci_low=low,
        ci_high=high,
        n_scored=len(values),
        n_unscored=len(records) - len(values),
        unscored_reasons=dict(reasons.most_common()),
        description=getattr(metric, "description", ""),
    )


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """The commit the harness ran from and whether the work tree had uncommitted changes."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit or "unknown", "dirty": bool(status) if status is not None else None}


@dataclass(frozen=True)
class Run:
    """A finished (suite, system) run: its report, its records in case order, and the folder holding both.

    What `runner.run` and `runner.score_answers` return and what the verdict, the gate, the site and
    MLflow logging take; `load_run` reads one back from its folder.
    """

    report: Report
    records: tuple[Record, ...]
    folder: Path


def load_run(folder: Path) -> Run:
    """Read a run folder back; a damaged one is an InputError naming the file (and the line)."""
    run_file = folder / "run.json"
    if not run_file.is_file():
        raise InputError(str(folder), "not a run folder (no run.json)")
    try:
        report = Report.model_validate_json(run_file.read_bytes())
    except ValidationError as err:
        raise InputError(str(run_file), f"damaged run.json: {_first_problem(err)}") from None
    records_file = folder / "records.jsonl"
    if not records_file.is_file():
        raise InputError(str(records_file), "file not found: the run folder is incomplete")
    records = []
    for number, line in enumerate(records_file.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(Record.model_validate_json(line))
        except ValidationError as err:
            raise InputError(f"{records_file}:{number}", f"damaged record: {_first_problem(err)}") from None
    if len(records) != report.n_cases:
        raise InputError(
            str(records_file), f"holds {len(records)} records but run.json counts {report.n_cases} cases"
        )
    return Run(report, tuple(records), folder)


def load_report(folder: Path) -> tuple[Report, list[Record]]:
    """Transitional: `load_run` as the (report, records) pair callers used before Run existed."""
    run = load_run(folder)
    return run.report, list(run.records)


def _first_problem(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where + ': ' if where else ''}{first['msg']}"[:200]


def format_summary(name: str, summary: MetricSummary) -> str:
    """'0.612 [0.55, 0.67]' or 'n/a (20 unscored)'; unscored cases are always shown, never hidden."""
    if summary.mean is None:
        return f"n/a ({summary.n_unscored} unscored)"
    low, high = format_value(summary.ci_low, name), format_value(summary.ci_high, name)
    text = f"{format_value(summary.mean, name)} [{low}, {high}]"
    if summary.n_unscored:
        text += f" ({summary.n_unscored} unscored)"
    return text


def summary_markdown(report: Report) -> str:
    from harness.retrieval_settings import describe_retriever

    lines = [
        f"# {report.suite.name} v{report.suite.version} × {report.system.label}",
        "",
        f"- kind: {report.system.kind}; system hash {report.system.hash}; suite hash {report.suite.hash}",
        f"- retrieval: {describe_retriever(report.system.spec.get('retriever'))}",
        f"- judges: {', '.join(report.judges) or 'none (lexical metrics only)'}",
        f"- git: {report.git.commit}{' (dirty)' if report.git.dirty else ''}; "
        f"harness {report.harness_version}",
        f"- cases: {report.n_cases}; failed answers: {report.n_errors}",
        "",
        "| metric | mean [95% CI] | scored | unscored | why unscored |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, summary in report.summary.items():
        reasons = "; ".join(f"{reason} ({count})" for reason, count in summary.unscored_reasons.items())
        mean = "n/a" if summary.mean is None else format_value(summary.mean, name)
        ci = (
            ""
            if summary.mean is None
            else f" [{format_value(summary.ci_low, name)}, {format_value(summary.ci_high, name)}]"
        )
        shown = name if summary.higher_is_better is not None else f"{name} (no better direction)"
        lines.append(f"| {shown} | {mean}{ci} | {summary.n_scored} | {summary.n_unscored} | {reasons} |")
    described = [f"- {name}: {m.description}" for name, m in report.summary.items() if m.description]
    if described:
        lines += ["", "What the metrics measure:", "", *described]
    if report.by_tag:
        names = list(report.summary)
        lines += [
            "",
            "## By tag",
            "",
            "| tag | cases | " + " | ".join(names) + " |",
            "| --- | --- | " + " | ".join("---" for _ in names) + " |",
        ]
        for tag, metrics in report.by_tag.items():
            cells = [format_value(metrics[name].mean, name) if name in metrics else "-" for name in names]
            cases = next(iter(metrics.values())).n_cases if metrics else 0
            lines.append(f"| {tag} | {cases} | " + " | ".join(cells) + " |")
    if usage_rows(report):
        lines += [
            "",
            "## Tokens and cost",
            "",
            "| what | model calls | input tokens | output tokens | cost |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [f"| {' | '.join(row)} |" for row in usage_rows(report)]
        sent = report.usage.sent_total
        lines += [
            "",
            f"Sent this run: {sent.requests} requests "
            f"({sent.rate_limited} answered 429, {sent.failed} calls failed), "
            f"{sent.cached} calls served from the cache, "
            f"${sent.cost_usd:.4f} spent.",
        ]
    return "\n".join(lines) + "\n"


def usage_rows(report: Report) -> list[list[str]]:
    """The answers' and each metric's calls, tokens and cost (what producing them costs, cached or not)."""
    rows = []
    system = report.usage.system
    if system.calls:
        rows.append([f"answers ({system.model})", *_usage_cells(system)])
    for name, used in report.usage.metrics.items():
        rows.append([f"metric {name}", *_usage_cells(used)])
    return rows


def _usage_cells(used: Tally | SystemUsage) -> list[str]:
    return [str(used.calls), str(used.input_tokens), str(used.output_tokens), f"${used.cost_usd:.4f}"]


def comparison_table(reports: Sequence[Report]) -> str:
    """Suites × systems × metrics as plain-text tables, one per suite."""
    blocks = []
    for suite_name in dict.fromkeys(report.suite.name for report in reports):
        group = [report for report in reports if report.suite.name == suite_name]
        # A metric graded by different judges is different columns: such scores are never compared.
        columns = list(
            dict.fromkeys(
                (name, summary.judge) for report in group for name, summary in report.summary.items()
            )
        )
        judges_of = Counter(name for name, _ in columns)
        header = ["system", "kind"] + [
            f"{name} [{judge}]" if judges_of[name] > 1 else name for name, judge in columns
        ]
        rows = [
            [
                report.system.label,
                report.system.kind,
                *(_cell(report, name, judge) for name, judge in columns),
            ]
            for report in group
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def render(row: list[str], widths: list[int] = widths) -> str:
            return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))

        version = group[0].suite.version
        blocks.append(
            "\n".join(
                [f"== {suite_name} v{version} ({group[0].n_cases} cases)", render(header), *map(render, rows)]
            )
        )
    return "\n\n".join(blocks)


def _cell(report: Report, name: str, judge: str) -> str:
    summary = report.summary.get(name)
    if summary is None or summary.judge != judge:
        return "-"
    if summary.mean is None:
        return "n/a"
    half = ((summary.ci_high or 0.0) - (summary.ci_low or 0.0)) / 2
    text = f"{format_value(summary.mean, name)}±{format_value(half, name).replace(' ms', '')}"
    return text + ("*" if summary.n_unscored else "")

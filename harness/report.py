"""Report: one (suite, system) run with provenance, per-case records and a summary with bootstrap CIs."""

import datetime as dt
import json
import subprocess
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer

import harness
from harness.errors import InputError
from harness.metrics import Metric, Score, format_value
from harness.stats import bootstrap_ci
from harness.suite import Case, Suite
from harness.system import Answer, SystemSpec

SCHEMA_VERSION = 1


class Record(BaseModel):
    """Everything about one case in one run: what was asked, what came back, and every score."""

    model_config = ConfigDict(frozen=True)
    case_id: str
    question: str
    reference: str
    gold_ids: tuple[str, ...]
    tags: tuple[str, ...]
    answer: str
    contexts: list[dict[str, Any]] | None
    latency_s: float
    usage: dict[str, int]
    error: str | None
    scores: dict[str, Score]
    # The documents the retriever ranked (what hit_at_k, recall_at_k and mrr score), kept so that
    # `harness score` re-scores the same ranking; absent for closed-book systems and older runs.
    ranking: tuple[str, ...] | None = None

    @model_serializer(mode="wrap")
    def _without_missing_ranking(self, handler: Any) -> Any:
        data = handler(self)  # a record without a ranking is written as it was before rankings existed
        if isinstance(data, dict) and data.get("ranking", ()) is None:
            del data["ranking"]
        return data

    @classmethod
    def build(cls, case: Case, answer: Answer, scores: dict[str, Score]) -> "Record":
        contexts = None
        if answer.contexts is not None:
            contexts = [passage.model_dump(mode="json") for passage in answer.contexts]
        return cls(
            case_id=case.id,
            question=case.question,
            reference=case.reference,
            gold_ids=case.gold_ids,
            tags=case.tags,
            answer=answer.text,
            contexts=contexts,
            latency_s=answer.latency_s,
            usage=answer.usage,
            ranking=answer.ranking,
            error=answer.error,
            scores=scores,
        )


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
    """run.json: provenance and summary of one (suite, system) run. Records live in records.jsonl."""

    model_config = ConfigDict(frozen=True)
    schema_version: int = SCHEMA_VERSION
    run_id: str
    created: str
    harness_version: str
    git: dict[str, Any]
    suite: dict[str, Any]
    system: dict[str, Any]
    judges: list[str]
    n_cases: int = 0
    n_errors: int = 0
    cache: dict[str, int] = Field(default_factory=dict)
    summary: dict[str, MetricSummary] = Field(default_factory=dict)
    training: dict[str, list[float]] = Field(
        default_factory=dict, description="Curves from fine-tuning, e.g. train_loss per step."
    )
    usage: dict[str, Any] = Field(
        default_factory=dict, description="Tokens and cost of the answers, of each metric, and sent this run."
    )
    by_tag: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict, description="Per case tag, per metric: mean and number scored."
    )
    timings: dict[str, float] = Field(
        default_factory=dict, description="Seconds per stage of this run: prepare, answer, score."
    )

    def finish(self, records: Sequence[Record], metrics: Sequence[Metric], cache: dict[str, int]) -> "Report":
        return self.model_copy(
            update={
                "n_cases": len(records),
                "n_errors": sum(record.error is not None for record in records),
                "cache": cache,
                "summary": {metric.name: summarise_metric(metric, records) for metric in metrics},
                "by_tag": tag_summaries(records, [metric.name for metric in metrics]),
            }
        )


def tag_summaries(records: Sequence[Record], names: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Each metric's mean over the cases of each tag (e.g. knowledge-refresh's `changed` facts, where a
    closed-book model goes stale): the slice a suite's tags were written for."""
    sliced: dict[str, dict[str, dict[str, Any]]] = {}
    for tag in sorted({tag for record in records for tag in record.tags}):
        group = [record for record in records if tag in record.tags]
        sliced[tag] = {}
        for name in names:
            values = [value for r in group if (value := r.scores[name].value) is not None]
            mean = float(np.mean(values)) if values else None
            sliced[tag][name] = {"mean": mean, "n_cases": len(group), "n_scored": len(values)}
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


def new_report(
    suite: Suite, spec: SystemSpec, metrics: Sequence[Metric], reports_dir: Path
) -> tuple[Report, Path]:
    """A report with its provenance filled in, and the fresh run folder it will be saved to."""
    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S_%fZ")
    run_id = f"{stamp}_{suite.name}_{spec.name}"
    folder = reports_dir / "runs" / run_id
    folder.mkdir(parents=True, exist_ok=False)
    report = Report(
        run_id=run_id,
        created=now.isoformat(),
        harness_version=harness.__version__,
        git=git_state(),
        suite={
            "name": suite.name,
            "version": suite.version,
            "hash": suite.hash,
            "path": suite.path,
            "k": suite.k,
        },
        system={
            "name": spec.name,
            "kind": spec.kind,
            "label": spec.label,
            "hash": spec.hash,
            "spec": spec.model_dump(mode="json"),
        },
        judges=sorted({metric.judge for metric in metrics if metric.judge}),
    )
    return report, folder


def save_report(report: Report, folder: Path) -> None:
    """Write summary.md, then run.json, next to the records.jsonl the runner wrote.

    run.json is what marks a run folder finished (readers skip folders without it), so it is written
    last and atomically: a run killed at any moment leaves either no run.json or a whole one.
    """
    from harness.files import write_atomic

    write_atomic(folder / "summary.md", summary_markdown(report))
    write_atomic(folder / "run.json", json.dumps(report.model_dump(mode="json"), indent=2) + "\n")


def load_report(folder: Path) -> tuple[Report, list[Record]]:
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
    return report, records


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
        f"# {report.suite['name']} v{report.suite['version']} × {report.system['label']}",
        "",
        f"- kind: {report.system['kind']}; system hash {report.system['hash']}; "
        f"suite hash {report.suite['hash']}",
        f"- retrieval: {describe_retriever(report.system.get('spec', {}).get('retriever'))}",
        f"- judges: {', '.join(report.judges) or 'none (lexical metrics only)'}",
        f"- git: {report.git['commit']}{' (dirty)' if report.git.get('dirty') else ''}; "
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
            cells = [format_value(metrics[name]["mean"], name) if name in metrics else "-" for name in names]
            cases = next(iter(metrics.values()))["n_cases"] if metrics else 0
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
        sent = report.usage.get("sent_total") or {}
        lines += [
            "",
            f"Sent this run: {int(sent.get('requests', 0))} requests "
            f"({int(sent.get('rate_limited', 0))} answered 429, {int(sent.get('failed', 0))} calls failed), "
            f"{int(sent.get('cached', 0))} calls served from the cache, "
            f"${sent.get('cost_usd', 0):.4f} spent.",
        ]
    return "\n".join(lines) + "\n"


def usage_rows(report: Report) -> list[list[str]]:
    """The answers' and each metric's calls, tokens and cost (what producing them costs, cached or not)."""
    rows = []
    system = report.usage.get("system") or {}
    if system.get("calls"):
        rows.append([f"answers ({system['model']})", *_usage_cells(system)])
    for name, used in (report.usage.get("metrics") or {}).items():
        rows.append([f"metric {name}", *_usage_cells(used)])
    return rows


def _usage_cells(used: dict[str, Any]) -> list[str]:
    return [
        str(int(used.get("calls", 0))),
        str(int(used.get("input_tokens", 0))),
        str(int(used.get("output_tokens", 0))),
        f"${used.get('cost_usd', 0):.4f}",
    ]


def comparison_table(reports: Sequence[Report]) -> str:
    """Suites × systems × metrics as plain-text tables, one per suite."""
    blocks = []
    for suite_name in dict.fromkeys(report.suite["name"] for report in reports):
        group = [report for report in reports if report.suite["name"] == suite_name]
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
                report.system["label"],
                report.system["kind"],
                *(_cell(report, name, judge) for name, judge in columns),
            ]
            for report in group
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def render(row: list[str], widths: list[int] = widths) -> str:
            return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))

        version = group[0].suite["version"]
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

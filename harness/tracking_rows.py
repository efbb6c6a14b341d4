"""What a logged run holds besides its traces: summary metrics, usage metrics, and table rows."""

import re

from harness.report import Record, Report

_INVALID = re.compile(r"[^A-Za-z0-9_\-. /]")


def metric_name(name: str) -> str:
    """MLflow accepts letters, digits, _ - . space and /; anything else (e.g. parentheses) becomes _."""
    return _INVALID.sub("_", name)


def summary_metrics(report: Report) -> dict[str, float]:
    """What a person compares across systems: each metric's mean, interval and counts, and usage.

    Per-tag numbers are not metrics (they were over a hundred per run); they are the by_tag.json table.
    """
    metrics: dict[str, float] = {"n_cases": report.n_cases, "n_errors": report.n_errors}
    for name, summary in report.summary.items():
        key = metric_name(name)
        metrics[f"{key}_n_scored"] = summary.n_scored
        metrics[f"{key}_n_unscored"] = summary.n_unscored
        if summary.mean is not None:
            metrics[key] = summary.mean
            metrics[f"{key}_ci_low"] = summary.ci_low if summary.ci_low is not None else summary.mean
            metrics[f"{key}_ci_high"] = summary.ci_high if summary.ci_high is not None else summary.mean
    metrics.update(usage_metrics(report))
    return metrics


def tag_rows(report: Report) -> list[dict[str, object]]:
    """by_tag.json: one row per (case tag, metric) with its mean and how many cases were scored."""
    rows: list[dict[str, object]] = []
    for tag, by_metric in report.by_tag.items():
        for name, sliced in by_metric.items():
            rows.append(
                {
                    "tag": tag,
                    "metric": name,
                    "mean": sliced.mean,
                    "n_cases": sliced.n_cases,
                    "n_scored": sliced.n_scored,
                }
            )
    return rows


def usage_metrics(report: Report) -> dict[str, float]:
    """Tokens and dollars as MLflow metrics: the answers', each judged metric's, and what this run sent."""
    usage = report.usage
    found: dict[str, float] = {}
    fields = ("input_tokens", "output_tokens", "cost_usd")
    if usage.system.calls:
        found.update({f"usage_answers_{name}": float(getattr(usage.system, name)) for name in fields})
    for metric, used in usage.metrics.items():
        found.update({f"usage_{metric_name(metric)}_{name}": float(getattr(used, name)) for name in fields})
    for name in ("requests", "rate_limited", "failed", "cached", "cost_usd"):
        found[f"sent_{name}"] = float(getattr(usage.sent_total, name))
    return found


def case_row(record: Record) -> dict[str, object]:
    row: dict[str, object] = {
        "case_id": record.case_id,
        "question": record.question,
        "reference": record.reference,
        "answer": record.answer.text,
        "contexts": "\n---\n".join(c.text for c in record.answer.contexts)
        if record.answer.contexts is not None
        else "(closed-book)",
        "tags": ", ".join(record.tags),
        "error": record.answer.error or "",
    }
    for name, score in record.scores.items():
        row[name] = score.value
        row[f"{name}_reason"] = score.reason
    return row


__all__ = ["case_row", "metric_name", "summary_metrics", "tag_rows", "usage_metrics"]

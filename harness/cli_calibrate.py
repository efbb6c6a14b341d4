"""`harness calibrate`: how well metrics agree with a human-labelled file (parser and handler)."""

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from harness.errors import InputError

# What `harness calibrate` scores when no --metric is given: every metric that needs no model call.
OFFLINE = (
    "minilm_faithfulness",
    "minilm_answer_relevancy",
    "token_f1",
    "answer_recall",
    "rouge_1",
    "rouge_2",
    "rouge_l",
)

# The annotators' own agreement, printed as the ceiling a metric can be read against.
CEILING_FIGURES = (
    "auroc",
    "raw_agreement",
    "cohen_kappa",
    "spearman",
    "kendall_tau_b",
    "agreement",
    "metric_ties",
    "agreement_when_metric_decides",
    "correlation_spearman",
)


def add_parser(commands: Any) -> None:
    """Register the subcommand on the `harness` parser's subparsers."""
    sub = commands.add_parser(
        "calibrate",
        help="score a human-labelled file with metrics and report how well each agrees with the people",
    )
    sub.add_argument(
        "labels", type=Path, help="label file (JSONL, JSON, CSV, Parquet): pointwise or pairwise"
    )
    sub.add_argument(
        "--metric",
        action="append",
        default=[],
        help=f"metric to calibrate (repeatable; default: {', '.join(OFFLINE)})",
    )
    sub.add_argument(
        "--judge-model", help="chat model grading the LLM-judged metrics, e.g. gemini:gemini-2.5-flash"
    )
    sub.add_argument("--judge-embeddings", default="offline:minilm", help="embedder for answer_relevancy")
    sub.add_argument("--judge-temperature", type=float, default=0.0)
    sub.add_argument("--label-column", help="the column holding the label (default: label, or preference)")
    sub.add_argument("--label-min", type=float, help="lowest label (default 0; pairwise -1)")
    sub.add_argument("--label-max", type=float, help="highest label (default 1; pairwise 1)")
    sub.add_argument("--abstention", help="the abstention answer the metrics should treat as one")
    sub.add_argument(
        "--repeat", type=int, default=1, help="score every item k times (the repeats bypass every cache)"
    )
    sub.add_argument(
        "--threshold", type=float, help="cut for the flip rate (default: the chosen one, or 0.5)"
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of the half split and the bootstrap")
    sub.add_argument(
        "--reports-dir", type=Path, default=Path("reports"), help="results go to <dir>/calibration"
    )
    sub.add_argument("--workers", type=int, default=2, help="threads scoring (default 2)")
    sub.add_argument("--no-cache", action="store_true", help="reuse no cached scores or model calls")
    sub.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    sub.add_argument("--json", action="store_true", help="print the result as one JSON document on stdout")


def run(args: argparse.Namespace) -> int:
    from harness.cache import Cache
    from harness.calibration.labels import load_labels
    from harness.calibration.run import calibrate, label_suite, log_to_mlflow, save
    from harness.metrics import build_metrics
    from harness.metrics.judged import JUDGED
    from harness.suite import JudgeSpec

    if args.repeat < 1:
        raise InputError("--repeat", f"must be at least 1, got {args.repeat}")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise InputError("--threshold", f"must be a finite number, got {args.threshold:g}")
    if not math.isfinite(args.judge_temperature) or not 0 <= args.judge_temperature <= 2:
        raise InputError(
            "--judge-temperature", f"must be a number from 0 to 2, got {args.judge_temperature:g}"
        )
    from harness.metrics import METRICS
    from harness.yamlfile import did_you_mean

    for name in args.metric:  # named by the option, not by the folder the label file is in
        if name not in METRICS and name not in JUDGED:
            hint = did_you_mean(name, [*METRICS, *JUDGED])
            raise InputError("--metric", f"unknown metric '{name}'{hint}")
    labels = load_labels(args.labels, args.label_column, args.label_min, args.label_max)
    suite = label_suite(labels, args.abstention)
    names = list(dict.fromkeys(args.metric)) or list(OFFLINE)
    judge = None
    if args.judge_model:
        from harness.llm.backends import CHAT_FAMILIES, EMBEDDING_FAMILIES, check_ref

        check_ref(args.judge_model, CHAT_FAMILIES, "--judge-model", "chat model")
        check_ref(args.judge_embeddings, EMBEDDING_FAMILIES, "--judge-embeddings", "embeddings")
        judge = JudgeSpec(
            model=args.judge_model, embeddings=args.judge_embeddings, temperature=args.judge_temperature
        )
    judged = [name for name in names if name in JUDGED]
    if judged and judge is None:
        raise InputError("--metric", f"'{judged[0]}' is graded by an LLM: name it with --judge-model")
    if judge is not None and judged:
        from harness.privacy import api_key

        hosted = [ref for ref in (judge.model, judge.embeddings) if ref.startswith("gemini:")]
        if hosted and api_key() is None:
            raise InputError("--judge-model", f"{hosted[0]} needs GOOGLE_API_KEY (or GEMINI_API_KEY)")
    cache = Cache(enabled=not args.no_cache)
    metrics = build_metrics(suite, cache, judge, names)
    fresh = build_metrics(suite, None, judge, names) if args.repeat > 1 else []
    if not args.no_mlflow:
        from harness.tracking import check_store

        check_store()
    result = calibrate(labels, metrics, cache, fresh, args.repeat, args.threshold, args.seed, args.workers)
    folder = save(result, args.reports_dir)
    print(f"calibration saved: {folder}", file=sys.stderr)
    if not args.no_mlflow:
        from harness.tracking import tracking_uri

        run_id = log_to_mlflow(result, folder)
        print(f"MLflow ({tracking_uri()}), experiment calibration: {run_id}", file=sys.stderr)
    # With --json, `harness` prints args.json_document as the one document on stdout and sends what the
    # command prints for people to stderr; a caller that does not redirect gets the document printed here.
    args.json_document = result
    if args.json and sys.stdout is not sys.stderr:
        print(json.dumps(result, indent=2))
    else:
        print(render(result))
    return 0


def _figure(found: dict[str, Any] | None) -> str:
    if not found or found.get("value") is None:
        return "undefined" + (f" ({found['reason']})" if found and found.get("reason") else "")
    text = f"{found['value']:.3f}"
    if found.get("ci_low") is not None:
        text += f" [{found['ci_low']:.3f}, {found['ci_high']:.3f}]"
    return text


def render(result: dict[str, Any]) -> str:
    """The calibration as text: per metric its figures with 95% intervals, then the annotators' ceiling."""
    from harness.calibration.identity import headline_text

    labels = result["labels"]
    lines = [
        f"== Calibration on {labels['name']} ({labels['kind']}, {labels['scale']} labels in "
        f"'{labels['label_column']}': {labels['n_items']} items, {labels['n_labels']} labels)",
    ]
    for name, entry in result["metrics"].items():
        judge = entry["metric"]["judge"] or "no judge"
        if not entry["n_scored_units"]:
            reasons = "; ".join(f"{why} ({n})" for why, n in entry["unscored_reasons"].items())
            lines.append(f"{name} [{judge}]: not calibrated: no answer could be scored: {reasons}")
            continue
        pointer = {"headline": entry["headline"], "labels": labels["name"]}
        lines.append(f"{name} [{judge}]: {headline_text(pointer)}")
        for figure, found in entry["figures"].items():
            if figure == "human_ties":
                ties = found["metric_also_ties"]
                shown = "n/a" if ties is None else f"{ties:.3f}"
                lines.append(
                    f"    pairs people tied: {found['n_labels']} labels, metric also ties on {shown}"
                )
                continue
            extra = f" at threshold {found['threshold']:.4g}" if found.get("threshold") is not None else ""
            lines.append(f"    {figure}: {_figure(found)}{extra} ({found.get('n_items', 0)} items)")
        unscored = entry["n_units"] - entry["n_scored_units"]
        if unscored:
            reasons = "; ".join(f"{why} ({n})" for why, n in entry["unscored_reasons"].items())
            lines.append(f"    unscored: {unscored} of {entry['n_units']} answers: {reasons}")
        consistency = entry.get("consistency")
        if consistency and consistency.get("n_units"):
            line = (
                f"    self-consistency over {consistency['k']} scorings: flip rate "
                f"{_figure(consistency['flip_rate'])} at {consistency['threshold']:.4g}, mean spread "
                f"{_figure(consistency['mean_spread'])}, max spread {consistency['max_spread']:.3f} "
                f"({consistency['n_units']} answers"
            )
            line += (
                f", {consistency['n_incomplete']} with a repeat unscored)"
                if consistency["n_incomplete"]
                else ")"
            )
            lines.append(line)
            decisions = consistency.get("decisions")
            if decisions and decisions.get("n_pairs"):
                lines.append(
                    f"    pairs whose winner changes between scorings: {_figure(decisions['flip_rate'])}"
                )
    ceiling = result.get("ceiling")
    if ceiling:
        parts = [
            f"{figure} {_figure(ceiling[figure])}"
            for figure in CEILING_FIGURES
            if isinstance(ceiling.get(figure), dict)
        ]
        lines.append(
            f"Ceiling (the first two labels of each item against each other, {ceiling['n_items']} items): "
            + "; ".join(parts)
        )
    else:
        lines.append("Ceiling: no item carries two labels")
    sent = result["usage"]["sent_total"]
    if sent.get("calls"):
        lines.append(
            f"Sent: {int(sent['requests'])} requests, {int(sent['cached'])} calls from the cache, "
            f"{int(sent['input_tokens'])} in / {int(sent['output_tokens'])} out tokens, "
            f"${sent['cost_usd']:.4f}"
        )
    return "\n".join(lines)

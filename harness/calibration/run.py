"""`harness calibrate` as a run like any other: score a labelled file with the harness's metrics (through
the score cache and, for judged metrics, the guarded client that counts tokens), measure agreement with
the labels, save it under <reports-dir>/calibration/ keyed by each metric's identity, log it to MLflow.

Over 300 lines for one reason: scoring a label file, measuring agreement, saving and logging are the one
`harness calibrate` run, in the order they happen."""

import datetime as dt
import json
import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

import harness
from harness.cache import Cache
from harness.calibration import figures
from harness.calibration.identity import calibration_dir, describe, identity
from harness.calibration.labels import LabelSet
from harness.files import ensure_writable, write_atomic
from harness.hashing import digest
from harness.llm.usage import LEDGER, Tally, spent_since
from harness.metrics import Metric, Score, score_key
from harness.progress import PROGRESS
from harness.report import git_state
from harness.runner import score_answer
from harness.suite import Case, Passage, Suite
from harness.system import Answer

EXPERIMENT = "calibration"
SCHEMA_VERSION = 1


def label_suite(labels: LabelSet, abstention: str | None = None) -> Suite:
    """The label file as a suite the metric factories accept: one test case per item, no corpus."""
    cases = tuple(cases_of(labels))
    return Suite(
        name=f"calibration:{labels.name}",
        version=1,
        description=f"labelled items of {labels.path}",
        path=str(Path(labels.path).parent),
        k=5,
        metrics={},
        abstention=abstention,
        corpus=(),
        train=(),
        test=cases,
        corpus_hash=digest([]),
        train_hash=digest([]),
        test_hash=digest([case.model_dump() for case in cases]),
    )


def cases_of(labels: LabelSet) -> list[Case]:
    return [Case(id=item.key, question=item.question, reference=item.reference) for item in labels.items]


def units_of(labels: LabelSet) -> list[tuple[Case, Answer]]:
    """Every (case, answer) to score: one per pointwise item, two (a, then b) per pair."""
    units = []
    for case, item in zip(cases_of(labels), labels.items, strict=True):
        contexts = None
        if item.contexts is not None:
            contexts = tuple(
                Passage(id=f"{item.key}-{i}", text=text) for i, text in enumerate(item.contexts, start=1)
            )
        for text in item.answers:
            units.append((case, Answer(case_id=case.id, text=text, contexts=contexts)))
    return units


def score_units(
    metric: Metric, units: Sequence[tuple[Case, Answer]], cache: Cache | None, workers: int
) -> tuple[list[Score], dict[str, int]]:
    """Scores in order; through the runner's score cache (same keys) unless `cache` is None (a repeat)."""
    counts = {"computed": 0, "cached": 0}
    lock = threading.Lock()

    def one(unit: tuple[Case, Answer]) -> Score:
        case, answer = unit
        key = score_key(metric, case, answer)
        stored = cache.get(key) if cache is not None else None
        if stored is not None:
            with lock:
                counts["cached"] += 1
            return Score.model_validate(stored)
        score = score_answer(metric, case, answer)
        if cache is not None and not score.transient:
            cache.put(key, score.model_dump(mode="json"))
        with lock:
            counts["computed"] += 1
        return score

    threads = max(workers, getattr(metric, "concurrency", 1))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, units)), counts


def _values(scores: Sequence[Score]) -> np.ndarray:
    return np.array([math.nan if s.value is None else s.value for s in scores], dtype=float)


def _rows(labels: LabelSet) -> tuple[np.ndarray, np.ndarray]:
    """Per labelling row: its item's index and its label."""
    item_of_row = np.array([i for i, item in enumerate(labels.items) for _ in item.labels], dtype=int)
    values = np.array([label for item in labels.items for label in item.labels], dtype=float)
    return item_of_row, values


def per_item(labels: LabelSet, values: np.ndarray) -> np.ndarray:
    """One number per item from the unit scores: the score (pointwise) or a - b (pairwise)."""
    if labels.kind == "pairwise":
        return values[0::2] - values[1::2]
    return values


def agreement(labels: LabelSet, values: np.ndarray, seed: int) -> dict[str, Any]:
    """Every figure for one metric's unit scores against the labels."""
    item_of_row, label_values = _rows(labels)
    by_item = per_item(labels, values)
    on_rows = by_item[item_of_row]
    if labels.kind == "pairwise":
        return figures.pairwise_figures(on_rows, label_values, item_of_row, seed)
    return figures.pointwise_figures(on_rows, label_values, item_of_row, labels.binary, labels.high, seed)


def ceiling_of(labels: LabelSet, seed: int) -> dict[str, Any] | None:
    """Annotator agreement on the items at least two rows label (the first two labels of each)."""
    doubled = [item for item in labels.items if len(item.labels) >= 2]
    if len(doubled) < 2:
        return None
    first = np.array([item.labels[0] for item in doubled])
    second = np.array([item.labels[1] for item in doubled])
    found = figures.ceiling(first, second, labels.kind, labels.binary, labels.high, seed)
    which = "pairwise" if labels.kind == "pairwise" else "binary" if labels.binary else "graded"
    return {**found, "headline": figures.headline(found, which)}


def calibrate(
    labels: LabelSet,
    metrics: Sequence[Metric],
    cache: Cache,
    fresh: Sequence[Metric] = (),
    repeat: int = 1,
    threshold: float | None = None,
    seed: int = 0,
    workers: int = 2,
) -> dict[str, Any]:
    """Score, measure and summarise. `fresh` are the same metrics built without any cache: repeats 2..k
    score through them (the first scoring is the cached one every run shares)."""
    before = LEDGER.snapshot()
    units = units_of(labels)
    which = "pairwise" if labels.kind == "pairwise" else "binary" if labels.binary else "graded"
    results: dict[str, Any] = {}
    items_out: list[dict[str, Any]] = [
        {"key": item.key, "rows": list(item.rows), "labels": list(item.labels), "scores": {}}
        for item in labels.items
    ]
    for position, metric in enumerate(metrics):
        with PROGRESS.stage("score", f"{metric.name}: scoring {len(units)} answers"):
            scores, counts = score_units(metric, units, cache, workers)
        values = _values(scores)
        found = agreement(labels, values, seed)
        head = figures.headline(found, which)
        unscored: dict[str, int] = {}
        for score in scores:
            if score.value is None:
                unscored[score.reason] = unscored.get(score.reason, 0) + 1
        entry: dict[str, Any] = {
            "identity": identity(metric),
            "metric": describe(metric),
            "higher_is_better": metric.higher_is_better,
            "n_units": len(units),
            "n_scored_units": int((~np.isnan(values)).sum()),
            "unscored_reasons": unscored,
            "scores": counts,
            "figures": found,
            "headline": head,
        }
        repeats = [values]
        if repeat > 1 and fresh:
            for again_index in range(2, repeat + 1):
                doing = (
                    f"{metric.name}: scoring {len(units)} answers again, no cache ({again_index} of {repeat})"
                )
                with PROGRESS.stage("repeat", doing):
                    again, _ = score_units(fresh[position], units, None, workers)
                repeats.append(_values(again))
            stacked = np.stack(repeats, axis=1)
            cut = threshold
            if cut is None:
                cut = (found.get("balanced_accuracy") or {}).get("threshold")
            cut = 0.5 if cut is None else cut
            entry["consistency"] = figures.consistency(stacked, cut, seed)
            if labels.kind == "pairwise":
                entry["consistency"]["decisions"] = figures.decision_flips(
                    stacked[0::2] - stacked[1::2], seed
                )
        usage = Tally()
        for score in scores:
            used = score.details.get("usage")
            if used:
                usage.add(Tally(**{k: v for k, v in used.items() if k in Tally.__dataclass_fields__}))
        if usage.calls:
            entry["usage"] = usage.as_dict()
        results[metric.name] = entry
        step = 2 if labels.kind == "pairwise" else 1
        for index, item in enumerate(items_out):
            chunk = [r[index * step : (index + 1) * step] for r in repeats]
            item["scores"][metric.name] = [[None if math.isnan(v) else float(v) for v in c] for c in chunk]
    spent = spent_since(before)
    total = Tally()
    for tally in spent.values():
        total.add(tally)
    now = dt.datetime.now(dt.UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": f"{now.strftime('%Y%m%dT%H%M%S_%fZ')}_{labels.name}",
        "created": now.isoformat(),
        "harness_version": harness.__version__,
        "git": git_state(),
        "labels": {
            "path": labels.path,
            "name": labels.name,
            "kind": labels.kind,
            "scale": which,
            "label_column": labels.label_column,
            "range": [labels.low, labels.high],
            "n_items": len(labels.items),
            "n_labels": labels.n_labels,
            "n_items_labelled_twice": sum(len(item.labels) >= 2 for item in labels.items),
            "file_hash": labels.file_hash,
        },
        "seed": seed,
        "repeat": repeat,
        "ceiling": ceiling_of(labels, seed),
        "metrics": results,
        "usage": {
            "sent": {f"{m} {p}": t.as_dict() for (m, p), t in sorted(spent.items())},
            "sent_total": total.as_dict(),
        },
        "_items": items_out,
    }


def save(result: dict[str, Any], reports_dir: Path) -> Path:
    """<reports-dir>/calibration/runs/<run id>/ (calibration.json, items.jsonl) and, per metric,
    latest/<metric>__<identity>.json: what the verdict, the report and the gate look up."""
    root = calibration_dir(reports_dir)
    ensure_writable(root / "runs", "the reports folder")
    folder = root / "runs" / result["run_id"]
    folder.mkdir(parents=True, exist_ok=False)
    items = result.pop("_items", [])
    write_atomic(folder / "items.jsonl", "".join(json.dumps(item) + "\n" for item in items))
    write_atomic(folder / "calibration.json", json.dumps(result, indent=2) + "\n")
    (root / "latest").mkdir(exist_ok=True)
    for name, entry in result["metrics"].items():
        if entry["headline"]["value"] is None:  # nothing scored or not defined: the metric stays uncalibrated
            continue
        pointer = {
            "metric": entry["metric"],
            "identity": entry["identity"],
            "labels": result["labels"]["name"],
            "labels_hash": result["labels"]["file_hash"],
            "run_id": result["run_id"],
            "created": result["created"],
            "headline": entry["headline"],
            "ceiling": (result["ceiling"] or {}).get("headline"),
            "consistency": entry.get("consistency"),
        }
        write_atomic(
            root / "latest" / f"{name}__{entry['identity']}.json", json.dumps(pointer, indent=2) + "\n"
        )
    return folder


def log_to_mlflow(result: dict[str, Any], folder: Path) -> str:
    """One run in the experiment `calibration`: figures as metrics, the saved folder as artifacts."""
    import mlflow

    from harness.tracking import _client, _experiment_id, _store_errors, tracking_uri
    from harness.tracking_rows import metric_name
    from harness.tracking_store import OWNER_TAG, owner, store_lock

    uri = tracking_uri()
    client = _client(uri)
    mlflow.set_tracking_uri(uri)
    values: dict[str, float] = {
        "n_items": result["labels"]["n_items"],
        "n_labels": result["labels"]["n_labels"],
    }
    for name, entry in result["metrics"].items():
        key = metric_name(name)
        for figure, found in entry["figures"].items():
            if isinstance(found, dict) and found.get("value") is not None:
                values[f"{key}_{figure}"] = found["value"]
                for side in ("ci_low", "ci_high"):
                    if found.get(side) is not None:
                        values[f"{key}_{figure}_{side}"] = found[side]
        consistency = entry.get("consistency") or {}
        for figure in ("flip_rate", "mean_spread"):
            if (consistency.get(figure) or {}).get("value") is not None:
                values[f"{key}_{figure}"] = consistency[figure]["value"]
        if entry.get("usage"):
            values[f"usage_{key}_cost_usd"] = entry["usage"]["cost_usd"]
    head = (result.get("ceiling") or {}).get("headline") or {}
    if head.get("value") is not None:
        values[f"ceiling_{head['figure']}"] = head["value"]
    judges = sorted({e["metric"]["judge"] for e in result["metrics"].values() if e["metric"]["judge"]})
    tags = {
        "labels": result["labels"]["name"],
        "labels_hash": result["labels"]["file_hash"],
        "kind": result["labels"]["kind"],
        "judge": ", ".join(judges) or "none",
        "git_commit": result["git"]["commit"],
        "run_folder": result["run_id"],
        OWNER_TAG: owner(),
    }
    with _store_errors(uri):
        with store_lock(uri):
            experiment = _experiment_id(client, EXPERIMENT, uri)
        run_name = f"{result['labels']['name']}@{str(result['git']['commit'])[:7]}"
        with mlflow.start_run(experiment_id=experiment, run_name=run_name, tags=tags) as run:
            mlflow.log_params(
                {
                    "labels_path": result["labels"]["path"],
                    "metrics": ", ".join(result["metrics"]),
                    "repeat": result["repeat"],
                    "seed": result["seed"],
                    "label_column": result["labels"]["label_column"],
                }
            )
            mlflow.log_metrics(values)
            mlflow.log_artifacts(str(folder), artifact_path="calibration")
            return str(run.info.run_id)

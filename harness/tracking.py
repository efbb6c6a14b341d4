"""MLflow logging of a bench: the only module that imports mlflow."""

import os
import re
from collections.abc import Sequence
from pathlib import Path

from harness.report import Record, Report
from harness.system import flatten

DEFAULT_STORE = "mlflow.db"
_INVALID = re.compile(r"[^A-Za-z0-9_\-. /]")


def tracking_uri(root: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI when set, else a SQLite store in the project folder."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root or Path.cwd()).resolve() / DEFAULT_STORE}"
    )


def metric_name(name: str) -> str:
    """MLflow accepts letters, digits, _ - . space and /; anything else (e.g. parentheses) becomes _."""
    return _INVALID.sub("_", name)


def _experiment_id(mlflow, client, name: str, uri: str) -> str:  # type: ignore[no-untyped-def]
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if uri.startswith("sqlite:///"):
        # Next to the database, not in whatever folder the command happened to run from.
        location = (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts" / name).resolve().as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def log_bench(
    runs: Sequence[tuple[Report, Sequence[Record], Path]], bench_id: str, uri: str | None = None
) -> dict[str, str]:
    """Log each (suite, system) run as a child of a per-suite parent run for this bench.

    One experiment per suite; the parents of one bench share the tag bench_id. Returns
    {"<suite>/<system>": run id}, with the parents under "<suite>".
    """
    import mlflow
    import pandas as pd
    from mlflow.tracking import MlflowClient

    uri = uri or tracking_uri()
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    run_ids: dict[str, str] = {}
    suites = dict.fromkeys(report.suite["name"] for report, _, _ in runs)
    for suite_name in suites:
        group = [run for run in runs if run[0].suite["name"] == suite_name]
        experiment = _experiment_id(mlflow, client, suite_name, uri)
        first = group[0][0]
        parent_tags = {
            "bench_id": bench_id,
            "suite": suite_name,
            "suite_version": str(first.suite["version"]),
        }
        parent_tags["git_commit"] = first.git["commit"]
        # the UI's run table filters parents by judge too, so a bench under another judge is told apart
        judges = sorted({judge for report, _, _ in group for judge in report.judges})
        parent_tags["judge"] = ", ".join(judges) or "none"
        with mlflow.start_run(
            experiment_id=experiment, run_name=f"bench {bench_id}", tags=parent_tags
        ) as parent:
            run_ids[suite_name] = parent.info.run_id
            for report, records, folder in group:
                run_ids[f"{suite_name}/{report.system['name']}"] = _log_run(
                    mlflow, pd, report, records, folder, experiment, bench_id
                )
    return run_ids


def _log_run(
    mlflow, pd, report: Report, records: Sequence[Record], folder: Path, experiment: str, bench_id: str
) -> str:  # type: ignore[no-untyped-def]
    commit = report.git["commit"]
    tags = {
        "bench_id": bench_id,
        "run_folder": report.run_id,
        "suite": report.suite["name"],
        "suite_version": str(report.suite["version"]),
        "suite_hash": report.suite["hash"],
        "system": report.system["name"],
        "system_label": report.system["label"],
        "kind": report.system["kind"],
        "system_hash": report.system["hash"],
        "judge": ", ".join(report.judges) or "none",
        "git_commit": commit,
        "git_dirty": str(report.git.get("dirty")),
        "harness_version": report.harness_version,
        # shown as the run's description in the UI: which generator a reader is looking at
        "mlflow.note.content": f"{report.system['label']}: {report.system['spec'].get('description', '')}",
    }
    run_name = f"{report.system['name']}@{commit[:7]}"
    with mlflow.start_run(experiment_id=experiment, run_name=run_name, nested=True, tags=tags) as run:
        mlflow.log_params(flatten(report.system["spec"]))
        metrics: dict[str, float] = {"n_cases": report.n_cases, "n_errors": report.n_errors}
        for name, summary in report.summary.items():
            key = metric_name(name)
            metrics[f"{key}_n_scored"] = summary.n_scored
            metrics[f"{key}_n_unscored"] = summary.n_unscored
            if summary.mean is not None:
                metrics[key] = summary.mean
                metrics[f"{key}_ci_low"] = summary.ci_low or 0.0
                metrics[f"{key}_ci_high"] = summary.ci_high or 0.0
        metrics.update(usage_metrics(report))
        for tag, by_metric in report.by_tag.items():
            for name, sliced in by_metric.items():
                if sliced["mean"] is not None:
                    metrics[metric_name(f"tag_{tag}_{name}")] = sliced["mean"]
        mlflow.log_metrics(metrics)
        for curve, values in report.training.items():
            for step, value in enumerate(values):
                mlflow.log_metric(metric_name(curve), value, step=step)
        mlflow.log_table(data=pd.DataFrame([_row(record) for record in records]), artifact_file="cases.json")
        mlflow.log_artifacts(str(folder), artifact_path="run")
        return str(run.info.run_id)


def usage_metrics(report: Report) -> dict[str, float]:
    """Tokens and dollars as MLflow metrics: the answers', each judged metric's, and what this run sent."""
    usage = report.usage
    found: dict[str, float] = {}
    fields = ("input_tokens", "output_tokens", "cost_usd")
    system = usage.get("system") or {}
    if system.get("calls"):
        found.update({f"usage_answers_{name}": float(system.get(name, 0)) for name in fields})
    for metric, used in (usage.get("metrics") or {}).items():
        found.update({f"usage_{metric_name(metric)}_{name}": float(used.get(name, 0)) for name in fields})
    sent = usage.get("sent_total") or {}
    if sent:
        for name in ("requests", "rate_limited", "failed", "cached", "cost_usd"):
            found[f"sent_{name}"] = float(sent.get(name, 0))
    return found


def _row(record: Record) -> dict[str, object]:
    row: dict[str, object] = {
        "case_id": record.case_id,
        "question": record.question,
        "reference": record.reference,
        "answer": record.answer,
        "contexts": "\n---\n".join(c["text"] for c in record.contexts)
        if record.contexts is not None
        else "(closed-book)",
        "tags": ", ".join(record.tags),
        "error": record.error or "",
    }
    for name, score in record.scores.items():
        row[name] = score.value
        row[f"{name}_reason"] = score.reason
    return row


def read_runs(experiment: str, uri: str | None = None) -> list:  # type: ignore[type-arg]
    """The runs of one suite's experiment, newest first (for tests, gates and reports)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri or tracking_uri())
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    return list(client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"]))


def _store_missing(uri: str) -> bool:
    """A SQLite store that does not exist yet: looking something up must not create it."""
    return uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists()


def find_run(experiment: str, tags: dict[str, str], uri: str | None = None) -> str | None:
    """The id of the newest run in a suite's experiment carrying all these tags, or None."""
    from mlflow.tracking import MlflowClient

    uri = uri or tracking_uri()
    if _store_missing(uri):
        return None
    client = MlflowClient(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return None
    query = " and ".join(f"tags.{key} = '{value}'" for key, value in tags.items())
    runs = client.search_runs(
        [found.experiment_id], filter_string=query, order_by=["attributes.start_time DESC"], max_results=1
    )
    return str(runs[0].info.run_id) if runs else None


def tag_run(experiment: str, run_folder: str, key: str, value: str, uri: str | None = None) -> bool:
    """Tag the logged run of a run folder (e.g. gate=pass, baseline=true); False if it was never logged."""
    from mlflow.tracking import MlflowClient

    run_id = find_run(experiment, {"run_folder": run_folder}, uri)
    if run_id is None:
        return False
    MlflowClient(uri or tracking_uri()).set_tag(run_id, key, value)
    return True


def run_artifacts(run_id: str, uri: str | None = None) -> tuple[str, dict]:  # type: ignore[type-arg]
    """A logged run's run.json text and its per-case table (cases.json, pandas 'split' layout)."""
    import json
    import tempfile

    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from harness.errors import InputError

    os.environ.setdefault(
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"
    )  # two tiny files: no bars on stderr
    client = MlflowClient(uri or tracking_uri())
    with tempfile.TemporaryDirectory() as scratch:
        try:
            run_json = Path(client.download_artifacts(run_id, "run/run.json", scratch)).read_text("utf-8")
            table = Path(client.download_artifacts(run_id, "cases.json", scratch)).read_text("utf-8")
        except MlflowException as err:
            raise InputError(
                f"mlflow:{run_id}", f"cannot read run/run.json and cases.json: {err.message}"
            ) from None
    return run_json, json.loads(table)


__all__ = ["find_run", "log_bench", "metric_name", "read_runs", "run_artifacts", "tag_run", "tracking_uri"]

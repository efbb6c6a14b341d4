"""MLflow logging of a bench; with tracking_cases.py (per-case traces), the only modules importing mlflow.

Over 300 lines for one reason: every MLflow call of a bench (the store check, parents, child runs,
recovery of unlogged folders) is here, so only this module and tracking_cases.py import mlflow."""

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.report import Run
from harness.system import flatten
from harness.tracking_cases import log_cases
from harness.tracking_rows import case_row, metric_name, summary_metrics, tag_rows, usage_metrics
from harness.tracking_store import (
    OWNER_TAG,
    close_stale_runs,
    configure_http,
    owner,
    preflight,
    shown,
    sqlite_path,
    store_lock,
    unlogged_runs,
)

DEFAULT_STORE = "mlflow.db"
BY_TAG = "by_tag.json"
# HARNESS_MLFLOW_TRACES=0 leaves out the per-case traces (about 30 ms of CPU a case on SQLite; see
# benchmarks/README.md), e.g. for a warm bench whose runs only need their summary in MLflow
TRACES_SETTING = "HARNESS_MLFLOW_TRACES"
# MLflow's log_batch takes at most 1000 metrics per request
BATCH = 1000


def tracking_uri(root: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI when set, else a SQLite store in the project folder."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root or Path.cwd()).resolve() / DEFAULT_STORE}"
    )


def _quiet() -> None:
    """MLflow's trace queue announces at exit that it is flushing; log_bench has flushed it already."""
    logging.getLogger("mlflow.tracing.export.async_export_queue").setLevel(logging.WARNING)


def _client(uri: str):  # type: ignore[no-untyped-def]
    """A client on a store that answers; a fresh SQLite store is created (and migrated) under a lock."""
    from mlflow.tracking import MlflowClient

    configure_http()
    preflight(uri)
    _quiet()
    with store_lock(uri), _store_errors(uri):
        # MLflow opens the store when the client is made (and caches it per URI): that creates and
        # migrates its tables, which two processes must not do at once
        client = MlflowClient(uri)
    return client


def check_store(uri: str | None = None) -> None:
    """Before a bench does any work: the store answers and can be opened, or one line (InputError)."""
    _client(uri or tracking_uri())


@contextlib.contextmanager
def _store_errors(uri: str) -> Iterator[None]:
    """An MLflow store failing mid-way is one line naming the setting, not a traceback."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as err:
        first = str(err.message).strip().splitlines()[0] if str(err.message).strip() else type(err).__name__
        raise InputError(f"MLFLOW_TRACKING_URI={shown(uri)}", f"MLflow failed: {first[:300]}") from None


def _experiment_id(client, name: str, uri: str) -> str:  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    path = sqlite_path(uri)
    if path is not None:
        # Next to the database, not in whatever folder the command happened to run from.
        location = (path.parent / "mlartifacts" / name).resolve().as_uri()
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException:
        # another bench created it between our look-up and our create
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)


def log_bench(
    runs: Sequence[Run],
    bench_id: str,
    uri: str | None = None,
    verdicts: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
    reports_dir: Path | None = None,
) -> dict[str, str]:
    """Log each (suite, system) run as a child of a per-suite parent run for this bench.

    One experiment per suite; the parents of one bench share the tag bench_id. Before logging, runs
    that a killed bench left RUNNING are marked KILLED, and, with `reports_dir`, finished run folders
    of the same suites and systems that MLflow never saw (a bench killed before it logged) are logged
    too, tagged `recovered=true`. `verdicts` maps a suite to its verdict (markdown, JSON-able dict),
    logged as verdict.md and verdict.json on that suite's parent. Returns {"<suite>/<system>": run id},
    with the parents under "<suite>".
    """
    import mlflow
    import pandas as pd

    uri = uri or tracking_uri()
    client = _client(uri)
    mlflow.set_tracking_uri(uri)
    run_ids: dict[str, str] = {}
    suites = dict.fromkeys(run.report.suite.name for run in runs)
    with _store_errors(uri):
        with store_lock(uri):
            experiments = {name: _experiment_id(client, name, uri) for name in suites}
        close_stale_runs(client, list(experiments.values()))
        recovered = _recovered(client, experiments, runs, reports_dir) if reports_dir else []
        for suite_name in suites:
            group = [run for run in runs if run.report.suite.name == suite_name]
            late = [run for run in recovered if run.report.suite.name == suite_name]
            experiment = experiments[suite_name]
            with mlflow.start_run(
                experiment_id=experiment, run_name=f"bench {bench_id}", tags=_parent_tags(group, bench_id)
            ) as parent:
                run_ids[suite_name] = parent.info.run_id
                for run in group:
                    key = f"{suite_name}/{run.report.system.name}"
                    run_ids[key] = _log_run(mlflow, pd, run, experiment, bench_id)
                for run in late:
                    key = f"{suite_name}/{run.report.system.name} (recovered {run.report.run_id})"
                    run_ids[key] = _log_run(mlflow, pd, run, experiment, bench_id, recovered=True)
                if verdicts and suite_name in verdicts:
                    text, data = verdicts[suite_name]
                    mlflow.log_text(text, "verdict.md")
                    mlflow.log_dict(data, "verdict.json")
    return run_ids


def _recovered(
    client,  # type: ignore[no-untyped-def]
    experiments: Mapping[str, str],
    runs: Sequence[Run],
    reports_dir: Path,
) -> list[Run]:
    """Finished run folders of these runs' (suite, system) pairs that MLflow never saw (tracking_store)."""
    pairs = [(run.report, run.records, run.folder) for run in runs]
    return [
        Run(report, tuple(records), folder)
        for report, records, folder in unlogged_runs(client, experiments, pairs, reports_dir)
    ]


def _parent_tags(group: Sequence[Run], bench_id: str) -> dict[str, str]:
    first = group[0].report
    tags = {
        "bench_id": bench_id,
        "suite": first.suite.name,
        "suite_version": str(first.suite.version),
        "git_commit": first.git.commit,
        OWNER_TAG: owner(),
    }
    # the UI's run table filters parents by judge too, so a bench under another judge is told apart
    judges = sorted({judge for run in group for judge in run.report.judges})
    tags["judge"] = ", ".join(judges) or "none"
    return tags


def _log_run(
    mlflow,  # type: ignore[no-untyped-def]
    pd,  # type: ignore[no-untyped-def]
    run: Run,
    experiment: str,
    bench_id: str,
    recovered: bool = False,
) -> str:
    report, records = run.report, run.records
    commit = report.git.commit
    tags = {
        "bench_id": bench_id,
        "run_folder": report.run_id,
        "suite": report.suite.name,
        "suite_version": str(report.suite.version),
        "suite_hash": report.suite.hash,
        "system": report.system.name,
        "system_label": report.system.label,
        "kind": report.system.kind,
        "system_hash": report.system.hash,
        "judge": ", ".join(report.judges) or "none",
        "git_commit": commit,
        "git_dirty": str(report.git.dirty),
        "harness_version": report.harness_version,
        OWNER_TAG: owner(),
        # shown as the run's description in the UI: which generator a reader is looking at
        "mlflow.note.content": f"{report.system.label}: {report.system.spec.get('description', '')}",
    }
    if recovered:
        tags["recovered"] = "true"
    run_name = f"{report.system.name}@{commit[:7]}"
    with mlflow.start_run(experiment_id=experiment, run_name=run_name, nested=True, tags=tags) as logged:
        mlflow.log_params(flatten(report.system.spec))
        mlflow.log_metrics(summary_metrics(report))
        client = mlflow.MlflowClient()
        for curve, values in report.training.items():
            # batches, not a request per step: a long curve would cost a round trip per point on a server
            points = [_metric(metric_name(curve), value, step) for step, value in enumerate(values)]
            for start in range(0, len(points), BATCH):
                client.log_batch(logged.info.run_id, metrics=points[start : start + BATCH])
        mlflow.log_table(
            data=pd.DataFrame([case_row(record) for record in records]), artifact_file="cases.json"
        )
        if report.by_tag:
            mlflow.log_table(data=pd.DataFrame(tag_rows(report)), artifact_file=BY_TAG)
        mlflow.log_artifacts(str(run.folder), artifact_path="run")
        if os.environ.get(TRACES_SETTING, "1") != "0":
            log_cases(report, records, experiment, logged.info.run_id)
            # the traces go out on MLflow's background queue: all of them are stored before the run ends
            mlflow.flush_trace_async_logging()
        return str(logged.info.run_id)


def _metric(key: str, value: float, step: int):  # type: ignore[no-untyped-def]
    from mlflow.entities import Metric

    return Metric(key=key, value=float(value), timestamp=int(time.time() * 1000), step=step)


def _store_missing(uri: str) -> bool:
    """A SQLite store that does not exist yet: looking something up must not create it."""
    return uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists()


def find_run(experiment: str, tags: dict[str, str], uri: str | None = None) -> str | None:
    """The id of the newest run in a suite's experiment carrying all these tags, or None."""
    uri = uri or tracking_uri()
    if _store_missing(uri):
        return None
    client = _client(uri)
    with _store_errors(uri):
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
    uri = uri or tracking_uri()
    run_id = find_run(experiment, {"run_folder": run_folder}, uri)
    if run_id is None:
        return False
    with _store_errors(uri):
        _client(uri).set_tag(run_id, key, value)
    return True


def run_artifacts(run_id: str, uri: str | None = None) -> tuple[str, dict]:  # type: ignore[type-arg]
    """A logged run's run.json text and its per-case table (cases.json, pandas 'split' layout)."""
    import json
    import tempfile

    from mlflow.exceptions import MlflowException

    os.environ.setdefault(
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"
    )  # two tiny files: no bars on stderr
    client = _client(uri or tracking_uri())
    with tempfile.TemporaryDirectory() as scratch:
        try:
            run_json = Path(client.download_artifacts(run_id, "run/run.json", scratch)).read_text("utf-8")
            table = Path(client.download_artifacts(run_id, "cases.json", scratch)).read_text("utf-8")
        except MlflowException as err:
            raise InputError(
                f"mlflow:{run_id}", f"cannot read run/run.json and cases.json: {err.message}"
            ) from None
    return run_json, json.loads(table)


__all__ = [
    "BY_TAG",
    "check_store",
    "find_run",
    "log_bench",
    "metric_name",
    "run_artifacts",
    "summary_metrics",
    "tag_rows",
    "tag_run",
    "tracking_uri",
    "unlogged_runs",
    "usage_metrics",
]

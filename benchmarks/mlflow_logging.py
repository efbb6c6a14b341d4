"""What logging a full bench to MLflow costs: 4 suites × 3 systems × 150 cases, traces and all.

Builds the runs from one real smoke run folder (its run.json and records, each record repeated with
new case ids up to --cases), so no model has to run; then times `log_bench` on a fresh store, once as
shipped (summary metrics, tables, run folder, one trace per case with its scores) and once without the
per-case traces, to show what the traces add. Prints wall seconds, this process's CPU seconds and the
load average (other work on the machine slows the figures down).

    .venv/bin/python benchmarks/mlflow_logging.py RUN_FOLDER [--cases 150] [--uri URI]

RUN_FOLDER: any finished run, e.g. `harness bench --suite smoke --no-mlflow` then reports/runs/<newest>.
Without --uri each measurement logs to a fresh SQLite store in a temporary folder.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

from harness.report import Run, load_run

SUITES = ("smoke", "knowledge-refresh", "house-style", "support-docs")
SYSTEMS = ("rag-minilm", "finetuned-minilm", "hybrid-minilm")


def runs_like(folder: Path, cases: int, scratch: Path) -> list[Run]:
    """Twelve runs shaped like a real bench's, written as run folders (log_bench uploads the folder)."""
    report, records = (found := load_run(folder)).report, found.records
    built = []
    for suite in SUITES:
        for system in SYSTEMS:
            name = f"20990101T000000Z_{suite}_{system}"
            copies = [
                record.model_copy(update={"case_id": f"{record.case_id}-{n}"})
                for n in range(cases // len(records) + 1)
                for record in records
            ][:cases]
            this = report.model_copy(
                update={
                    "run_id": name,
                    "suite": report.suite.model_copy(update={"name": suite}),
                    "system": report.system.model_copy(update={"name": system}),
                    "n_cases": len(copies),
                }
            )
            target = scratch / "runs" / name
            target.mkdir(parents=True)
            (target / "run.json").write_text(json.dumps(this.model_dump(mode="json")), encoding="utf-8")
            lines = "".join(record.model_dump_json() + "\n" for record in copies)
            (target / "records.jsonl").write_text(lines, encoding="utf-8")
            built.append(Run(this, tuple(copies), target))
    return built


def measure(runs: list[Run], uri: str, traces: bool) -> dict[str, float]:
    from harness import tracking

    started, cpu = time.perf_counter(), time.process_time()
    load_before = os.getloadavg()[0]
    if traces:
        tracking.log_bench(runs, f"measure-{time.time_ns()}", uri=uri)
    else:
        with mock.patch.object(tracking, "log_cases", lambda *args: 0):
            tracking.log_bench(runs, f"measure-{time.time_ns()}", uri=uri)
    return {
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder", type=Path)
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--uri", help="a tracking URI (default: a fresh SQLite store per measurement)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = runs_like(args.run_folder, args.cases, Path(tmp))
        n_scores = sum(len(record.scores) for _, records, _ in runs for record in records)
        print(f"{len(runs)} runs, {sum(len(r) for _, r, _ in runs)} cases, {n_scores} scores")
        for traces in (False, True):
            uri = args.uri or f"sqlite:///{tmp}/mlflow-{int(traces)}.db"
            figures = measure(runs, uri, traces)
            print(f"{'with' if traces else 'without'} per-case traces: {json.dumps(figures)}")


if __name__ == "__main__":
    main()

"""Baselines: the latest runs promoted to committed files (or found in MLflow) and read back for the gate."""

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import InputError
from harness.files import write_atomic
from harness.report import Record, Report, load_report

SCHEMA_VERSION = 1
CaseValues = dict[str, dict[str, float | None]]


class Baseline(BaseModel):
    """What the gate needs of a past run: run.json and each case's metric values (no answers, no secrets)."""

    model_config = ConfigDict(frozen=True)
    schema_version: int = SCHEMA_VERSION
    report: Report
    cases: CaseValues = Field(description="case id -> metric -> value, None where the case was unscored")
    source: str = Field(default="", exclude=True, description="Where it was read from, for messages.")


def case_values(records: Sequence[Record]) -> CaseValues:
    return {
        record.case_id: {name: score.value for name, score in record.scores.items()} for record in records
    }


def baseline_file(baselines_dir: Path, suite: str, system: str) -> Path:
    return baselines_dir / f"{suite}__{system}.json"


def latest_runs(reports_dir: Path, suite: str | None = None, system: str | None = None) -> list[Path]:
    """The newest finished run folder of each (suite, system), optionally of one suite and/or system only.

    A folder without run.json (a run killed before it finished) is passed over in silence; a damaged one
    (a truncated run.json, a broken records.jsonl line) is passed over with a one-line warning naming it,
    and the next newest run of its (suite, system) is taken instead: one bad folder never stops the gate,
    the report or a re-score of the others.
    """
    found: dict[tuple[str, str], list[Path]] = {}
    # Folder names start with a sortable UTC stamp, so sorted order is age order.
    for run_file in sorted((reports_dir / "runs").glob("*/run.json")):
        try:
            report = Report.model_validate_json(run_file.read_bytes())
        except ValidationError as err:
            _warn_skipped(str(run_file), f"damaged run.json: {err.errors()[0]['msg']}")
            continue
        except OSError as err:
            _warn_skipped(str(run_file), err.strerror or str(err))
            continue
        key = (report.suite.name, report.system.name)
        if (suite is None or key[0] == suite) and (system is None or key[1] == system):
            found.setdefault(key, []).append(run_file.parent)
    newest: dict[tuple[str, str], Path] = {}
    for key, folders in found.items():
        for folder in reversed(folders):
            try:
                load_report(folder)
            except InputError as err:
                _warn_skipped(err.where, err.what)
                continue
            newest[key] = folder
            break
    if not newest:
        wanted = " × ".join(filter(None, [suite, system])) or "any suite"
        raise InputError(
            str(reports_dir / "runs"), f"no finished runs of {wanted}: run `harness bench` first"
        )
    return [newest[key] for key in sorted(newest)]


def _warn_skipped(where: str, what: str) -> None:
    print(f"warning: skipped damaged run folder {where}: {what}", file=sys.stderr)


def promote(
    reports_dir: Path, suite: str | None = None, system: str | None = None, to: Path | None = None
) -> list[Path]:
    """Write the latest runs as baseline files (default reports_dir/baselines), for a reviewed commit."""
    to = to or reports_dir / "baselines"
    to.mkdir(parents=True, exist_ok=True)
    written = []
    for folder in latest_runs(reports_dir, suite, system):
        report, records = load_report(folder)
        path = baseline_file(to, report.suite.name, report.system.name)
        baseline = Baseline(report=report, cases=case_values(records))
        write_atomic(path, json.dumps(baseline.model_dump(mode="json"), indent=1) + "\n")
        written.append(path)
    return written


def load_baseline(path: Path) -> Baseline:
    if not path.is_file():
        raise InputError(
            str(path), "no baseline: promote one with `make baseline` and commit it after review"
        )
    try:
        baseline = Baseline.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as err:
        raise InputError(str(path), f"not a baseline file: {err.errors()[0]['msg']}") from None
    return baseline.model_copy(update={"source": str(path)})


def mlflow_baseline(run_id: str | None, suite: str | None = None, system: str | None = None) -> Baseline:
    """A baseline from an MLflow run: the one named, or the newest tagged baseline=true of suite × system."""
    from harness.tracking import find_run, run_artifacts

    if run_id is None:
        run_id = find_run(suite or "", {"system": system or "", "baseline": "true"})
        if run_id is None:
            raise InputError(
                "mlflow",
                f"no run of {suite} × {system} tagged baseline=true (tag one: `harness baseline --mlflow`)",
            )
    run_json, table = run_artifacts(run_id)
    try:
        report = Report.model_validate_json(run_json)
    except ValidationError as err:
        raise InputError(f"mlflow:{run_id}", f"run.json is damaged: {err.errors()[0]['msg']}") from None
    return Baseline(
        report=report, cases=_table_values(table, list(report.summary)), source=f"mlflow:{run_id}"
    )


def _table_values(table: dict[str, Any], metrics: list[str]) -> CaseValues:
    """Per-case values from the cases.json table MLflow holds (pandas 'split' layout; NaN means unscored)."""
    columns = table["columns"]
    at = {name: columns.index(name) for name in ["case_id", *metrics] if name in columns}

    def value(row: list[Any], name: str) -> float | None:
        raw = row[at[name]] if name in at else None
        return None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else float(raw)

    return {str(row[at["case_id"]]): {name: value(row, name) for name in metrics} for row in table["data"]}


def mark_in_mlflow(reports_dir: Path, suite: str | None = None, system: str | None = None) -> list[str]:
    """Tag the MLflow runs of the latest runs baseline=true, where `gate --baseline mlflow` finds them."""
    from harness.tracking import tag_run

    tagged = []
    for folder in latest_runs(reports_dir, suite, system):
        report = Report.model_validate_json((folder / "run.json").read_text(encoding="utf-8"))
        if not tag_run(report.suite.name, report.run_id, "baseline", "true"):
            raise InputError(str(folder), "not in the MLflow store (was it run with --no-mlflow?)")
        tagged.append(report.run_id)
    return tagged

"""Writing a run folder (reports/runs/<run id>/): the one place records.jsonl, summary.md and run.json
are written.

A run folder is made when a run starts; each record is appended to records.jsonl the moment its case
is scored (a run killed part-way keeps what it finished, and its scores are in the cache for the next
run); when every case is in, records.jsonl is rewritten in case order and summary.md, then run.json, are
written. run.json is what marks a folder finished (readers skip folders without it), so it goes last and
atomically: a run killed at any moment leaves either no run.json or a whole one.
"""

import datetime as dt
import json
import threading
from collections.abc import Sequence
from pathlib import Path

from harness.files import ensure_writable, write_atomic
from harness.report import Record, Report, Run, summary_markdown


def record_line(record: Record) -> str:
    """One records.jsonl line (the flat format every harness version wrote)."""
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n"


def save_report(report: Report, folder: Path) -> None:
    """Write summary.md, then run.json (last and atomically), next to an already written records.jsonl."""
    write_atomic(folder / "summary.md", summary_markdown(report))
    write_atomic(folder / "run.json", json.dumps(report.model_dump(mode="json"), indent=2) + "\n")


class RunFolder:
    """A run folder being filled: made by `start`, appended to by `append`, closed by `finish`."""

    def __init__(self, folder: Path, run_id: str, created: str) -> None:
        self.folder = folder
        self.run_id = run_id
        self.created = created
        self._lock = threading.Lock()

    @classmethod
    def start(cls, reports_dir: Path, suite: str, system: str) -> "RunFolder":
        """A fresh folder <reports_dir>/runs/<UTC stamp>_<suite>_<system> (never an existing one)."""
        ensure_writable(reports_dir / "runs", "the reports folder")
        now = dt.datetime.now(dt.UTC)
        run_id = f"{now.strftime('%Y%m%dT%H%M%S_%fZ')}_{suite}_{system}"
        folder = reports_dir / "runs" / run_id
        folder.mkdir(parents=True, exist_ok=False)
        return cls(folder, run_id, now.isoformat())

    @property
    def records_path(self) -> Path:
        return self.folder / "records.jsonl"

    def append(self, record: Record) -> None:
        """Add one finished case to records.jsonl (thread-safe; in the order cases finish)."""
        with self._lock, self.records_path.open("a", encoding="utf-8") as handle:
            handle.write(record_line(record))

    def finish(self, report: Report, records: Sequence[Record]) -> Run:
        """Rewrite records.jsonl in case order, then write summary.md and run.json: the finished Run."""
        write_atomic(self.records_path, "".join(record_line(record) for record in records))
        save_report(report, self.folder)
        return Run(report, tuple(records), self.folder)

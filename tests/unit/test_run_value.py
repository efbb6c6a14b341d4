"""A finished run is one value: records keep their flat line, old run.json files migrate, the executor
option reaches the bench (fast: no model runs)."""

import json
import sys
import types
from pathlib import Path

import pytest

from harness import bench
from harness.cli import main
from harness.errors import InputError
from harness.metrics import Score
from harness.report import Record, Report, Run, load_run, outcome
from harness.report_types import SCHEMA_VERSION, migrate
from harness.run_folder import RunFolder
from harness.suite import Passage
from harness.system import Answer
from tests.conftest import ROOT, SMOKE

FLAT = (
    '{"case_id": "c1", "question": "q?", "reference": "r", "gold_ids": ["d1"], "tags": ["t"], '
    '"answer": "Paris é", "contexts": [{"id": "d1#0", "text": "Paris.", "title": "", "doc_id": "d1", '
    '"score": 0.5}], "latency_s": 0.25, "usage": {"prompt_tokens": 3}, "error": null, '
    '"scores": {"token_f1": {"value": 1.0, "reason": "", "details": {}, "transient": false}}, '
    '"ranking": ["d1", "d2"]}\n'
)


def test_a_record_nests_its_answer_and_writes_the_same_flat_line() -> None:
    record = Record.model_validate_json(FLAT)
    assert record.answer == Answer(
        case_id="c1",
        text="Paris é",
        contexts=(Passage(id="d1#0", text="Paris.", doc_id="d1", score=0.5),),
        latency_s=0.25,
        usage={"prompt_tokens": 3},
        ranking=("d1", "d2"),
    )
    line = json.dumps(json.loads(FLAT), ensure_ascii=False) + "\n"
    assert json.dumps(record.model_dump(mode="json"), ensure_ascii=False) + "\n" == line
    closed = record.model_copy(update={"answer": Answer(case_id="c1", text="x")})  # closed-book, no ranking
    assert "ranking" not in closed.model_dump(mode="json"), "written only when the retriever gave one"
    assert closed.model_dump(mode="json")["contexts"] is None


def test_old_run_json_migrates_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    v1 = {
        "schema_version": 1,
        "run_id": "r",
        "created": "2026-01-01",
        "harness_version": "0.1.0",
        "git": {"commit": "abc"},
        "suite": {"name": "s", "version": 3, "hash": "h", "path": "", "k": 5},
        "system": {"name": "x", "kind": "rag", "label": "x", "hash": "y", "spec": {}},
        "judges": [],
        "usage": {},
        "by_tag": {"t": {"token_f1": {"mean": 0.5, "n_cases": 2, "n_scored": 2}}},
    }
    report = Report.model_validate(v1)
    assert report.schema_version == SCHEMA_VERSION == 2
    assert report.git.dirty is None and report.usage.sent_total.requests == 0
    assert report.by_tag["t"]["token_f1"].mean == 0.5
    assert "limit" not in report.model_dump(mode="json")["suite"], "a full run writes no limit keys"
    with pytest.raises(ValueError, match="newer than this harness reads"):
        migrate({**v1, "schema_version": SCHEMA_VERSION + 1})
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({**v1, "schema_version": 9}), encoding="utf-8")
    (folder / "records.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="damaged run.json: .*schema_version 9 is newer"):
        load_run(folder)


def test_the_committed_baselines_read_through_the_migration() -> None:
    from harness.baseline import load_baseline

    files = sorted((ROOT / "reports" / "baselines").glob("*.json"))
    assert files
    for path in files:
        assert json.loads(path.read_text(encoding="utf-8"))["report"]["schema_version"] == 1
        report = load_baseline(path).report
        assert report.schema_version == SCHEMA_VERSION and report.suite.name and report.system.kind


def test_run_folder_appends_then_finishes_into_the_run_it_returns(tmp_path: Path) -> None:
    out = RunFolder.start(tmp_path, "s", "x")
    first = Record.model_validate_json(FLAT)
    second = Record.model_validate_json(FLAT.replace('"c1"', '"c2"'))
    out.append(second)  # finished first
    assert (out.folder / "records.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert not (out.folder / "run.json").exists(), "unfinished until run.json"
    metrics = [types.SimpleNamespace(name="token_f1", higher_is_better=True, judge="", description="")]
    report = Report(
        run_id=out.run_id,
        created=out.created,
        harness_version="t",
        suite={"name": "s", "version": 1},
        system={"name": "x", "kind": "rag", "label": "x"},
        judges=[],
        **outcome([first, second], metrics),  # type: ignore[arg-type]
    )
    run = out.finish(report, [first, second])
    assert [r.case_id for r in run.records] == ["c1", "c2"], "rewritten in case order"
    assert load_run(out.folder) == run == Run(report, (first, second), out.folder)
    assert report.n_cases == 2 and report.summary["token_f1"].mean == 1.0
    assert isinstance(first.scores["token_f1"], Score)


@pytest.mark.parametrize(
    ("option", "env", "expected"), [(None, None, "local"), (None, "ray", "ray"), ("local", "ray", "local")]
)
def test_executor_comes_from_the_option_then_the_environment(
    option: str | None, env: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is None:
        monkeypatch.delenv(bench.EXECUTOR_SETTING, raising=False)
    else:
        monkeypatch.setenv(bench.EXECUTOR_SETTING, env)
    assert bench.executor(option) == expected


def test_an_unknown_executor_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(bench.EXECUTOR_SETTING, "dask")
    args = [
        "run",
        "--suite",
        str(SMOKE),
        "--system",
        "rag-bm25",
        "--no-mlflow",
        "--reports-dir",
        str(tmp_path),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: HARNESS_EXECUTOR: unknown executor 'dask' (expected one of: local, ray)"
    monkeypatch.delenv(bench.EXECUTOR_SETTING)
    with pytest.raises(SystemExit) as done:
        main([*args, "--executor", "spark"])
    assert done.value.code == 2
    assert "--executor: invalid choice: 'spark'" in capsys.readouterr().err


class _Stop(Exception):
    pass


@pytest.mark.parametrize("chosen", ["local", "ray"])
def test_ray_prefills_before_the_run_loop_and_local_never_imports_it(
    chosen: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[list[str], list[str], dict[str, object]]] = []
    fake = types.ModuleType("harness.executors")

    def prefill(suites, specs, cache, **options):  # type: ignore[no-untyped-def]
        calls.append(([s.name for s in suites], [s.name for s in specs], options))

    fake.prefill = prefill  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "harness.executors", fake)

    def stop(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _Stop  # the run loop was reached

    monkeypatch.setattr("harness.runner.run", stop)
    monkeypatch.setenv("HARNESS_DEBUG", "1")  # the sentinel leaves _dispatch instead of becoming exit 1
    args = ["run", "--suite", str(SMOKE), "--system", "rag-bm25", "--no-mlflow", "--executor", chosen]
    args += ["--reports-dir", str(tmp_path), "--limit", "3", "--workers", "3", "--no-judge"]
    with pytest.raises(_Stop):
        from harness.cli import _dispatch, _parser

        _dispatch(_parser().parse_args(args))
    if chosen == "local":
        assert calls == []
    else:
        assert calls == [(["smoke"], ["rag-bm25"], {"use_judge": {"smoke": False}, "limit": 3, "workers": 3})]

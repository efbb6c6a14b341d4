"""The regression gate: table-driven verdicts on hand-built runs, then end to end on smoke, real systems."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import yaml
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from harness.cli import main
from harness.gate import check_metric, concentrated_floor
from harness.metrics import Score
from harness.report import MetricSummary, Record, Report, outcome
from harness.run_folder import save_report
from harness.suite import MetricPolicy
from tests.conftest import RAG, SMOKE

pytest_plugins = ["pytester"]

N = 20
IDS = [f"q{i:02d}" for i in range(N)]
POLICIES = {
    "token_f1": {"max_drop": 0.05},
    "hit_at_k": {"min": 0.5, "max_drop": 0.05},
    "rouge_2": {},
    "latency_s": {},
}
HIGHER = {"token_f1": True, "hit_at_k": True, "rouge_2": True, "latency_s": False}
Values = dict[str, list[float | None]]


def base_values() -> Values:
    rng = np.random.default_rng(7)
    return {
        "token_f1": [round(float(v), 3) for v in rng.uniform(0.3, 0.8, N)],
        "hit_at_k": [1.0] * 10 + [0.0] * 10,
        "rouge_2": [round(float(v), 3) for v in rng.uniform(0.1, 0.6, N)],
        "latency_s": [0.1] * N,
    }


def write_suite(folder: Path, version: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"name": "tiny", "version": version, "corpus": "c.jsonl", "test": "t.jsonl", "metrics": POLICIES}
    (folder / "suite.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return folder


def write_run(
    reports: Path, stamp: str, values: Values, suite_dir: Path, version: int = 1, judge: str = "offline:a"
) -> Path:
    """A finished run folder of tiny × sys, as the runner would leave it."""
    ids = IDS[: len(values["token_f1"])]
    records = [
        Record(
            case_id=cid,
            question="q?",
            reference="r",
            gold_ids=(),
            tags=(),
            answer="a",
            contexts=None,
            latency_s=0.1,
            usage={},
            error=None,
            scores={
                name: Score.unscored("empty answer") if column[i] is None else Score(value=column[i])
                for name, column in values.items()
            },
        )
        for i, cid in enumerate(ids)
    ]
    metrics = [SimpleNamespace(name=n, higher_is_better=HIGHER[n], judge=judge) for n in values]
    report = Report(
        run_id=f"{stamp}_tiny_sys",
        created=stamp,
        harness_version="0.1.0",
        git={"commit": "0123456789abcdef"},
        suite={"name": "tiny", "version": version, "hash": "s", "path": str(suite_dir), "k": 5},
        system={"name": "sys", "kind": "rag", "label": "sys", "hash": f"h{stamp}", "spec": {}},
        judges=[judge],
        **outcome(records, metrics),  # type: ignore[arg-type]
    )
    folder = reports / "runs" / report.run_id
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text(
        "".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8"
    )
    save_report(report, folder)
    return folder


def shifted(column: str, change: Callable[[int, float], float | None]) -> Callable[[Values], None]:
    def apply(values: Values) -> None:
        values[column] = [change(i, v) for i, v in enumerate(values[column])]  # type: ignore[arg-type]

    return apply


# name, how the current run differs, exit code, what gate.md or the error must say
CASES = [
    ("pass", lambda v: None, 0, r"\| token_f1 \| pass \|"),
    (
        "significant regression",
        shifted("token_f1", lambda i, v: v - 0.15),
        1,
        r"\| token_f1 \| \*\*FAIL\*\* \|",
    ),
    (
        "drop within noise",
        shifted("token_f1", lambda i, v: v - (0.45 if i % 2 else -0.29)),
        0,
        r"within noise",
    ),
    ("floor breached", shifted("hit_at_k", lambda i, v: 0.0 if i == 0 else v), 1, r"below the floor 0\.5"),
    (
        "newly unscored",
        shifted("token_f1", lambda i, v: None if i < 2 else v),
        1,
        r"2 case\(s\) .* unscored now",
    ),
    (
        "slower, no policy",
        shifted("latency_s", lambda i, v: 0.5),
        0,
        r"\| latency_s \| info \| 100\.0 ms \| 500",
    ),
    ("suite version mismatch", "version", 2, r"baseline is tiny v1, the run is v2"),
    ("judge mismatch", "judge", 2, r"judged by \[offline:a\], the run by \[offline:b\]"),
    ("missing cases", "cases", 2, r"case ids differ: 1 only in the baseline \(q19\), 0 only in the run"),
]


@pytest.mark.parametrize(("name", "change", "code", "says"), CASES, ids=[case[0] for case in CASES])
def test_gate_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, change: object, code: int, says: str
) -> None:
    reports, suite = tmp_path / "reports", write_suite(tmp_path / "tiny")
    write_run(reports, "20260101T000000", base_values(), suite)
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    values, version, judge = base_values(), 1, "offline:a"
    if change == "version":
        version = 2
        write_suite(suite, version=2)
    elif change == "judge":
        judge = "offline:b"
    elif change == "cases":
        values = {key: column[:-1] for key, column in values.items()}
    elif callable(change):
        change(values)
    write_run(reports, "20260102T000000", values, suite, version=version, judge=judge)
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["gate", "--reports-dir", str(reports), "--out", str(out), "--no-mlflow"]) == code
    captured = capsys.readouterr()
    if code == 2:
        assert re.search(says, captured.err), captured.err
        assert "tiny__sys.json" in captured.err and captured.err.count("\n") == 1, "one line naming the file"
        return
    markdown = (out / "gate.md").read_text(encoding="utf-8")
    assert re.search(says, markdown), markdown
    assert markdown.startswith(f"# Regression gate: {'FAIL' if code else 'pass'}")
    junit = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert junit is not None and int(junit.get("failures", "-1")) == markdown.count("| **FAIL** |") >= code


def test_the_printed_detectable_drop_is_what_the_bootstrap_can_see() -> None:
    """gate.md says 4 of 20 cases must fall from 1 to 0 before such a drop is real: check it."""
    floor = concentrated_floor(N)
    assert 3 / N < floor < 4 / N
    then = {cid: 1.0 for cid in IDS}
    summary = MetricSummary(
        higher_is_better=True, judge="", mean=1.0, ci_low=1.0, ci_high=1.0, n_scored=N, n_unscored=0
    )
    policy = MetricPolicy(max_drop=0.1)
    verdicts = {}
    for flipped in (3, 4):
        now: dict[str, float | None] = {cid: 0.0 if i < flipped else 1.0 for i, cid in enumerate(IDS)}
        verdicts[flipped] = check_metric("hit_at_k", policy, summary, summary, now, then).verdict  # type: ignore[arg-type]
    assert verdicts == {3: "pass", 4: "fail"}


def test_baseline_file_holds_scores_but_no_answers(tmp_path: Path) -> None:
    reports, suite = tmp_path / "reports", write_suite(tmp_path / "tiny")
    write_run(reports, "20260101T000000", base_values(), suite)
    write_run(reports, "20260102T000000", base_values(), suite)  # the newest is promoted
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    saved = json.loads((reports / "baselines" / "tiny__sys.json").read_text(encoding="utf-8"))
    assert saved["report"]["run_id"] == "20260102T000000_tiny_sys"
    assert saved["cases"]["q03"]["token_f1"] == base_values()["token_f1"][3]
    assert "answer" not in json.dumps(saved["cases"]) and "source" not in saved


@pytest.fixture(scope="module")
def answers_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One answer cache for the end-to-end tests: the second reuses the first's real RAG answers."""
    return tmp_path_factory.mktemp("answers")


def degraded(tmp_path: Path) -> Path:
    """rag-minilm with nothing retrieved: same name, new hash, empty answers."""
    spec = yaml.safe_load(RAG.read_text(encoding="utf-8"))
    spec["retriever"]["top_k"] = 0
    path = tmp_path / "degraded.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_degraded_system_fails_the_gate_and_an_identical_rerun_passes(
    tmp_path: Path, answers_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(answers_cache))
    reports = str(tmp_path / "reports")

    def run(system: Path) -> int:
        return main(
            ["run", "--suite", str(SMOKE), "--system", str(system), "--reports-dir", reports, "--no-mlflow"]
        )

    gate = ["gate", "--reports-dir", reports, "--suites-dir", str(SMOKE.parent), "--no-mlflow"]
    assert run(RAG) == 0
    assert main(["baseline", "--reports-dir", reports, "--suite", "smoke"]) == 0
    assert run(degraded(tmp_path)) == 0
    assert main(gate) == 1
    markdown = (tmp_path / "reports" / "latest" / "gate.md").read_text(encoding="utf-8")
    assert "system changed since the baseline" in markdown
    assert re.search(r"\| hit_at_k \| \*\*FAIL\*\* \| 0\.850 \| 0\.000 .*below the floor 0\.5", markdown)
    cases = ET.parse(tmp_path / "reports" / "latest" / "junit.xml").iter("testcase")
    failed = {case.get("name") for case in cases if case.find("failure") is not None}
    assert {"token_f1", "rouge_l", "hit_at_k", "mrr"} <= failed and "latency_s" not in failed
    assert run(RAG) == 0
    assert main(gate) == 0
    assert "(0 of 1 runs regressed)" in (tmp_path / "reports" / "latest" / "gate.md").read_text(
        encoding="utf-8"
    )


def test_mlflow_baseline_and_gate_tags(
    tmp_path: Path, answers_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(answers_cache))
    reports = str(tmp_path / "reports")
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")  # the store conftest points MLflow at

    def run(system: Path) -> int:
        return main(["run", "--suite", str(SMOKE), "--system", str(system), "--reports-dir", reports])

    def logged(run_folder: str) -> Run:
        experiment = client.get_experiment_by_name("smoke")
        assert experiment is not None
        (found,) = client.search_runs([experiment.experiment_id], f"tags.run_folder = '{run_folder}'")
        return found

    def latest() -> str:
        return sorted(path.name for path in (tmp_path / "reports" / "runs").iterdir())[-1]

    gate = [
        "gate",
        "--reports-dir",
        reports,
        "--suites-dir",
        str(SMOKE.parent),
        "--out",
        str(tmp_path / "out"),
    ]
    assert run(RAG) == 0
    assert main(["gate", *gate[1:], "--baseline", "mlflow"]) == 2, "nothing is tagged baseline=true yet"
    assert main(["baseline", "--reports-dir", reports, "--mlflow"]) == 0
    baseline_folder = latest()
    assert logged(baseline_folder).data.tags["baseline"] == "true"
    assert not (tmp_path / "reports" / "baselines").exists(), "--mlflow tags runs instead of writing files"
    assert run(degraded(tmp_path)) == 0
    assert main([*gate, "--baseline", "mlflow"]) == 1
    assert logged(latest()).data.tags["gate"] == "fail"
    run_id = logged(baseline_folder).info.run_id
    assert main([*gate, "--baseline", f"mlflow:{run_id}"]) == 1
    assert f"baseline: `mlflow:{run_id}`" in (tmp_path / "out" / "gate.md").read_text(encoding="utf-8")
    assert run(RAG) == 0
    assert main([*gate, "--baseline", "mlflow"]) == 0
    assert logged(latest()).data.tags["gate"] == "pass"


def test_pytest_plugin_asserts_no_regression(tmp_path: Path, pytester: pytest.Pytester) -> None:
    reports, suite = tmp_path / "reports", write_suite(tmp_path / "tiny")
    write_run(reports, "20260101T000000", base_values(), suite)
    assert main(["baseline", "--reports-dir", str(reports)]) == 0
    worse = base_values()
    shifted("token_f1", lambda i, v: v - 0.2)(worse)
    write_run(reports, "20260102T000000", worse, suite)
    kept = tmp_path / "kept"  # a second reports folder whose latest run is the baseline itself
    write_run(kept, "20260101T000000", base_values(), suite)
    (kept / "baselines").mkdir()
    (kept / "baselines" / "tiny__sys.json").write_text((reports / "baselines" / "tiny__sys.json").read_text())
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    pytester.makepyfile(
        f"""
        def test_kept(assert_no_regression):
            result = assert_no_regression("tiny", "sys", reports_dir=r"{kept}", suites_dir=r"{tmp_path}")
            assert result.passed

        def test_worse(assert_no_regression):
            assert_no_regression("tiny", "sys", reports_dir=r"{reports}", suites_dir=r"{tmp_path}")
        """
    )
    outcome = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1, failed=1)
    outcome.stdout.fnmatch_lines(["*tiny × sys regressed (token_f1)*"])


def test_a_metric_that_never_applies_is_not_below_its_floor() -> None:
    # hit_at_k for a closed-book system: unscored in the baseline and now, so the floor does not apply.
    unscored = MetricSummary(
        higher_is_better=True, judge="", mean=None, ci_low=None, ci_high=None, n_scored=0, n_unscored=20,
        unscored_reasons={"closed-book system: it retrieves nothing": 20},
    )  # fmt: skip
    values = {f"c{i}": None for i in range(20)}
    check = check_metric("hit_at_k", MetricPolicy(min=0.5, max_drop=0.05), unscored, unscored, values, values)
    assert check.verdict == "info"
    assert "not applicable" in check.why and "closed-book" in check.why
    # but scores that existed in the baseline and vanished still fail
    scored = unscored.model_copy(
        update={"mean": 0.8, "ci_low": 0.7, "ci_high": 0.9, "n_scored": 20, "n_unscored": 0}
    )
    lost = check_metric(
        "hit_at_k", MetricPolicy(min=0.5), unscored, scored, values, {f"c{i}": 1.0 for i in range(20)}
    )
    assert lost.verdict == "fail"

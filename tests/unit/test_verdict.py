"""The verdict on hand-built runs: systems built to differ, identical systems, too few cases, warnings."""

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from harness.cli import main
from harness.errors import InputError
from harness.metrics import Score
from harness.overlap import Overlap
from harness.report import Record, Report, Run, outcome
from harness.run_folder import save_report
from harness.verdict import compare_runs, render_text, to_json


def make_run(
    system: str,
    kind: str,
    values: dict[str, Sequence[float | None]],
    *,
    answers: Sequence[str] | None = None,
    tags: Sequence[tuple[str, ...]] | None = None,
    version: int = 1,
    judges: Sequence[str] = (),
    higher: dict[str, bool | None] | None = None,
) -> Run:
    n = len(next(iter(values.values())))
    records = [
        Record(
            case_id=f"c{i:03d}",
            question=f"question {i}?",
            reference=f"answer {i}",
            gold_ids=(),
            tags=tags[i] if tags else (),
            answer=answers[i] if answers else f"{system} answer {i}",
            contexts=None,
            latency_s=0.01,
            usage={},
            error=None,
            scores={
                name: Score(value=column[i]) if column[i] is not None else Score.unscored("judge failure")
                for name, column in values.items()
            },
        )
        for i in range(n)
    ]
    direction = higher or {}
    metrics = [
        SimpleNamespace(name=name, higher_is_better=direction.get(name, name != "latency_s"), judge="")
        for name in values
    ]
    report = Report(
        run_id=f"run_{system}",
        created="2026-01-01T00:00:00",
        harness_version="test",
        git={"commit": "abc"},
        suite={"name": "tiny", "version": version, "hash": "h", "path": "", "k": 5},
        system={"name": system, "kind": kind, "label": system, "hash": system, "spec": {}},
        judges=list(judges),
        **outcome(records, metrics),  # type: ignore[arg-type]
    )
    return Run(report, tuple(records), Path(report.run_id))


def right_on(share: float, n: int, seed: int) -> list[float]:
    """n binary scores, exactly share * n of them 1, in a shuffled order."""
    values = np.zeros(n)
    values[: round(share * n)] = 1.0
    np.random.default_rng(seed).shuffle(values)
    return [float(v) for v in values]


def test_systems_built_to_differ() -> None:
    a = make_run("rag-x", "rag", {"exact_match": right_on(0.8, 100, 1)})
    b = make_run("tuned-x", "finetuned", {"exact_match": right_on(0.4, 100, 2)})
    verdict = compare_runs([a, b])
    (comparison,) = verdict.comparisons
    assert (comparison.system_a, comparison.system_b, comparison.n) == ("rag-x", "tuned-x", 100)
    assert comparison.diff == pytest.approx(0.4)
    assert comparison.verdict == "A better"
    assert comparison.ci_low > 0 and comparison.p_adjusted < 0.001
    assert [(s.system, s.rank) for s in verdict.ranking["exact_match"]] == [("rag-x", 1), ("tuned-x", 2)]
    assert "rag-x on exact_match" in verdict.summary[0]


def test_direction_lower_is_better() -> None:
    a = make_run("slow", "rag", {"latency_s": [0.5 + 0.01 * i for i in range(30)]})
    b = make_run("fast", "hybrid", {"latency_s": [0.1 + 0.01 * i for i in range(30)]})
    (comparison,) = compare_runs([a, b]).comparisons
    assert comparison.system_a == "slow" and comparison.verdict == "B better"


def test_identical_systems_are_not_distinguishable() -> None:
    scores = right_on(0.6, 50, 3)
    verdict = compare_runs(
        [make_run("one", "rag", {"token_f1": scores}), make_run("two", "hybrid", {"token_f1": scores})]
    )
    (comparison,) = verdict.comparisons
    assert comparison.verdict == "not distinguishable" and comparison.p == 1.0
    assert {s.rank for s in verdict.ranking["token_f1"]} == {1}
    assert "cannot tell the systems apart" in verdict.summary[0]


def test_real_difference_too_few_cases() -> None:
    # 8 cases, A right on 6, B on 3 (B's right cases among A's): diffs 1,1,1,0,0,0,0,0. Exact sign-flip
    # test: P(|mean| >= 3/8) = 2 * 8 / 256 (all three +1, any signs on the zeros... the zeros do not move the
    # mean, so 2 of the 2^3 sign patterns of the non-zero ones reach it) = 0.25: not distinguishable.
    a = make_run("a", "rag", {"exact_match": [1, 1, 1, 1, 1, 1, 0, 0]})
    b = make_run("b", "finetuned", {"exact_match": [0, 0, 0, 1, 1, 1, 0, 0]})
    verdict = compare_runs([a, b])
    (comparison,) = verdict.comparisons
    assert comparison.p == pytest.approx(0.25)
    assert comparison.verdict == "not distinguishable"
    assert comparison.detectable > comparison.diff  # the size it would take is printed with it
    assert "goes undetected" in verdict.summary[0]


def test_holm_over_the_suite_and_three_way_ranking() -> None:
    n = 120
    runs = [
        make_run("base", "base", {"token_f1": right_on(0.2, n, 4), "rouge_l": right_on(0.5, n, 5)}),
        make_run("rag", "rag", {"token_f1": right_on(0.7, n, 6), "rouge_l": right_on(0.5, n, 5)}),
        make_run("ft", "finetuned", {"token_f1": right_on(0.72, n, 7), "rouge_l": right_on(0.5, n, 5)}),
    ]
    verdict = compare_runs(runs)
    assert len(verdict.comparisons) == 6  # 2 metrics x 3 pairs, one Holm family
    for c in verdict.comparisons:
        assert c.p_adjusted >= c.p
    ranks = {s.system: s.rank for s in verdict.ranking["token_f1"]}
    assert ranks == {"rag": 1, "ft": 1, "base": 3}  # rag and ft tie; both beat base
    assert {s.rank for s in verdict.ranking["rouge_l"]} == {1}
    # No single winner, yet the suite separates some: the sentence says who leads and who is behind,
    # never "cannot tell the systems apart".
    quality = next(line for line in verdict.summary if line.startswith("Answer quality"))
    assert "no single winner" in quality and "cannot tell the systems apart" not in quality
    assert "rag and ft share the top rank" in quality or "ft and rag share the top rank" in quality
    assert "base ranks below at least one of them" in quality


def test_tags_only_with_enough_cases() -> None:
    n = 59  # 40 cases tagged big, 19 small: one short of a verdict
    tags = [("big",) if i < 40 else ("small",) for i in range(n)]
    a = make_run("a", "rag", {"exact_match": [1.0] * n}, tags=tags)
    b = make_run("b", "hybrid", {"exact_match": [0.0] * 40 + [1.0] * 19}, tags=tags)
    verdict = compare_runs([a, b])
    sliced = [c for c in verdict.comparisons if c.tag == "big"]
    assert len(sliced) == 1 and sliced[0].n == 40 and sliced[0].verdict == "A better"
    assert not [c for c in verdict.comparisons if c.tag == "small"]
    assert verdict.small_tags == {"small": 19}
    assert any("Too few cases" in s and "'small' (19)" in s for s in verdict.summary)


def test_warnings_collapse_unscored_overlap() -> None:
    n = 40
    collapsed = make_run(
        "hybrid-x", "hybrid", {"token_f1": [0.0] * n}, answers=["The documents do not say."] * 30 + ["x"] * 10
    )
    holes = make_run("tuned-x", "finetuned", {"token_f1": [1.0] * 20 + [None] * 20})
    overlap = Overlap(
        suite="tiny",
        n_test=n,
        n_train=100,
        threshold=0.9,
        shared_references=tuple(f"c{i:03d}" for i in range(30)),
        exact_duplicate_questions=(),
        near_duplicate_questions=("c001",),
        shared_gold=(),
    )
    verdict = compare_runs([collapsed, holes], overlap)
    text = "\n".join(verdict.warnings)
    assert "collapsed system: hybrid-x gives the same answer to 30 of 40 cases" in text
    assert "unscored: token_f1 for tuned-x: 20 of 40 cases (judge failure (20))" in text
    assert "30 of 40 (75%) test answers are also train answers" in text and "(tuned-x)" in text
    assert verdict.comparisons[0].n == 20  # only the cases both scored


def test_incomparable_runs_refused() -> None:
    a = make_run("a", "rag", {"token_f1": [1.0, 0.0]})
    with pytest.raises(InputError, match="results compare only within a suite version"):
        compare_runs([a, make_run("b", "rag", {"token_f1": [1.0, 0.0]}, version=2)])
    with pytest.raises(InputError, match="different judges"):
        compare_runs([a, make_run("b", "rag", {"token_f1": [1.0, 0.0]}, judges=["gemini:x"])])


def test_directionless_metric_is_not_compared_and_json_shape() -> None:
    higher = {"answer_tokens": None, "token_f1": True}
    a = make_run("a", "rag", {"answer_tokens": [3.0] * 25, "token_f1": right_on(0.5, 25, 1)}, higher=higher)
    b = make_run(
        "b", "hybrid", {"answer_tokens": [9.0] * 25, "token_f1": right_on(0.5, 25, 2)}, higher=higher
    )
    verdict = compare_runs([a, b])
    assert "answer_tokens" in verdict.not_compared
    document = to_json([verdict])["tiny"]
    keys = {
        "metric",
        "tag",
        "system_a",
        "system_b",
        "n",
        "diff",
        "ci_low",
        "ci_high",
        "p",
        "p_adjusted",
        "verdict",
    }
    assert keys <= set(document["comparisons"][0])
    assert {"ranking", "warnings"} <= set(document)
    text = render_text(verdict, full=True)
    assert "| token_f1 | all | a | b | 25 |" in text and "Holm" in text


# ---- `harness compare` on run folders written as the runner leaves them ----


def write_folder(reports: Path, stamp: str, run: Run, suite_path: str = "") -> Path:
    report, records = run.report, run.records
    suite = report.suite.model_copy(update={"path": suite_path}) if suite_path else report.suite
    report = report.model_copy(
        update={"run_id": f"{stamp}_{report.suite.name}_{report.system.name}", "suite": suite}
    )
    folder = reports / "runs" / report.run_id
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text(
        "".join(record.model_dump_json() + "\n" for record in records), encoding="utf-8"
    )
    save_report(report, folder)
    return folder


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    n = 40
    write_folder(root, "20260101T000000_000000Z", make_run("rag-x", "rag", {"token_f1": right_on(0.8, n, 1)}))
    write_folder(
        root, "20260101T000001_000000Z", make_run("ft-x", "finetuned", {"token_f1": right_on(0.3, n, 2)})
    )
    return root


def test_compare_json_on_latest_runs(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--reports-dir", str(reports), "--json", "--no-overlap"]) == 0
    document = json.loads(capsys.readouterr().out)
    (comparison,) = document["tiny"]["comparisons"]
    assert (comparison["system_a"], comparison["system_b"], comparison["verdict"]) == (
        "rag-x",
        "ft-x",
        "A better",
    )
    assert document["tiny"]["ranking"]["token_f1"][0]["system"] == "rag-x"


def test_compare_text_names_the_winner(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--reports-dir", str(reports), "--no-overlap"]) == 0
    out = capsys.readouterr().out
    assert "== Verdict: tiny v1" in out and "Answer quality: rag-x on token_f1" in out
    assert "| token_f1 | all | rag-x | ft-x | 40 |" in out


def test_compare_overlap_from_the_suite_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "tiny"
    suite.mkdir()
    (suite / "suite.yaml").write_text(
        "name: tiny\nversion: 1\ncorpus: c.jsonl\ntrain: train.jsonl\ntest: test.jsonl\n"
        "metrics: {token_f1: {}}\n"
    )
    (suite / "c.jsonl").write_text('{"id": "p1", "text": "Some text."}\n')
    train = [{"id": f"t{i}", "question": f"What is fact {i}?", "reference": f"answer {i}"} for i in range(40)]
    test = [
        {"id": f"c{i:03d}", "question": f"Tell me fact {i}", "reference": f"answer {i}"} for i in range(40)
    ]
    (suite / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in train))
    (suite / "test.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in test[:10])
        + "".join(json.dumps({**row, "reference": "new " + row["reference"]}) + "\n" for row in test[10:])
    )
    from harness.suite import load_suite

    loaded = load_suite(suite)
    root = tmp_path / "reports"
    for stamp, run in [
        ("20260101T000000_000000Z", make_run("rag-x", "rag", {"token_f1": right_on(0.5, 40, 1)})),
        ("20260101T000001_000000Z", make_run("ft-x", "finetuned", {"token_f1": right_on(0.5, 40, 2)})),
    ]:
        report = run.report.model_copy(
            update={"suite": run.report.suite.model_copy(update={"hash": loaded.hash})}
        )
        write_folder(root, stamp, Run(report, run.records, run.folder), str(suite))
    assert main(["compare", "--reports-dir", str(root), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)["tiny"]
    assert verdict["overlap"]["shared_references"] == 10
    assert any(
        "10 of 40 (25%) test answers are also train answers" in w and "(ft-x)" in w
        for w in verdict["warnings"]
    )
    # Without a system that learned from the train split the overlap says nothing about the comparison,
    # and it is not computed (its near-duplicate search embeds every train question).
    rag_only = tmp_path / "rag-only"
    for stamp, run in [
        ("20260101T000000_000000Z", make_run("rag-x", "rag", {"token_f1": right_on(0.5, 40, 1)})),
        ("20260101T000001_000000Z", make_run("rag-y", "rag", {"token_f1": right_on(0.5, 40, 2)})),
    ]:
        report = run.report.model_copy(
            update={"suite": run.report.suite.model_copy(update={"hash": loaded.hash})}
        )
        write_folder(rag_only, stamp, Run(report, run.records, run.folder), str(suite))
    assert main(["compare", "--reports-dir", str(rag_only), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)["tiny"]
    assert verdict["overlap"] is None
    assert not any("overlap" in w for w in verdict["warnings"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--suite", "tinny"], "no finished runs of suite 'tinny'"),
        (["--reports-dir", "/nonexistent"], "no finished runs"),
    ],
)
def test_compare_bad_invocations(
    reports: Path, args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--reports-dir" not in args:
        args = [*args, "--reports-dir", str(reports)]
    assert main(["compare", "--no-overlap", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


def test_compare_refuses_runs_of_two_versions(reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_folder(
        reports, "20260101T000002_000000Z", make_run("hy-x", "hybrid", {"token_f1": [1.0] * 40}, version=2)
    )
    assert main(["compare", "--reports-dir", str(reports), "--no-overlap"]) == 2
    err = capsys.readouterr().err.strip()
    assert "results compare only within a suite version" in err and len(err.splitlines()) == 1

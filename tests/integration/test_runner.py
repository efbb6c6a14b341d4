"""The runner: answers and scores are cached, failures are recorded, a killed run resumes."""

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.models import minilm
from harness.report import load_run
from harness.runner import answer_cases, run
from harness.suite import Case, Suite, load_suite
from harness.system import Answer, SystemSpec, build_system, load_system_spec
from tests.conftest import RAG, ROOT, SMOKE


class Counting:
    """The real RAG system, counting how often it is built and asked."""

    built = 0

    def __init__(self, spec: SystemSpec, cache: Cache) -> None:
        Counting.built += 1
        self.inner = build_system(spec, cache)
        self.spec = spec
        self.asked: list[str] = []

    def prepare(self, suite: Suite) -> None:
        self.inner.prepare(suite)

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        self.asked += [case.id for case in cases]
        return self.inner.answer(cases)


def test_second_run_recomputes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite, spec, cache = load_suite(SMOKE), load_system_spec(RAG), Cache(tmp_path / "c")
    Counting.built = 0
    done = run(suite, spec, cache, tmp_path / "reports", make_system=Counting)
    first = done.report
    assert Counting.built == 1
    assert first.cache["answers_computed"] == len(suite.test) and first.cache["answers_cached"] == 0
    encoded: list[int] = []  # texts per call of the MiniLM encoder from here on
    model = minilm.encoder()
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda t, **kw: encoded.append(len(t)) or encode(t, **kw))
    second = run(suite, spec, cache, tmp_path / "reports", make_system=Counting).report
    assert Counting.built == 1, "the system must not even be built when every answer is cached"
    assert encoded == [], "no model call on a warm run"
    minilm.embed(["a sentence no run has embedded"])  # and the spy does see a call
    assert encoded == [1]
    assert second.cache == {
        "answers_computed": 0,
        "answers_cached": len(suite.test),
        "scores_computed": 0,
        "scores_cached": len(suite.test) * len(suite.metrics),
    }
    assert second.summary == first.summary
    assert [r.case_id for r in done.records] == [c.id for c in suite.test]
    assert load_run(done.folder) == done, "the Run returned is the run folder read back"


def test_no_cache_recomputes_everything(tmp_path: Path) -> None:
    suite, spec = load_suite(SMOKE), load_system_spec(RAG)
    run(suite, spec, Cache(tmp_path / "c"), tmp_path / "r")
    again = run(suite, spec, Cache(tmp_path / "c", enabled=False), tmp_path / "r").report
    assert again.cache["answers_computed"] == len(suite.test)


def test_changed_spec_is_a_different_system(tmp_path: Path) -> None:
    suite, cache = load_suite(SMOKE), Cache(tmp_path / "c")
    spec = load_system_spec(RAG)
    run(suite, spec, cache, tmp_path / "r")
    other = spec.model_copy(update={"retriever": spec.retriever.model_copy(update={"top_k": 2})})
    assert other.hash != spec.hash
    report = run(suite, other, cache, tmp_path / "r").report
    assert report.cache["answers_computed"] == len(suite.test)


class Flaky(Counting):
    """Fails on one question, as a broken model call would."""

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if any(case.id == self.bad for case in cases):
            raise TimeoutError("model call timed out")
        return super().answer(cases)


def test_failed_case_is_recorded_with_its_reason_and_not_cached(tmp_path: Path) -> None:
    suite, spec, cache = load_suite(SMOKE), load_system_spec(RAG), Cache(tmp_path / "c")
    Flaky.bad = suite.test[3].id
    done = run(suite, spec, cache, tmp_path / "r", make_system=Flaky)
    report, records = done.report, done.records
    assert len(records) == len(suite.test), "a failed case is recorded, never dropped"
    failed = [r for r in records if r.error]
    assert [r.case_id for r in failed] == [Flaky.bad]
    assert failed[0].error == "TimeoutError: model call timed out"
    assert report.n_errors == 1
    for name, summary in report.summary.items():
        assert summary.n_scored + summary.n_unscored == len(suite.test)
        assert summary.unscored_reasons.get("no answer: TimeoutError: model call timed out") == 1, name
    # the other 19 were cached; only the failed one is asked again
    again = run(suite, spec, cache, tmp_path / "r", make_system=Counting).report
    assert again.cache["answers_computed"] == 1 and again.n_errors == 0


KILLER = """
import os, signal, sys
from harness.cache import Cache
from harness.runner import answer_cases
from harness.suite import load_suite
from harness.system import build_system, load_system_spec

class Dies:
    def __init__(self, spec, cache):
        self.inner, self.spec, self.batches = build_system(spec, cache), spec, 0
    def prepare(self, suite):
        self.inner.prepare(suite)
    def answer(self, cases):
        if self.batches == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        self.batches += 1
        return self.inner.answer(cases)

answer_cases(load_suite(sys.argv[1]), load_system_spec(sys.argv[2]), Cache(sys.argv[3]), workers=1,
             batch_size=4, make_system=Dies)
"""


def test_run_killed_with_sigkill_resumes_where_it_stopped(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(SMOKE), str(RAG), str(cache_dir)], cwd=ROOT, capture_output=True
    )
    assert killed.returncode == -9
    suite, spec = load_suite(SMOKE), load_system_spec(RAG)
    Counting.built = 0
    answers, counts, _ = answer_cases(suite, spec, Cache(cache_dir), workers=1, make_system=Counting)
    assert counts.cached == 8, "the two batches finished before the kill were kept"
    assert counts.computed == len(suite.test) - 8
    assert all(answer.error is None and answer.text for answer in answers)


def test_run_folder_holds_provenance_records_and_summary(tmp_path: Path) -> None:
    suite, spec = load_suite(SMOKE), load_system_spec(RAG)
    folder = run(suite, spec, Cache(tmp_path / "c"), tmp_path / "reports").folder
    assert folder.parent == tmp_path / "reports" / "runs"
    assert folder.name.endswith("_smoke_rag-minilm")
    saved = json.loads((folder / "run.json").read_text())
    assert saved["suite"] == {"name": "smoke", "version": 2, "hash": suite.hash, "path": str(SMOKE), "k": 5}
    assert saved["system"]["hash"] == spec.hash and saved["system"]["spec"]["retriever"]["top_k"] == 5
    assert saved["system"]["label"] == spec.label
    assert saved["judges"] == ["offline:sentence-transformers/all-MiniLM-L6-v2"]
    assert len(saved["git"]["commit"]) in (40, 7) or saved["git"]["commit"] == "unknown"
    assert isinstance(saved["git"]["dirty"], bool)
    hit = saved["summary"]["hit_at_k"]
    assert 0.5 <= hit["mean"] <= 1.0 and hit["ci_low"] <= hit["mean"] <= hit["ci_high"]
    assert hit["n_scored"] + hit["n_unscored"] == len(suite.test)
    record = json.loads((folder / "records.jsonl").read_text().splitlines()[0])
    assert set(record) >= {"question", "reference", "answer", "contexts", "scores"}
    assert record["scores"]["token_f1"]["value"] is not None
    assert len(record["contexts"]) == spec.retriever.top_k
    assert "| hit_at_k |" in (folder / "summary.md").read_text()


def test_extractive_answers_quote_a_retrieved_sentence(tmp_path: Path) -> None:
    suite, spec = load_suite(SMOKE), load_system_spec(RAG)
    answers, _, _ = answer_cases(suite, spec, Cache(tmp_path / "c"))
    for answer in answers:
        assert answer.contexts and any(answer.text in passage.text for passage in answer.contexts)


def test_bench_command_prints_the_comparison_table_and_mlflow_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    code = main(["bench", "--suite", str(SMOKE), "--system", str(RAG), "--reports-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0
    assert "== smoke v2 (20 cases)" in out
    assert "rag-minilm" in out and "== Verdict: smoke v2" in out
    assert "hit_at_k" in out and "rouge_l" in out
    assert "smoke/rag-minilm: " in out  # the MLflow run id
    assert os.path.exists(tmp_path / "mlflow.db")


class CannotTrain(Counting):
    def prepare(self, suite: Suite) -> None:
        raise ValueError("no training example")


def test_a_system_that_cannot_prepare_fails_every_case_with_the_reason(tmp_path: Path) -> None:
    suite, spec = load_suite(SMOKE), load_system_spec(RAG)
    done = run(suite, spec, Cache(tmp_path / "c"), tmp_path / "r", make_system=CannotTrain)
    report, records = done.report, done.records
    assert len(records) == len(suite.test) and report.n_errors == len(suite.test)
    assert {r.error for r in records} == {"prepare failed: ValueError: no training example"}
    assert report.summary["token_f1"].n_unscored == len(suite.test)


def test_each_tag_gets_its_own_means_in_run_json_and_summary_md(tmp_path: Path) -> None:
    suite, spec, cache = load_suite(SMOKE), load_system_spec(RAG), Cache(tmp_path / "c")
    done = run(suite, spec, cache, tmp_path / "reports", make_system=Counting)
    report, records, folder = done.report, done.records, done.folder
    tags = {tag for case in suite.test for tag in case.tags}
    assert set(report.by_tag) == tags
    for tag, by_metric in report.by_tag.items():
        tagged = [r for r in records if tag in r.tags]
        values = [r.scores["token_f1"].value for r in tagged if r.scores["token_f1"].value is not None]
        sliced = by_metric["token_f1"]
        assert sliced.n_cases == len(tagged) and sliced.n_scored == len(values)
        assert sliced.mean == pytest.approx(sum(values) / len(values))
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "## By tag" in summary and all(f"| {tag} | " in summary for tag in tags)

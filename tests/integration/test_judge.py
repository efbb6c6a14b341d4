"""The Gemini generator and the ragas judge end to end: the `harness` command, in-process, with the real
langchain-google-genai client talking to a local GeminiPeer, so caching, limits, retries, fault handling,
cost accounting and key hygiene are checked on the wire rather than against mocks."""

import json
import os
import re
import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import main
from harness.llm import guarded
from harness.report import Record, Report, load_report
from harness.system import load_system_spec
from tests.conftest import ROOT, SMOKE
from tests.local_server import GeminiPeer

KEY = "AIzaSyC4judge-Test_key0987654321zyxwvut"
WRONG_KEY = "AIzaSyWrongKey_for-the_peer_01234567890"
assert all(re.fullmatch(r"AIza[0-9A-Za-z_\-]{35}", key) for key in (KEY, WRONG_KEY))

FLASH, PRO, EMBED = "gemini:gemini-2.5-flash", "gemini:gemini-2.5-pro", "gemini:gemini-embedding-001"
RAG_GEMINI = ROOT / "systems" / "rag-gemini.yaml"
BASE_GEMINI = ROOT / "systems" / "base-gemini.yaml"
JUDGED = ("faithfulness", "answer_relevancy", "context_precision", "context_recall", "factual_correctness")
CONTEXT_METRICS = ("faithfulness", "context_precision", "context_recall")
# Distinctive, case-exact pieces of the two ragas faithfulness instructions: statement extraction, then
# the verdict on each statement.
STATEMENTS = "Break down each sentence into one or more fully understandable statements"
VERDICTS = "judge the faithfulness of a series of statements"
JUDGE = {"model": FLASH, "embeddings": EMBED}


@pytest.fixture(autouse=True)
def fresh_runtimes() -> Iterator[None]:
    """Each test paces its models from scratch: no limiter or pause carried over from another test."""
    guarded._RUNTIMES.clear()
    yield
    guarded._RUNTIMES.clear()


@pytest.fixture
def peer() -> Iterator[GeminiPeer]:
    with GeminiPeer(api_key=KEY) as server:
        yield server


@pytest.fixture
def gemini(peer: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GeminiPeer:
    """The peer, with the key and base URL the harness reads, and small limits for every model used."""
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("HARNESS_GEMINI_BASE_URL", peer.url)
    limits(tmp_path, monkeypatch)
    return peer


def limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: dict[str, Any]) -> None:
    """Point HARNESS_MODELS at a file with fast-failing limits for the peer's models, plus `overrides`.

    settings() caches per file name, so every call writes a new file.
    """
    fast = {"rpm": None, "timeout_s": 1, "max_attempts": 3}
    models = {ref: {**fast, **overrides.get(ref, {})} for ref in (FLASH, PRO, EMBED)}
    path = tmp_path / f"models-{len(list(tmp_path.glob('models-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
    monkeypatch.setenv("HARNESS_MODELS", str(path))


def make_suite(
    tmp_path: Path,
    metrics: tuple[str, ...] = ("token_f1", *JUDGED),
    cases: int = 5,
    judge: dict[str, Any] | None = JUDGE,
    name: str = "judged",
) -> Path:
    """A suite folder with the smoke corpus, its first `cases` test cases, and the given metrics/judge."""
    folder = tmp_path / "suites" / name
    folder.mkdir(parents=True)
    shutil.copy(SMOKE / "corpus.jsonl", folder / "corpus.jsonl")
    lines = (SMOKE / "test.jsonl").read_text(encoding="utf-8").splitlines()[:cases]
    (folder / "test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec: dict[str, Any] = {
        "name": name,
        "version": 1,
        "corpus": "corpus.jsonl",
        "test": "test.jsonl",
        "metrics": {metric: {} for metric in metrics},
    }
    if judge is not None:
        spec["judge"] = judge
    (folder / "suite.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder


def harness(tmp_path: Path, command: str, *args: str | Path, mlflow: bool = False) -> int:
    """`harness <command> ... --reports-dir <tmp>/reports [--no-mlflow]`, in this process."""
    argv = [command, *map(str, args), "--reports-dir", str(tmp_path / "reports")]
    return main(argv if mlflow else [*argv, "--no-mlflow"])


def run(tmp_path: Path, suite: Path, system: Path = RAG_GEMINI, *args: str) -> int:
    return harness(tmp_path, "run", "--suite", suite, "--system", system, *args)


def runs(tmp_path: Path) -> list[tuple[Report, list[Record]]]:
    """Every run folder under the test's reports dir, oldest first."""
    folders = sorted((tmp_path / "reports" / "runs").glob("*/run.json"))
    return [load_report(path.parent) for path in folders]


def latest(tmp_path: Path) -> tuple[Report, list[Record]]:
    return runs(tmp_path)[-1]


def generations(peer: GeminiPeer) -> list[str]:
    return [request.prompt for request in peer.log() if request.method == "generateContent"]


def question(suite: Path, row: int) -> str:
    return str(json.loads((suite / "test.jsonl").read_text(encoding="utf-8").splitlines()[row])["question"])


# ---- 1. a full bench ------------------------------------------------------------------------------------


@pytest.mark.parametrize("embeddings", [EMBED, "offline:minilm"])
def test_bench_scores_rag_and_closed_book_and_accounts_for_every_request(
    gemini: GeminiPeer, tmp_path: Path, embeddings: str
) -> None:
    suite = make_suite(tmp_path, judge={**JUDGE, "embeddings": embeddings})
    code = harness(tmp_path, "bench", "--suite", suite, "--system", RAG_GEMINI, "--system", BASE_GEMINI)
    assert code == 0
    done = {report.system["name"]: (report, records) for report, records in runs(tmp_path)}
    assert set(done) == {"rag-gemini", "base-gemini"}

    rag, rag_records = done["rag-gemini"]
    assert len(rag_records) == 5 and rag.n_errors == 0
    for record in rag_records:
        assert record.contexts, "a rag answer carries its passages"
        for metric in JUDGED:
            score = record.scores[metric]
            assert score.value is not None, f"{record.case_id} {metric}: {score.reason}"
            assert 0 <= score.value <= 1
    # The peer answers with a sentence of passage [1] and its judge checks word overlap with the context.
    assert all(record.scores["faithfulness"].value == 1.0 for record in rag_records)

    closed, closed_records = done["base-gemini"]
    assert len(closed_records) == 5 and closed.n_errors == 0
    for record in closed_records:
        assert record.contexts is None
        for metric in CONTEXT_METRICS:
            score = record.scores[metric]
            assert score.value is None and score.reason.startswith("closed-book"), (metric, score)
        for metric in ("factual_correctness", "answer_relevancy"):
            assert record.scores[metric].value is not None, (metric, record.scores[metric].reason)

    identity = f"{FLASH}@t=0+{embeddings}"
    for report in (rag, closed):
        assert report.judges == [identity]
        for metric in JUDGED:
            assert FLASH in report.summary[metric].judge and "t=0" in report.summary[metric].judge
        assert report.summary["token_f1"].judge == ""
        usage = report.usage
        assert usage["system"]["model"] == FLASH
        assert usage["system"]["input_tokens"] > 0 and usage["system"]["cost_usd"] > 0
    for metric in JUDGED:
        spent = rag.usage["metrics"][metric]
        assert spent["calls"] > 0 and spent["input_tokens"] > 0 and spent["cost_usd"] > 0, metric
    # Closed-book answers are never sent to the context metrics, so those cost nothing.
    assert set(closed.usage["metrics"]) == {"answer_relevancy", "factual_correctness"}

    # Every request the peer saw is on the runs' books, and nothing else went to a gemini: model.
    over_http = sum(
        tally["requests"]
        for report in (rag, closed)
        for line, tally in report.usage["sent"].items()
        if line.startswith("gemini:")
    )
    assert over_http == len(gemini.log()) > 0
    # In-process models (offline:minilm) make calls but send no requests.
    assert sum(report.usage["sent_total"]["requests"] for report in (rag, closed)) == over_http
    # The static report shows what the answers and scores cost.
    index = (tmp_path / "reports" / "latest" / "index.md").read_text(encoding="utf-8")
    assert index.count(" tokens, $") == 2
    assert all(request.status == 200 for request in gemini.log())
    embedded = [request for request in gemini.log() if request.method != "generateContent"]
    assert bool(embedded) == (embeddings == EMBED)


# ---- 2. the call cache ----------------------------------------------------------------------------------


def test_second_run_sends_nothing_and_no_cache_sends_again(gemini: GeminiPeer, tmp_path: Path) -> None:
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness", "answer_relevancy"), cases=3)
    assert run(tmp_path, suite) == 0
    first = generations(gemini)
    assert first

    gemini.reset()
    assert run(tmp_path, suite) == 0
    assert gemini.log() == []
    report, _ = latest(tmp_path)
    assert report.usage["sent_total"]["requests"] == 0
    assert report.cache["answers_cached"] == 3 and report.cache["scores_computed"] == 0

    gemini.reset()
    assert run(tmp_path, suite, RAG_GEMINI, "--no-cache") == 0
    assert sorted(generations(gemini)) == sorted(first)
    report, _ = latest(tmp_path)
    assert report.usage["sent_total"]["requests"] == len(gemini.log())


# ---- 3. faults on the wire ------------------------------------------------------------------------------

FAILED = f"judge call failed: {FLASH}"


@pytest.mark.parametrize(
    ("kind", "times", "attempts", "expected", "transient"),
    [
        # Two 429s, then the third attempt goes through: every case is scored.
        ("429", 2, 3, None, True),
        # As many failures as attempts: the first case is given up on, the rest are scored.
        ("500", 2, 2, f"{FAILED} server error (5xx)", True),
        ("slow", 2, 2, f"{FAILED} timed out", True),
        ("empty", 2, 2, f"{FAILED} empty reply (no candidates)", True),
        # A reply ragas cannot parse, its fix-output retries included, on every case.
        ("malformed", 1000, 2, "judge reply could not be parsed as the JSON ragas asked for", False),
    ],
)
def test_a_judge_fault_leaves_cases_unscored_with_its_reason_never_zero(
    gemini: GeminiPeer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    times: int,
    attempts: int,
    expected: str | None,
    transient: bool,
) -> None:
    # One call at a time, one case at a time: which case meets the fault, and what follows a 429, is fixed.
    limits(tmp_path, monkeypatch, **{FLASH: {"concurrency": 1, "timeout_s": 0.5, "max_attempts": attempts}})
    # Longer than the first backoff the policy would pick on its own (0.5 s +- 25%): a gap this long
    # after a 429 is the server's delay being honoured.
    gemini.retry_delay_s = 0.8
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=4)
    gemini.fail(kind, times=times, match=STATEMENTS, slow_s=1.0)
    assert run(tmp_path, suite, RAG_GEMINI, "--workers", "1") == 0

    report, records = latest(tmp_path)
    assert [record.case_id for record in records] == [f"t-000{n}" for n in range(1, 5)]
    assert report.n_errors == 0
    reasons = []
    for record in records:
        assert record.scores["token_f1"].value is not None
        score = record.scores["faithfulness"]
        if score.value is None:
            reasons.append(score.reason)
        else:
            assert score.value == 1.0, "a scored case is scored as if there had been no fault"
    if kind == "malformed":
        assert reasons == [expected] * 4
        # each case: the reply, then ragas's requests to fix its format, all malformed
        assert sum(request.fault == kind for request in gemini.log()) > 4
    elif expected is None:
        assert reasons == []
    else:
        assert reasons == [expected]
        assert records[0].scores["faithfulness"].reason == expected
    assert report.summary["faithfulness"].n_unscored == len(reasons)
    targeted = [request for request in gemini.log() if STATEMENTS in request.prompt]
    assert sum(request.fault == kind for request in gemini.log()) == min(times, len(targeted))

    if kind == "429":
        assert report.usage["sent_total"]["rate_limited"] == 2
        log = gemini.log()
        for before, after in pairwise(log):
            if before.status == 429:
                assert after.time - before.time >= 0.8, "the server's retry delay was honoured"

    # A transient failure is not cached: the next run (no fault now) scores just those cases again.
    gemini.reset()
    assert run(tmp_path, suite, RAG_GEMINI, "--workers", "1") == 0
    rerun, records = latest(tmp_path)
    judged_again = len(reasons) if transient else 0
    assert len(gemini.log()) == 2 * judged_again  # faithfulness: statements, then verdicts
    assert rerun.summary["faithfulness"].n_unscored == (0 if transient else len(reasons))


def test_a_generator_fault_records_the_error_on_its_case(
    gemini: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(tmp_path, monkeypatch, **{FLASH: {"max_attempts": 2}})
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=4)
    gemini.fail("500", times=2, match=question(suite, 1))
    assert run(tmp_path, suite) == 0

    report, records = latest(tmp_path)
    assert len(records) == 4 and report.n_errors == 1
    broken = records[1]
    assert broken.error is not None and f"{FLASH}: server error (5xx) after 2 attempts" in broken.error
    for metric in ("token_f1", "faithfulness"):
        assert broken.scores[metric].value is None
        assert broken.scores[metric].reason.startswith("no answer: ")
    assert all(record.error is None for n, record in enumerate(records) if n != 1)
    assert sum(request.status == 500 for request in gemini.log()) == 2

    # The failed answer was not cached: the next run asks for it (and judges it), and nothing else.
    gemini.reset()
    assert run(tmp_path, suite) == 0
    report, _ = latest(tmp_path)
    assert report.n_errors == 0 and report.cache["answers_computed"] == 1
    assert len(gemini.log()) == 1 + 2


def test_an_answer_lost_to_thinking_says_so_and_its_tokens_are_still_counted(
    gemini: GeminiPeer, tmp_path: Path
) -> None:
    suite = make_suite(tmp_path, metrics=("token_f1",), cases=2, judge=None)
    gemini.fail("cutoff", match=question(suite, 0))
    assert run(tmp_path, suite) == 0
    report, records = latest(tmp_path)
    assert records[0].error is not None and "MAX_TOKENS" in records[0].error
    assert "generator.max_new_tokens=1024" in records[0].error
    assert records[0].usage["completion_tokens"] == 1024  # all of it spent thinking, and billed
    assert records[1].error is None and report.usage["system"]["calls"] == 2


# ---- 4. pacing ------------------------------------------------------------------------------------------


def test_paced_under_the_servers_rate_limit(
    gemini: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 240 requests per minute is 4 per second: the peer counts in a 1 s window to keep the test short.
    gemini.rpm, gemini.window_s = 240, 1.0
    limit = 4
    paced = {"rpm": 240, "headroom": 0.05}
    limits(tmp_path, monkeypatch, **{FLASH: paced, EMBED: paced})
    suite = make_suite(tmp_path, metrics=("faithfulness", "answer_relevancy"), cases=3)
    assert run(tmp_path, suite) == 0

    assert all(request.status == 200 for request in gemini.log()), "no request was answered 429"
    for model in ("gemini-2.5-flash", "gemini-embedding-001"):
        assert 0 < gemini.max_in_window(model) <= limit, model
    # Generator and judge share the model's limiter: together they were paced, and closely.
    flash = [request.time for request in gemini.accepted("gemini-2.5-flash")]
    assert len(flash) == 3 + 3 * 2 + 3
    assert gemini.max_in_window("gemini-2.5-flash") == limit
    assert flash[-1] - flash[0] >= (len(flash) - 1) * 60 / 240
    report, records = latest(tmp_path)
    assert report.usage["sent_total"]["rate_limited"] == 0
    assert all(record.scores["faithfulness"].value == 1.0 for record in records)


# ---- 5. the key stays secret ----------------------------------------------------------------------------


def files_holding(root: Path, secret: str) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_the_key_reaches_no_file_log_or_output(
    gemini: GeminiPeer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)  # anything written relative to the working folder lands in the scan
    caplog.set_level("DEBUG")
    limits(tmp_path, monkeypatch, **{FLASH: {"max_attempts": 1}})
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=3)
    # Failures whose messages carry the key, as a careless proxy's might: the redaction must catch them.
    gemini.fail("leak", times=1, match=question(suite, 0))
    gemini.fail("leak", times=2, match=STATEMENTS)  # both cases left to judge
    assert harness(tmp_path, "run", "--suite", suite, "--system", RAG_GEMINI, mlflow=True) == 0

    _, records = latest(tmp_path)
    assert records[0].error and "server error" in records[0].error
    judge_failed = [record.scores["faithfulness"].reason.startswith(FAILED) for record in records]
    assert judge_failed == [False, True, True]
    # The MLflow store (conftest points it into tmp_path) and its artifacts were written, so the scan
    # below covers them.
    store = Path(os.environ["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
    assert store.parent == tmp_path and store.is_file()
    assert any((store.parent / "mlartifacts").rglob("records.jsonl"))
    out, err = capsys.readouterr()
    assert "MLflow" in out
    assert files_holding(tmp_path, KEY) == []
    assert KEY not in out + err
    assert KEY not in caplog.text
    assert all(KEY not in record.getMessage() for record in caplog.records)
    assert "[redacted]" in records[0].error  # the key was in the error, and was taken out
    # Tokens and cost reach MLflow as metrics; the key reaches none of its params or tags.
    from tests.mlflow_helpers import read_runs

    child = next(run for run in read_runs("judged") if run.data.tags.get("system") == "rag-gemini")
    assert child.data.metrics["usage_answers_cost_usd"] > 0 and "sent_requests" in child.data.metrics
    assert KEY not in str(child.data.params) + str(child.data.tags)


def test_a_rejected_key_is_reported_without_the_key(
    gemini: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", WRONG_KEY)
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=3)
    assert run(tmp_path, suite) == 1  # every answer failed: recorded, but not a success

    report, records = latest(tmp_path)
    assert report.n_errors == 3
    for record in records:
        assert record.error is not None
        assert "API key not valid" in record.error and "after 1 attempt " in record.error  # not retried
        assert record.scores["faithfulness"].reason.startswith("no answer: ")
    assert [request.status for request in gemini.log()] == [400] * 3
    out, err = capsys.readouterr()
    assert WRONG_KEY not in out + err
    assert files_holding(tmp_path, WRONG_KEY) == []


# ---- 6. re-scoring with another judge -------------------------------------------------------------------


def test_score_regrades_stored_answers_with_another_judge_and_the_gate_refuses_to_mix_them(
    gemini: GeminiPeer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=3)
    assert run(tmp_path, suite) == 0
    [(first, first_records)] = runs(tmp_path)
    assert main(["baseline", "--reports-dir", str(tmp_path / "reports")]) == 0

    gemini.reset()
    folder = tmp_path / "reports" / "runs" / first.run_id
    assert harness(tmp_path, "score", folder, "--metric", "faithfulness", "--judge-model", PRO) == 0
    sent = gemini.log()
    assert sent and all(request.model == "gemini-2.5-pro" for request in sent)
    assert all(STATEMENTS in request.prompt or VERDICTS in request.prompt for request in sent)
    template = (ROOT / "harness" / "prompts" / "with_context.txt").read_text(encoding="utf-8")
    assert not any(template.splitlines()[0] in request.prompt for request in sent), "no generator call"
    [_, (second, second_records)] = runs(tmp_path)
    assert second.run_id != first.run_id
    assert second.judges == [f"{PRO}@t=0+{EMBED}"] != first.judges
    assert list(second.summary) == ["faithfulness"]
    assert second.summary["faithfulness"].judge != first.summary["faithfulness"].judge
    assert [r.answer for r in second_records] == [r.answer for r in first_records]
    assert second.usage["sent_total"]["requests"] == len(sent)

    capsys.readouterr()
    gate = ["gate", "--reports-dir", str(tmp_path / "reports"), "--suites-dir", str(tmp_path / "suites")]
    assert main([*gate, "--no-mlflow"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "scores from different judges do not compare" in err


# ---- 7. dry run -----------------------------------------------------------------------------------------


def estimate_rows(out: str) -> dict[tuple[str, str], int]:
    """(model, purpose) -> calls, from the dry run's table; the total row is ("total", "")."""
    rows = {}
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == "total":
            rows["total", ""] = int(cells[1])
        elif len(cells) == 6 and cells[2].isdigit():
            rows[cells[0], cells[1]] = int(cells[2])
    return rows


def test_dry_run_sends_nothing_and_counts_only_what_is_not_cached(
    gemini: GeminiPeer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = make_suite(tmp_path)
    assert run(tmp_path, suite, RAG_GEMINI, "--dry-run") == 0
    assert gemini.log() == []
    estimated = estimate_rows(capsys.readouterr().out)
    assert estimated[FLASH, "system:rag-gemini"] == 5
    for metric in JUDGED:
        assert estimated[FLASH, f"metric:{metric}"] > 0, metric
    assert estimated[EMBED, "metric:answer_relevancy"] > 0

    assert run(tmp_path, suite) == 0
    report, _ = latest(tmp_path)
    # Judge calls per sample are fixed (context precision: one per retrieved passage, top_k of them), so
    # here the estimate is exactly what the run sent.
    for metric in JUDGED:
        assert (
            estimated[FLASH, f"metric:{metric}"]
            == report.usage["sent"][f"{FLASH} metric:{metric}"]["requests"]
        )

    capsys.readouterr()
    gemini.reset()
    assert run(tmp_path, suite, RAG_GEMINI, "--dry-run") == 0
    assert estimate_rows(capsys.readouterr().out) == {("total", ""): 0}
    assert gemini.log() == []


# ---- 8. validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "judge", "key", "expected"),
    [
        (("faithfulness",), None, True, "suite.yaml: metrics: 'faithfulness' is graded by an LLM"),
        (("faithfulness",), {"model": "mistral:large"}, True, "suite.yaml: key 'judge.model': unknown model"),
        (("token_f1",), JUDGE, False, "rag-gemini.yaml: gemini:gemini-2.5-flash needs GOOGLE_API_KEY"),
        (("faithfulness",), JUDGE, False, f"suite.yaml: the judge {FLASH} needs GOOGLE_API_KEY"),
    ],
)
def test_bad_setup_is_one_line_and_exit_2(
    gemini: GeminiPeer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    metrics: tuple[str, ...],
    judge: dict[str, Any] | None,
    key: bool,
    expected: str,
) -> None:
    if not key:
        monkeypatch.delenv("GOOGLE_API_KEY")
        monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    suite = make_suite(tmp_path, metrics=metrics, judge=judge)
    assert run(tmp_path, suite) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert expected in err and "Traceback" not in err
    assert gemini.log() == [] and not (tmp_path / "reports").exists()


def test_a_bench_runs_without_the_hosted_judge_when_it_may_not_call_it(
    gemini: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_suite(tmp_path, metrics=("token_f1", "faithfulness"), cases=3)
    make_suite(tmp_path, metrics=("token_f1",), judge=None, cases=3, name="plain")
    bench: list[str | Path] = [
        "--suites-dir",
        tmp_path / "suites",
        "--system",
        ROOT / "systems" / "rag-minilm.yaml",
    ]

    # An offline system never sends its answers to a hosted judge unless asked, key or no key.
    assert harness(tmp_path, "bench", *bench) == 0
    assert "judged: faithfulness left out: the offline profile does not call" in capsys.readouterr().err
    assert gemini.log() == []

    # Asked to, but without a key: an unnamed suite runs without its judged metrics, with a notice ...
    monkeypatch.delenv("GOOGLE_API_KEY")
    assert harness(tmp_path, "bench", *bench, "--judge") == 0
    err = capsys.readouterr().err
    assert f"judged: faithfulness left out: the judge {FLASH} needs GOOGLE_API_KEY" in err
    done = {report.suite["name"]: report for report, _ in runs(tmp_path)[-2:]}
    assert set(done) == {"judged", "plain"} and list(done["judged"].summary) == ["token_f1"]
    assert gemini.log() == []

    # ... and a suite named on the command line is an error instead.
    assert harness(tmp_path, "bench", *bench, "--judge", "--suite", "judged") == 2
    assert f"suite.yaml: the judge {FLASH} needs GOOGLE_API_KEY" in capsys.readouterr().err


# ---- 9. retrieval with a hosted encoder ----------------------------------------------------------------


def test_retrieval_can_embed_with_gemini_and_an_existing_system_keeps_its_identity(
    gemini: GeminiPeer, tmp_path: Path
) -> None:
    spec = yaml.safe_load(RAG_GEMINI.read_text(encoding="utf-8"))
    before = load_system_spec(RAG_GEMINI).hash
    spec["retriever"]["embeddings"] = "offline:minilm"  # the default, written out: the same system
    same = tmp_path / "rag-gemini-spelled-out.yaml"
    same.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert load_system_spec(same).hash == before
    spec.update(name="rag-gemini-embed", description="Gemini embeddings for retrieval")
    spec["retriever"]["embeddings"] = EMBED
    system = tmp_path / "rag-gemini-embed.yaml"
    system.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert load_system_spec(system).hash != before

    suite = make_suite(tmp_path, metrics=("token_f1", "hit_at_k"), cases=3, judge=None)
    assert run(tmp_path, suite, system) == 0
    report, records = latest(tmp_path)
    assert report.n_errors == 0 and report.summary["hit_at_k"].n_scored == 3
    embedded = [request for request in gemini.log() if request.method == "batchEmbedContents"]
    assert (
        sum(request.n_texts for request in embedded) >= 30 + 3
    )  # the smoke corpus' chunks, then 3 questions
    assert report.usage["sent"][f"{EMBED} retrieval"]["requests"] == len(embedded)

    gemini.reset()  # the chunk vectors and the answers are cached: a second run sends nothing
    assert run(tmp_path, suite, system) == 0
    assert gemini.log() == []

    spec["retriever"]["embeddings"] = "mistral:embed"  # a family the harness cannot embed with
    system.write_text(yaml.safe_dump(spec), encoding="utf-8")
    assert main(["systems", "validate", str(system)]) == 2


def test_ragas_sends_no_usage_events(
    gemini: GeminiPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ragas posts usage events unless RAGAS_DO_NOT_TRACK=true (importing harness sets it). Its sender
    swallows every error, so a blocked socket would go unnoticed: count the posts instead."""
    from ragas import _analytics

    posts: list[Any] = []
    monkeypatch.setattr(_analytics.requests, "post", lambda *args, **kwargs: posts.append(args))
    suite = make_suite(tmp_path, metrics=("faithfulness", "answer_relevancy"), cases=2)
    assert run(tmp_path, suite) == 0
    _analytics._analytics_batcher.flush()
    assert os.environ["RAGAS_DO_NOT_TRACK"] == "true" and posts == []
    # The counter does see a post when tracking is on (ragas caches its reading of the variable).
    monkeypatch.setenv("RAGAS_DO_NOT_TRACK", "false")
    _analytics.do_not_track.cache_clear()
    try:
        event = _analytics.EvaluationEvent(
            metrics=[], num_rows=1, evaluation_type="SINGLE_TURN", language="en"
        )
        _analytics.track(event)
    finally:
        _analytics.do_not_track.cache_clear()
    assert len(posts) == 1


def test_an_openai_judge_is_hosted_like_gemini(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The offline profile leaves an openai: judge out unless asked; asked to, it needs a key or a server."""
    import argparse

    from harness.cli import use_judge
    from harness.errors import InputError
    from harness.suite import load_suite
    from harness.system import load_system_spec

    judge = {"model": "openai:gpt-4o-mini", "embeddings": "offline:minilm"}
    suite = load_suite(make_suite(tmp_path, metrics=("token_f1", "faithfulness"), judge=judge, cases=2))
    offline = [load_system_spec(ROOT / "systems" / "rag-minilm.yaml")]
    args = argparse.Namespace(no_judge=False, judge=False, dry_run=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HARNESS_OPENAI_BASE_URL", raising=False)
    assert use_judge(args, suite, offline, named=False) is False
    assert "the offline profile does not call openai:gpt-4o-mini" in capsys.readouterr().err
    args.judge = True
    with pytest.raises(InputError, match="needs an API key: set OPENAI_API_KEY"):
        use_judge(args, suite, offline, named=True)
    monkeypatch.setenv("HARNESS_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # a local server takes no key
    assert use_judge(args, suite, offline, named=True) is True

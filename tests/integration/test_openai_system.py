"""openai: generators, judges and embedders through langchain-openai, against the OpenAI-protocol server of
tests/openai_server.py: cached, paced, retried and costed like gemini:, faults ending as retried successes
or failed cases with their reasons, and the key in no file."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.cli import main
from harness.llm.usage import LEDGER, spent_since
from harness.runner import answer_cases
from harness.suite import load_suite
from harness.system import Answer, load_system_spec
from tests.external_helpers import quick_smoke, run, system_file
from tests.openai_server import OpenAIServer

KEY = "sk-test-openai-0123456789abcdefghij"
PRICE = {"input": 1.0, "output": 4.0}  # dollars per million tokens, for the test model only


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    limits = tmp_path / "models.yaml"
    limits.write_text(
        "models:\n"
        f"  openai:tiny: {{rpm: 6000, timeout_s: 1, max_attempts: 3, price: {json.dumps(PRICE)}}}\n"
        "  openai:judge: {rpm: 6000, timeout_s: 5, max_attempts: 2}\n"
        "  openai:emb: {rpm: 6000, timeout_s: 5, max_attempts: 2}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("HARNESS_MODELS", str(limits))
    with OpenAIServer(api_key=KEY) as peer:
        yield peer


def openai_system(folder: Path, server: OpenAIServer, kind: str = "rag", extra: str = "") -> Path:
    retriever = "retriever: {method: bm25, top_k: 3}\n" if kind == "rag" else ""
    name = f"{kind}-openai"
    return system_file(
        folder,
        name,
        f"name: {name}\nkind: {kind}\nprofile: hosted\n{retriever}"
        f"generator: {{model: 'openai:tiny', base_url: '{server.base_url}', max_new_tokens: 64{extra}}}\n",
    )


def answers(system: Path, suite: Path) -> list[Answer]:
    found, _, _ = answer_cases(
        load_suite(suite), load_system_spec(system), Cache(enabled=False), workers=1, batch_size=20
    )
    return found


def test_rag_and_closed_book_runs_are_answered_costed_and_cached(
    tmp_path: Path, server: OpenAIServer
) -> None:
    suite, reports = quick_smoke(tmp_path), tmp_path / "reports"
    rag, base = openai_system(tmp_path, server, "rag"), openai_system(tmp_path, server, "base")
    before = LEDGER.snapshot()
    assert run(suite, rag, reports) == 0 and run(suite, base, reports) == 0
    bodies = server.completions()
    assert len(bodies) == 40 and all(
        body["model"] == "tiny" and body["max_completion_tokens"] == 64 for body in bodies
    )
    prompts = [body["messages"][0]["content"] for body in bodies]
    assert sum("[1] " in prompt for prompt in prompts) == 20  # the rag prompts carry their passages
    spent = spent_since(before)[("openai:tiny", "system:rag-openai")]
    assert spent.calls == spent.requests == 20 and spent.input_tokens > 0
    assert spent.cost_usd == pytest.approx((spent.input_tokens * 1.0 + spent.output_tokens * 4.0) / 1e6)

    runs = {}
    for folder in (reports / "runs").iterdir():
        report = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        runs[report["system"]["name"]] = (report, folder)
    report, folder = runs["rag-openai"]
    assert report["usage"]["system"]["cost_usd"] > 0
    records = [
        json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert all(record["error"] is None and record["contexts"] for record in records)
    # The server's rule answers with the first sentence of passage [1] ("title: text"): the top chunk's.
    tops = [record["contexts"][0] for record in records]
    assert all(
        f"{top['title']}: {top['text']}".startswith(r["answer"]) for top, r in zip(tops, records, strict=True)
    )
    assert all(record["contexts"] is None for record in _records(runs["base-openai"][1]))

    assert run(suite, rag, reports) == 0
    assert len(server.completions()) == 40  # the second run was answered from the cache
    for path in reports.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]


def test_faults_end_as_retried_successes_or_failed_cases_with_reasons(
    tmp_path: Path, server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite, system = quick_smoke(tmp_path), openai_system(tmp_path, server, "base")
    server.fail("429", times=2, match="slugs", retry_after_s=0.2)
    server.fail("500", times=1, match="coordinator")
    server.fail("slow", times=1, match="plot", slow_s=2.0)  # past timeout_s 1: retried
    found = answers(system, suite)
    assert all(answer.error is None and answer.text for answer in found), [a.error for a in found]
    seen = [request.fault for request in server.requests]
    assert seen.count("429") == 2 and seen.count("500") == 1 and seen.count("slow") == 1

    server.fail("400", times=1, match="slugs")
    server.fail("malformed", times=1, match="coordinator")
    errors = {answer.case_id: answer.error for answer in answers(system, suite) if answer.error}
    assert set(errors) == {"t-0001", "t-0002"}
    assert "openai:tiny: failed after 1 attempt" in errors["t-0001"] and "400" in errors["t-0001"]
    assert "JSONDecodeError" in errors["t-0002"] or "json" in errors["t-0002"].lower()

    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-0123456789abcdefghij")
    rejected = answers(system, suite)
    assert all(answer.error and "401" in answer.error for answer in rejected)
    assert all("sk-wrong-key" not in (answer.error or "") for answer in rejected)


def test_an_openai_judge_grades_a_suite(
    tmp_path: Path, server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_OPENAI_BASE_URL", server.base_url)  # the judge's server (no YAML key)
    judge = "judge: {model: 'openai:judge', embeddings: 'openai:emb'}\n"
    suite = quick_smoke(tmp_path, judge)
    text = (suite / "suite.yaml").read_text(encoding="utf-8")
    (suite / "suite.yaml").write_text(
        text.replace("metrics:\n", "metrics:\n  faithfulness: {}\n  answer_relevancy: {}\n"), encoding="utf-8"
    )
    reports = tmp_path / "reports"
    before = LEDGER.snapshot()
    assert run(suite, openai_system(tmp_path, server, "rag"), reports, "--limit", "4") == 0
    records = _records(next((reports / "runs").iterdir()))
    for name in ("faithfulness", "answer_relevancy"):
        values = [record["scores"][name]["value"] for record in records]
        assert all(value is not None for value in values), [r["scores"][name] for r in records]
    spent = spent_since(before)
    assert spent[("openai:judge", "metric:faithfulness")].calls > 0
    assert spent[("openai:emb", "metric:answer_relevancy")].calls > 0
    judged = [b for b in server.completions() if b["model"] == "judge"]
    assert judged and all(b.get("temperature", 0) == 0 for b in judged)


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        (
            "{model: 'gemini:gemini-2.5-flash', base_url: 'http://x'}",
            "key 'generator.base_url': only for openai:",
        ),
        ("{model: 'openai:tiny', concurrency: 2}", "key 'generator.concurrency': only for python: and http:"),
        ("{model: 'openai:'}", "unknown model"),
    ],
)
def test_bad_openai_keys_are_one_line_and_exit_2(
    tmp_path: Path, generator: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    system = system_file(tmp_path, "bad", f"name: bad\nkind: base\ngenerator: {generator}\n")
    assert main(["systems", "validate", str(system)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_no_key_and_no_server_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HARNESS_OPENAI_BASE_URL", raising=False)
    system = system_file(
        tmp_path, "hosted", "name: hosted\nkind: base\ngenerator: {model: 'openai:gpt-4o-mini'}\n"
    )
    assert run(quick_smoke(tmp_path), system, tmp_path / "reports") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "openai:gpt-4o-mini needs an API key: set OPENAI_API_KEY" in err[0], err


def test_dry_run_estimates_an_openai_generator_like_a_gemini_one(tmp_path: Path) -> None:
    from harness.estimate import estimate

    suite = load_suite(quick_smoke(tmp_path))
    spec = load_system_spec(
        system_file(
            tmp_path,
            "rag-openai",
            "name: rag-openai\nkind: rag\nprofile: openai\nretriever: {method: bm25, top_k: 3}\n"
            "generator: {model: 'openai:my-model', base_url: 'http://127.0.0.1:9/v1', max_new_tokens: 32}\n",
        )
    )
    cache = Cache(tmp_path / "cache")
    lines = estimate(suite, spec, cache, [], {})
    cache.close()
    assert [(line.model, line.calls, line.output_tokens) for line in lines] == [
        ("openai:my-model", len(suite.test), 32 * len(suite.test))
    ]
    assert lines[0].input_tokens > len(suite.test) * 3 * 100  # the template, three chunks and the question

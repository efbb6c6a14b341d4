"""http: systems against a real RAG service on 127.0.0.1 (tests/http_rag_server.py): the docs' example
runs on the smoke suite and compares with a python: system and a built-in one; faults end as retried
successes or failed cases with their reasons; bad setups are one line and exit 2."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cache import Cache
from harness.cli import main
from harness.llm.usage import LEDGER, spent_since
from harness.runner import answer_cases
from harness.suite import load_suite
from harness.system import Answer, load_system_spec
from tests.external_helpers import ROOT, quick_smoke, run, system_file
from tests.http_rag_server import RagService

TOKEN = "svc-token-0123456789abcdefXYZ"
EXAMPLE = ROOT / "examples" / "systems" / "http-rag.yaml"
SLUGS = "slugs"  # a word of the first smoke question only: faults aimed at that one case


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return quick_smoke(tmp_path)


@pytest.fixture
def service(suite: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RagService]:
    monkeypatch.setenv("RAG_SERVICE_TOKEN", TOKEN)
    with RagService(suite, token=TOKEN) as server:
        yield server


def example(folder: Path, service: RagService, **changes: str) -> Path:
    """The docs' http: system, pointed at this service, with some lines changed ("key: value")."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", service.url)
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    return system_file(folder, "http-rag", text)


def answers(system: Path, suite: Path) -> list[Answer]:
    spec, loaded = load_system_spec(system), load_suite(suite)
    found, _, _ = answer_cases(loaded, spec, Cache(enabled=False), workers=1, batch_size=20)
    return found


def test_python_and_http_systems_run_on_smoke_and_compare_with_a_builtin(
    tmp_path: Path, suite: Path, service: RagService, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    http = example(tmp_path, service)
    python = ROOT / "examples" / "systems" / "langchain-rag.yaml"
    builtin = system_file(
        tmp_path,
        "bm25-extractive",
        "name: bm25-extractive\nkind: rag\nretriever: {method: bm25, top_k: 3}\n"
        "generator: {model: extractive}\n",
    )
    for system in (http, python, builtin):
        assert run(suite, system, reports) == 0
    asked = [r for r in service.requests if r.path == "/ask"]
    assert len(asked) == 20 and all(r.status == 200 for r in asked)
    assert all(r.body == {"query": r.body["query"], "top_k": 3} for r in asked)  # the mapped request

    capsys.readouterr()
    assert main(["compare", "--reports-dir", str(reports), "--suites-dir", str(tmp_path), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    shown = json.dumps(verdict)
    for name in ("http-rag", "langchain-rag", "bm25-extractive"):
        assert name in shown

    runs = sorted((reports / "runs").iterdir())
    records = {}
    for folder in runs:
        report = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        records[report["system"]["name"]] = [
            json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        # The service's contexts are corpus passages: retrieval metrics score them (not all misses).
    http_records = records["http-rag"]
    assert all(record["usage"]["prompt_tokens"] > 0 for record in http_records)  # http.usage was read
    assert not any(record["error"] for record in http_records)
    hits = [record["scores"]["hit_at_k"]["value"] for record in http_records]
    assert sum(value for value in hits if value is not None) >= 10
    # The header's secret was read from the environment: no file of the runs holds it.
    for path in reports.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(encoding="utf-8", errors="replace"), path


def test_faults_end_as_retried_successes_or_failed_cases_with_reasons(
    tmp_path: Path, suite: Path, service: RagService
) -> None:
    system = example(tmp_path, service, **{"timeout_s: 30": "timeout_s: 0.5"})
    before = LEDGER.snapshot()
    service.fail("429", times=2, match=SLUGS, retry_after_s=0.3)
    service.fail("500", times=1, match="coordinator")
    service.fail("slow", times=1, match="plot", slow_s=1.5)  # past the 0.5 s timeout: retried
    start = time.monotonic()
    found = answers(system, suite)
    assert time.monotonic() - start >= 0.6  # two Retry-After waits of 0.3 s at least
    assert all(answer.error is None and answer.text for answer in found), [a.error for a in found]
    kinds = [r.fault for r in service.requests]
    assert kinds.count("429") == 2 and kinds.count("500") == 1 and kinds.count("slow") == 1
    spent = spent_since(before)[(service.url + "/ask", "system:http-rag")]
    assert spent.requests == len(service.requests) == 24  # every attempt counted
    assert spent.rate_limited == 2 and spent.calls == 20 and spent.failed == 0

    service.fail("404", times=1, match=SLUGS)
    service.fail("malformed", times=1, match="coordinator")
    found = answers(system, suite)
    errors = {answer.case_id: answer.error for answer in found if answer.error}
    assert set(errors) == {"t-0001", "t-0002"}
    assert "404" in errors["t-0001"] and "after 1 attempt" in errors["t-0001"]  # a 4xx is not retried
    assert "not JSON" in errors["t-0002"]
    assert all(TOKEN not in error for error in errors.values())


def test_a_reply_without_the_mapped_fields_fails_each_case_with_the_path(
    tmp_path: Path, suite: Path, service: RagService
) -> None:
    system = example(tmp_path, service, **{"answer: data.answer": "answer: data.reply"})
    found = answers(system, suite)
    assert all(answer.error and "no 'reply' (found: answer, sources)" in answer.error for answer in found)


def test_closed_book_http_system_reports_no_contexts(
    tmp_path: Path, suite: Path, service: RagService
) -> None:
    system = example(tmp_path, service, **{"kind: rag": "kind: base"})
    found = answers(system, suite)
    assert all(answer.error is None and answer.contexts is None for answer in found)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"Bearer ${RAG_SERVICE_TOKEN}": "Bearer abc123"},
            "key 'http.headers.Authorization': write the secret",
        ),
        ({"answer: data.answer": "answer: data..answer"}, "key 'http.answer': 'data..answer' is not a path"),
        ({"{question: query}": "{question: query, reference: ref}"}, "http.request"),
        ({"contexts: data.sources[*].text": "contexts: null"}, "key 'http.contexts': a rag system's reply"),
        ({"model: http://127.0.0.1": "model: http:ftp://127.0.0.1"}, "is not an http:// or https:// URL"),
        ({"kind: rag": "kind: rag\nretriever: {top_k: 3}"}, "key 'retriever': a http: system retrieves"),
    ],
)
def test_a_bad_http_system_is_one_line_and_exit_2(
    tmp_path: Path,
    service: RagService,
    change: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    system = example(tmp_path, service, **change)
    assert main(["systems", "validate", str(system)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(system) in err and message in err, err
    assert "abc123" not in err


def test_an_unset_header_variable_is_one_line_and_exit_2(
    tmp_path: Path,
    suite: Path,
    service: RagService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("RAG_SERVICE_TOKEN")
    assert run(suite, example(tmp_path, service), tmp_path / "reports") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: system 'http-rag': key 'http.headers.Authorization': environment variable RAG_SERVICE_TOKEN "
        "is not set"
    ]
    assert not service.requests

"""The one pipeline every system family builds (harness/systems/pipeline.py): retrieval when the spec has a
retriever, contexts and ranking from it, None for a closed-book answer, latency shared over a batch unless
the answerer times each reply; and a hosted-model system that never loads torch."""

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.suite import Case, Passage, Suite, load_suite
from harness.system import SystemSpec, build_system, load_system_spec
from harness.systems import FACTORIES, family
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.retrieval import Retriever
from harness.systems.template import fill
from tests.conftest import ROOT, SMOKE
from tests.external_helpers import quick_smoke, system_file
from tests.openai_server import OpenAIServer

KEY = "sk-test-openai-0123456789abcdefghij"


class Echo(Answerer):
    """Answers with the number of passages it was given (or "closed"), and records what it saw."""

    def __init__(self, times_itself: bool = False) -> None:
        self.times_itself = times_itself
        self.seen: list[Sequence[Sequence[Passage]] | None] = []
        self.prepared_with: Retriever | None = None

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        self.prepared_with = retriever

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        self.seen.append(contexts)
        if contexts is None:
            return [Reply(text="closed", latency_s=0.25, usage={"prompt_tokens": 3}) for _ in cases]
        return [Reply(text=str(len(found)), latency_s=0.25) for found in contexts]


def spec(retriever: bool) -> SystemSpec:
    block = {"retriever": {"method": "bm25", "top_k": 2}} if retriever else {}
    return SystemSpec.model_validate(
        {"name": "echo", "kind": "rag" if retriever else "base", "generator": {"model": "extractive"}} | block
    )


@pytest.fixture(scope="module")
def smoke() -> Suite:
    return load_suite(SMOKE)


def test_a_retrieving_pipeline_passes_passages_and_reports_contexts_and_ranking(smoke: Suite) -> None:
    echo = Echo()
    pipeline = Pipeline(spec(retriever=True), echo)
    with pytest.raises(RuntimeError, match="prepare"):
        pipeline.answer(smoke.test[:1])
    pipeline.prepare(smoke)
    assert pipeline.retriever is not None and echo.prepared_with is pipeline.retriever
    cases = list(smoke.test[:3])
    answers = pipeline.answer(cases)
    assert [a.case_id for a in answers] == [c.id for c in cases]
    assert [a.text for a in answers] == ["2", "2", "2"]
    found = pipeline.retriever.retrieve([c.question for c in cases])
    for answer, result in zip(answers, found, strict=True):
        assert answer.contexts == tuple(result.passages) and answer.ranking == result.ranking
        assert answer.latency_s != 0.25  # not the answerer's own figure: a share of the batch's time
    assert len({a.latency_s for a in answers}) == 1  # the same share for every answer of a batch


def test_a_closed_book_pipeline_answers_with_no_contexts_and_keeps_timed_latency(smoke: Suite) -> None:
    echo = Echo(times_itself=True)
    pipeline = Pipeline(spec(retriever=False), echo)
    pipeline.prepare(smoke)
    answers = pipeline.answer(list(smoke.test[:2]))
    assert pipeline.retriever is None and echo.prepared_with is None and echo.seen == [None]
    assert all(a.contexts is None and a.ranking is None for a in answers)
    assert all(a.latency_s == 0.25 and a.usage == {"prompt_tokens": 3} for a in answers)
    assert "ranking" not in answers[0].model_dump(mode="json")  # dumps as closed-book answers always did


def test_every_family_builds_a_pipeline() -> None:
    rag = load_system_spec(ROOT / "systems" / "rag-minilm.yaml")
    finetuned = load_system_spec(ROOT / "systems" / "finetuned-minilm.yaml")
    extractive = rag.model_copy(
        update={"generator": rag.generator.model_copy(update={"model": "extractive"})}
    )
    for system in (rag, finetuned, extractive):
        assert isinstance(build_system(system), Pipeline)
    assert family("python:my_rag:answer") == "python" and family("extractive") == "extractive"
    assert set(FACTORIES) >= {"extractive", "minilm", "hf", "gemini", "openai", "python", "http", "https"}


def test_fill_replaces_placeholders_and_numbers_passages() -> None:
    passages = [Passage(id="a", text="Braces {x} stay.", title="T"), Passage(id="b", text="Two.")]
    filled = fill("Q: {question}\n{context}", "why {not}?", passages)
    assert filled == "Q: why {not}?\n[1] T: Braces {x} stay.\n\n[2] Two."
    assert fill("{context}|{question}", "q") == "|q"


# Run in a fresh interpreter: this test process has long loaded torch (other tests, MiniLM).
_CHAT_ONLY = """
import json, sys
from harness.cache import Cache
from harness.suite import load_suite
from harness.system import build_system, load_system_spec
system = build_system(load_system_spec(sys.argv[1]), Cache(enabled=False))
suite = load_suite(sys.argv[2])
system.prepare(suite)
answers = system.answer(list(suite.test[:3]))
print(json.dumps({"torch": "torch" in sys.modules, "answers": [a.model_dump(mode="json") for a in answers]}))
"""


def test_a_hosted_closed_book_system_answers_without_loading_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = tmp_path / "models.yaml"
    limits.write_text(
        "models:\n  openai:tiny: {rpm: 6000, timeout_s: 5, max_attempts: 2}\n", encoding="utf-8"
    )
    suite = quick_smoke(tmp_path)
    with OpenAIServer(api_key=KEY) as server:
        system = system_file(
            tmp_path,
            "base-openai",
            "name: base-openai\nkind: base\nprofile: hosted\n"
            f"generator: {{model: 'openai:tiny', base_url: '{server.base_url}', max_new_tokens: 64}}\n",
        )
        env = {"OPENAI_API_KEY": KEY, "HARNESS_MODELS": str(limits), "HARNESS_CACHE_DIR": str(tmp_path / "c")}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        done = subprocess.run(
            [sys.executable, "-c", _CHAT_ONLY, str(system), str(suite)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    answers = found["answers"]
    assert len(answers) == 3 and all(
        a["error"] is None and a["text"] and a["contexts"] is None for a in answers
    )
    assert all(a["usage"]["prompt_tokens"] > 0 for a in answers)
    assert found["torch"] is False, "filling a prompt and asking a hosted model loaded torch"

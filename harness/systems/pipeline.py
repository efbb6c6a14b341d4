"""The pipeline system: an optional retriever feeding a reader or generator (rag, finetuned, hybrid)."""

import time
from collections.abc import Sequence
from typing import Protocol

from harness.cache import Cache
from harness.suite import Case, Passage, Suite
from harness.system import Answer, SystemSpec
from harness.systems.readers import ExtractiveReader
from harness.systems.retrieval import Retriever


class ExtractivePipeline:
    """Retrieval plus the extractive reader: the offline RAG baseline."""

    def __init__(self, spec: SystemSpec, cache: Cache | None = None) -> None:
        self.spec = spec
        self.cache = cache
        self.reader = ExtractiveReader(spec.generator.max_sentences, spec.generator.lexical_weight)
        self.retriever: Retriever | None = None

    def prepare(self, suite: Suite) -> None:
        if self.spec.retriever is not None:
            self.retriever = Retriever(self.spec.retriever, suite.corpus, self.cache)

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if self.retriever is None:
            raise RuntimeError("prepare() must run before answer()")
        return retrieve_and_read(self.retriever, self.reader, cases)


class Reader(Protocol):
    def read(self, questions: Sequence[str], contexts: Sequence[Sequence[Passage]]) -> list[str]: ...


def retrieve_and_read(retriever: Retriever, reader: Reader, cases: Sequence[Case]) -> list[Answer]:
    """Retrieve for a batch of cases, then read each case's passages into an answer."""
    start = time.perf_counter()
    questions = [case.question for case in cases]
    found = retriever.retrieve(questions)
    texts = reader.read(questions, [result.passages for result in found])
    # Cases are answered as a batch; each answer's latency is its share of the batch's wall time.
    latency = (time.perf_counter() - start) / max(len(cases), 1)
    return [
        Answer(
            case_id=case.id,
            text=text,
            contexts=tuple(result.passages),
            ranking=result.ranking,
            latency_s=latency,
        )
        for case, text, result in zip(cases, texts, found, strict=True)
    ]

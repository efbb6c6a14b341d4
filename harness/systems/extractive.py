"""`extractive`: retrieval read by the extractive reader, the offline RAG baseline with no model to train."""

from collections.abc import Sequence

from harness.cache import Cache
from harness.systems.pipeline import Answerer, Pipeline, Reply
from harness.systems.readers import ExtractiveReader, Reader
from harness.values import Case, Passage, SystemSpec


class ReaderAnswerer(Answerer):
    """Answers each case by reading its retrieved passages with a reader (extractive, or a span reader)."""

    def __init__(self, reader: Reader | None = None) -> None:
        self.reader = reader

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        if self.reader is None:
            raise RuntimeError("prepare() must run before answer()")
        if contexts is None:  # the pipeline has no retriever: there is nothing to read
            raise RuntimeError("a reader reads retrieved passages: the system has no 'retriever' block")
        texts = self.reader.read([case.question for case in cases], contexts)
        return [Reply(text=text) for text in texts]


def extractive(spec: SystemSpec, cache: Cache | None = None) -> Pipeline:
    """The factory for `generator: {model: extractive}`."""
    reader = ExtractiveReader(spec.generator.max_sentences, spec.generator.lexical_weight)
    return Pipeline(spec, ReaderAnswerer(reader), cache)

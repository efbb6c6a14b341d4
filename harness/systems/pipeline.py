"""The one system every family builds: an optional retriever, then the family's answerer.

A family (extractive, minilm, hf, chat, python, http) supplies only an `Answerer`: what it trains in
prepare(), and how it turns a batch of questions (with their retrieved passages, when the system has a
retriever) into `Reply`s. The `Pipeline` does the rest, the same way for all of them: it builds the
retriever, retrieves for the batch, turns replies into `Answer`s (contexts and ranking from the
retriever, or None for a closed-book system), and measures latency.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.cache import Cache
from harness.systems.retrieval import Retrieval, Retriever
from harness.values import Answer, Case, Passage, Suite, SystemSpec


@dataclass(frozen=True)
class Reply:
    """An answerer's reply to one case; the pipeline makes it an Answer.

    `latency_s` is read only from an answerer that times itself (`Answerer.times_itself`). `contexts` is
    read only when the system has no retriever of the harness's: a python: or http: system that
    retrieves by itself reports its passages here (None: closed-book).
    """

    text: str = ""
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    contexts: tuple[Passage, ...] | None = None


class Answerer:
    """What a family supplies. Answerers are called from the runner's threads at once: answer() must not
    keep per-batch state on the instance."""

    # True: each reply carries its own latency (a hosted call's, cached with it; a request's). False: the
    # pipeline gives each answer an equal share of its batch's wall time, retrieval included.
    times_itself = False
    training_log: dict[str, list[float]] = {}  # noqa: RUF012 (replaced, never mutated, by answerers that train)

    def retriever(self, spec: SystemSpec, suite: Suite, cache: Cache | None) -> Retriever:
        """The retriever the pipeline searches with; an answerer that tunes the encoder builds its own."""
        assert spec.retriever is not None
        return Retriever(spec.retriever, suite.corpus, cache)

    def prepare(self, suite: Suite, retriever: Retriever | None) -> None:
        """Load or train what the answerer needs (the retriever is ready to search)."""

    def answer(self, cases: Sequence[Case], contexts: Sequence[Sequence[Passage]] | None) -> list[Reply]:
        """One Reply per case, in order; `contexts` holds each case's retrieved passages, or is None."""
        raise NotImplementedError


class Pipeline:
    """A system: retrieve if the spec has a retriever, then answer."""

    def __init__(self, spec: SystemSpec, answerer: Answerer, cache: Cache | None = None) -> None:
        self.spec = spec
        self.answerer = answerer
        self.cache = cache
        self.retriever: Retriever | None = None
        self._prepared = False

    @property
    def training_log(self) -> dict[str, list[float]]:
        return self.answerer.training_log

    def prepare(self, suite: Suite) -> None:
        if self.spec.retriever is not None:
            self.retriever = self.answerer.retriever(self.spec, suite, self.cache)
        self.answerer.prepare(suite, self.retriever)
        self._prepared = True

    def answer(self, cases: Sequence[Case]) -> list[Answer]:
        if not self._prepared:
            raise RuntimeError("prepare() must run before answer()")
        start = time.perf_counter()
        found = self.retriever.retrieve([case.question for case in cases]) if self.retriever else None
        passages = [result.passages for result in found] if found is not None else None
        replies = self.answerer.answer(cases, passages)
        if len(replies) != len(cases):
            raise RuntimeError(f"the answerer gave {len(replies)} replies for {len(cases)} cases")
        # Cases are answered as a batch; unless the answerer timed each reply, each answer's latency is
        # its share of the batch's wall time.
        share = (time.perf_counter() - start) / max(len(cases), 1)
        latency = None if self.answerer.times_itself else share
        return [
            _answer(case, reply, found[row] if found is not None else None, latency)
            for row, (case, reply) in enumerate(zip(cases, replies, strict=True))
        ]


def _answer(case: Case, reply: Reply, found: Retrieval | None, latency: float | None) -> Answer:
    contexts: tuple[Passage, ...] | None
    ranking: tuple[str, ...] | None
    if found is not None:
        # The top_k chunks the answerer read, and the ranking (rank_depth documents) the retrieval
        # metrics score.
        contexts, ranking = tuple(found.passages), found.ranking
    else:
        # None marks a closed-book answer, so context metrics report "not applicable", not 0; a system
        # that retrieves by itself names its own contexts.
        contexts, ranking = reply.contexts, None
    return Answer(
        case_id=case.id,
        text=reply.text,
        contexts=contexts,
        ranking=ranking,
        latency_s=reply.latency_s if latency is None else latency,
        usage=reply.usage,
        error=reply.error,
    )

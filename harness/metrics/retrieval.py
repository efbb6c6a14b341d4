"""Retrieval quality against a case's gold ids, counted in distinct documents: hit@k, recall@k and MRR@10;
and span_hit_at_k, counted in chunks: did a chunk the generator read hold an answer span.

A document is a corpus item (Passage.source_id): its chunks count once, at the rank of its best chunk, so
k = 5 means five documents whatever the chunking. The ranking scored is the retriever's own
(`Answer.ranking`, as deep as it takes to reach the documents needed); a system that reports no ranking
(the user's own python: or http: system) is scored on the distinct documents of the contexts it returned.
"""

from typing import Any

from harness.metrics.base import MetricBase, Score
from harness.retrieval_settings import MRR_DEPTH
from harness.values import Answer, Case, Suite, chunks_holding


def corpus_documents(suite: Suite) -> int:
    """Distinct documents in a suite's corpus: a ranking that holds them all is complete, however short."""
    return len({passage.id for passage in suite.corpus})


def ranked_documents(answer: Answer) -> tuple[list[str], str]:
    """Document ids in rank order, each once, and where they came from ("ranking" or "contexts")."""
    if answer.ranking is not None:
        return list(answer.ranking), "ranking"
    seen: dict[str, None] = {}
    for passage in answer.contexts or ():
        seen.setdefault(passage.source_id, None)
    return list(seen), "contexts"


def _problem(case: Case, answer: Answer, depth: int, documents: int | None) -> str | None:
    if not case.gold_ids:
        return "no gold passages (e.g. an unanswerable question)"
    if answer.contexts is None:
        return "closed-book system: it retrieves nothing"
    # A retriever's ranking stops at its rank_depth; one shorter than the depth scored (and than the corpus)
    # would count documents it never ranked as misses.
    # An empty ranking with no contexts is a retriever that found nothing: scored 0, not excused.
    short = answer.ranking is not None and len(answer.ranking) < min(depth, documents or depth)
    if short and (answer.ranking or answer.contexts):
        return (
            f"the retriever ranked {len(answer.ranking or ())} documents, fewer than the {depth} scored "
            "(raise retriever.rank_depth)"
        )
    return None


class _DocumentMetric(MetricBase):
    """Shared by the three document metrics: `depth` documents of the ranking are scored."""

    name = ""
    version = 2  # 1 counted the generator's chunks (5 chunks, MRR cut at 5); 2 counts ranked documents

    def __init__(self, depth: int, documents: int | None = None) -> None:
        """`documents`: distinct documents in the suite's corpus (a ranking need not be longer)."""
        self.depth = depth
        self.documents = documents

    def params(self) -> dict[str, Any]:
        return {"depth": self.depth, "documents": self.documents}

    def _top(self, case: Case, answer: Answer) -> tuple[list[str], dict[str, Any]] | str:
        if problem := _problem(case, answer, self.depth, self.documents):
            return problem
        ranked, source = ranked_documents(answer)
        return ranked[: self.depth], {"k": self.depth, "unit": "documents", "ranked_from": source}


class HitAtK(_DocumentMetric):
    name = "hit_at_k"

    @property
    def description(self) -> str:
        return (
            f"1 if a gold document is among the first {self.depth} distinct documents retrieved "
            "(chunks of one document count once), else 0"
        )

    def score(self, case: Case, answer: Answer) -> Score:
        top = self._top(case, answer)
        if isinstance(top, str):
            return Score.unscored(top)
        ids, details = top
        return Score(value=float(any(gold in ids for gold in case.gold_ids)), details=details)


class RecallAtK(_DocumentMetric):
    name = "recall_at_k"

    @property
    def description(self) -> str:
        return (
            f"share of the gold documents among the first {self.depth} distinct documents retrieved "
            "(chunks of one document count once)"
        )

    def score(self, case: Case, answer: Answer) -> Score:
        top = self._top(case, answer)
        if isinstance(top, str):
            return Score.unscored(top)
        ids, details = top
        gold = set(case.gold_ids)
        return Score(value=len(gold & set(ids)) / len(gold), details=details)


class MRR(_DocumentMetric):
    """`mrr` is MRR@10 (MRR_DEPTH); `mrr_at_k` cuts at the suite's k, the depth of hit_at_k."""

    name = "mrr"

    def __init__(self, depth: int = MRR_DEPTH, documents: int | None = None, name: str = "mrr") -> None:
        super().__init__(depth, documents)
        self.name = name

    def params(self) -> dict[str, Any]:
        # `name` is listed because it always was (an instance attribute); it keeps the cache keys.
        return {**super().params(), "name": self.name}

    @property
    def description(self) -> str:
        return (
            f"MRR@{self.depth}: 1 / rank of the first gold document among the first {self.depth} distinct "
            f"documents retrieved, 0 when none is (chunks of one document count once)"
        )

    def score(self, case: Case, answer: Answer) -> Score:
        top = self._top(case, answer)
        if isinstance(top, str):
            return Score.unscored(top)
        ids, details = top
        for rank, doc_id in enumerate(ids, start=1):
            if doc_id in case.gold_ids:
                return Score(value=1.0 / rank, details={**details, "rank": rank})
        return Score(value=0.0, details={**details, "rank": None})


class SpanHitAtK(MetricBase):
    """Chunk level: 1 if one of the first k chunks the generator read holds a whole answer span.

    Gold ids say which document answers; spans say where in it, so this tells a retriever that finds the
    right document but the wrong part of it (a long document cut into chunks) from one that finds the part.
    """

    name = "span_hit_at_k"

    def __init__(self, k: int) -> None:
        self.k = k

    def params(self) -> dict[str, Any]:
        return {"k": self.k}

    @property
    def description(self) -> str:
        return (
            f"1 if one of the first {self.k} chunks handed to the generator holds a whole answer span "
            "(character offsets in a document), else 0"
        )

    def score(self, case: Case, answer: Answer) -> Score:
        if not case.answer_spans:
            return Score.unscored("no answer spans (character offsets of an answer in a document)")
        if answer.contexts is None:
            return Score.unscored("closed-book system: it retrieves nothing")
        seen = answer.contexts[: self.k]
        holding = sorted({position for span in case.answer_spans for position in chunks_holding(span, seen)})
        details = {"k": self.k, "unit": "chunks", "chunks_read": len(seen)}
        if holding:
            return Score(value=1.0, details={**details, "rank": holding[0] + 1})
        return Score(value=0.0, details={**details, "rank": None})

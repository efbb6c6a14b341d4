"""Retrieval quality against a case's gold ids: hit@k, recall@k and MRR."""

from harness.metrics.base import Score
from harness.suite import Case
from harness.system import Answer


def _retrieved_ids(answer: Answer) -> list[str]:
    """Corpus ids in retrieval order, chunks of one document counted once."""
    seen: list[str] = []
    for passage in answer.contexts or ():
        if passage.source_id not in seen:
            seen.append(passage.source_id)
    return seen


def _problem(case: Case, answer: Answer) -> str | None:
    if not case.gold_ids:
        return "no gold passages (e.g. an unanswerable question)"
    if answer.contexts is None:
        return "closed-book system: it retrieves nothing"
    return None


class HitAtK:
    name = "hit_at_k"
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, k: int) -> None:
        self.k = k

    def score(self, case: Case, answer: Answer) -> Score:
        if problem := _problem(case, answer):
            return Score.unscored(problem)
        top = _retrieved_ids(answer)[: self.k]
        return Score(value=float(any(gold in top for gold in case.gold_ids)), details={"k": self.k})


class RecallAtK:
    name = "recall_at_k"
    higher_is_better = True
    version = 1
    judge = ""

    def __init__(self, k: int) -> None:
        self.k = k

    def score(self, case: Case, answer: Answer) -> Score:
        if problem := _problem(case, answer):
            return Score.unscored(problem)
        top = set(_retrieved_ids(answer)[: self.k])
        found = sum(gold in top for gold in case.gold_ids)
        return Score(value=found / len(case.gold_ids), details={"k": self.k})


class MRR:
    name = "mrr"
    higher_is_better = True
    version = 1
    judge = ""

    def score(self, case: Case, answer: Answer) -> Score:
        if problem := _problem(case, answer):
            return Score.unscored(problem)
        for rank, doc_id in enumerate(_retrieved_ids(answer), start=1):
            if doc_id in case.gold_ids:
                return Score(value=1.0 / rank, details={"rank": rank})
        return Score(value=0.0, details={"rank": None})
